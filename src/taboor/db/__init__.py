"""Database access: engine, tables (SQLAlchemy Core), units of work, migrations."""
