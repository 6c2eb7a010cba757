"""Persistence: SQLAlchemy tables, Alembic migrations, engine set-up and the artifact store."""
