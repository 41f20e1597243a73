"""The `oes` command line: supervisor, world seeding, demo and (later) the scenario runner."""
