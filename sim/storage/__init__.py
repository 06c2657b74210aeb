"""Persistence: the recording format and (later) the session store."""
