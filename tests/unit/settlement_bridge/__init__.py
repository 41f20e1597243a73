"""Unit tests of the settlement bridge: domain rules and service-layer workflows."""
