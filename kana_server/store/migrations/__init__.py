"""Alembic migrations of kana-server's database: env.py, and one file per revision in versions/."""
