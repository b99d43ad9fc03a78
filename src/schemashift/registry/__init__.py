"""The versioning service over a small Store protocol (SQLite default, PostgreSQL)."""
