"""Conversions between sandbox milliseconds and protobuf Timestamp and Duration messages."""

from __future__ import annotations

from google.protobuf import duration_pb2, timestamp_pb2


def to_timestamp(time_ms: int) -> timestamp_pb2.Timestamp:
    """Converts milliseconds since the epoch to a Timestamp."""
    seconds, milliseconds = divmod(time_ms, 1000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=milliseconds * 1_000_000)


def from_timestamp(timestamp: timestamp_pb2.Timestamp) -> int:
    """Converts a Timestamp to milliseconds since the epoch, dropping sub-millisecond parts."""
    return timestamp.seconds * 1000 + timestamp.nanos // 1_000_000


def duration_ms(duration: duration_pb2.Duration) -> int:
    """Converts a Duration to whole milliseconds."""
    return duration.seconds * 1000 + duration.nanos // 1_000_000
