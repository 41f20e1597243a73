"""Unit tests of service_kit."""
