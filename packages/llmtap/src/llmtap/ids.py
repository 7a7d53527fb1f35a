"""Trace and span ids in the OpenTelemetry format (32 and 16 lowercase hex digits)."""

from __future__ import annotations

import random

_random = random.Random()


def new_trace_id() -> str:
    return f"{_random.getrandbits(128):032x}"


def new_trace_and_span_id() -> tuple[str, str]:
    """Both ids for a new root record from one random draw (half the cost of two)."""
    digits = f"{_random.getrandbits(192):048x}"
    return digits[:32], digits[32:]


def new_span_id() -> str:
    return f"{_random.getrandbits(64):016x}"


def reseed() -> None:
    """Give a forked child its own id sequence (the parent's state was copied)."""
    _random.seed()
