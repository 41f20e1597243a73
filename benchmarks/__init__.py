"""Throughput and latency measurements; never part of the test run's pass or fail."""
