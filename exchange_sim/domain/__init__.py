"""Venue rules in plain Python: markets, the order book, OES accounts, statements."""
