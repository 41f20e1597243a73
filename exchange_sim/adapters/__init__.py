"""SQLite persistence and the statement signer of the exchange."""
