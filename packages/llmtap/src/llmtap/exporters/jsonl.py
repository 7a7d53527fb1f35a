"""Appends records to a JSON Lines file, for shipping to other tools or quick `grep`s.

Each batch goes out as one unbuffered write on an O_APPEND descriptor: forked children
and other processes sharing the file append whole batches after each other, and a fork
never duplicates half-written buffered data, so the inherited descriptor stays usable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from llmtap.exporters.encoding import record_json
from llmtap.record import Record

_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)


class JSONLExporter:
    """One compact `to_dict()` object per line; the file is created owner-only."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        # Absolute now: the application may change directory before the first export.
        self.path = os.path.abspath(path)
        self._fd: int | None = None

    def export(self, records: Sequence[Record]) -> None:
        if not records:
            return
        data = "".join(record_json(record) + "\n" for record in records).encode()
        if self._fd is None:
            self._fd = os.open(self.path, _FLAGS, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def shutdown(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
