"""Tests of the pytest plugin the sandbox installs."""
