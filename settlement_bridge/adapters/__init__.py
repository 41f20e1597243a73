"""Concrete ports: SQLite persistence and gRPC clients of the custodian and the exchanges."""
