"""Custody rules in plain Python: parties, the double-entry ledger, connections, allocations, statements."""
