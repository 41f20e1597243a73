"""Concrete implementations of the custodian's ports: SQLite storage and Ed25519 verification."""
