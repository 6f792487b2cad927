"""Storage: SQLAlchemy 2.x models, Alembic migrations, engine and transaction helpers."""
