"""Integration tests of the exchange simulator over a real server."""
