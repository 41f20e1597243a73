"""Use cases of the venue: one unit of work per command, the in-memory book kept in step with SQLite."""
