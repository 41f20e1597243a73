"""The settlement bridge: the off-exchange settlement network between custodian and exchanges."""
