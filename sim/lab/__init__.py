"""The lab layer: the session store (SQLite or PostgreSQL), sync, and lab commands."""
