"""What every exporter implements.

Exporters run only on the background worker thread, one batch at a time, so they need no
locking of their own. An exporter that raises is counted and logged once by the
pipeline; it never affects the caller or the other exporters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from llmtap.record import Record


@runtime_checkable
class Exporter(Protocol):
    def export(self, records: Sequence[Record]) -> None:
        """Write one batch. Raise on failure; the pipeline counts it."""

    def shutdown(self) -> None:
        """Release files and connections; called once at interpreter exit."""
