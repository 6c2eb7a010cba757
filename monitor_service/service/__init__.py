"""Service operations on the store: one module per resource, each a set of plain functions.

Functions take a SQLAlchemy `Session` (and a `now` where time matters) as keyword arguments
and never commit: the caller (an API request, a scheduler tick) owns the transaction.
"""
