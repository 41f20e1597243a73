"""Use cases of the bridge: durable workflows over ports for the venues and the unit of work."""
