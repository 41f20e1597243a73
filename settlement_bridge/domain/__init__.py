"""Rules of the settlement network as plain Python: names, transfer workflows, settlement cycles."""
