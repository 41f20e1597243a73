"""Unit tests of the scenarios package."""
