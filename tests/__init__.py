"""Tests of the OES sandbox."""
