"""Integration tests of the custodian over a real gRPC server and real SQLite."""
