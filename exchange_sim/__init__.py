"""The exchange simulator: a spot venue with OES accounts, a market maker and signed statements."""
