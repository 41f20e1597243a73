"""Use cases of the custodian, written against ports; the entrypoints call them inside a unit of work."""
