"""Unit tests of the exchange simulator."""
