"""SQL persistence: tables, migrations, repositories, unit of work (SQLite and PostgreSQL)."""
