"""SQL persistence: tables, migrations, repositories and the unit of work (SQLite and PostgreSQL)."""
