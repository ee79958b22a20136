"""Persistence: the only package that knows SQL. SQLite (WAL) by default, PostgreSQL by URL."""
