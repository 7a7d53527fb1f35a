"""Faults inside llmtap are logged once per place and counted, never raised.

Every hook that runs inside the host application's call goes through `guarded` or
`report_fault`, so a response shape llmtap does not understand, a full disk or a buggy
exporter can never change what the caller sees.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

logger = logging.getLogger("llmtap")

_lock = threading.Lock()
_counts: Counter[str] = Counter()


def report_fault(where: str, exc: BaseException) -> None:
    """Count a fault at `where`; log it (with traceback) the first time only."""
    with _lock:
        _counts[where] += 1
        first = _counts[where] == 1
    if first:
        logger.warning(
            "llmtap: internal fault in %s (%s: %s); the call was not affected. "
            "Further faults here are counted in llmtap.stats() but not logged.",
            where,
            type(exc).__name__,
            exc,
            exc_info=exc,
        )


def fault_counts() -> dict[str, int]:
    with _lock:
        return dict(_counts)


def reset_faults() -> None:
    with _lock:
        _counts.clear()
