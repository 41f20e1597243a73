"""Building blocks every sandbox service stands on; imports no service."""
