"""Integration tests of the settlement bridge against real custodian and exchange servers."""
