"""Keeps records in memory, for tests and notebooks that inspect what was traced."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from llmtap.record import Record


class MemoryExporter:
    """Collects records; safe to read and clear from any thread while the worker exports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[Record] = []

    @property
    def records(self) -> list[Record]:
        """A snapshot, in export order: later exports do not change a list already read."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def export(self, records: Sequence[Record]) -> None:
        with self._lock:
            self._records.extend(records)

    def shutdown(self) -> None:
        """Nothing to release; the records stay readable after shutdown."""
