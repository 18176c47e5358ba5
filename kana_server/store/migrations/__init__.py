"""Alembic migrations of kana-server's database (D60): env.py, and one file per revision in versions/."""
