"""Pure-Python core: profiles, sketches, constraints, drift methods and checks.

Nothing in this package imports Spark, FastAPI, SQLAlchemy or plotting libraries, so the same
logic serves the Spark jobs, the service and the tests (tests/unit/test_core_purity.py checks).
"""
