"""What the terminal can show: colours, width, and a progress bar on stderr.

Colour and the progress bar are for people watching a terminal; a pipe or a file gets
plain text, so scripts and `grep` never see escape codes. NO_COLOR (no-color.org) wins.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1"}
_STATUS_COLOURS = {"ok": "green", "error": "red", "incomplete": "yellow"}


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def wants_colour(stream: TextIO) -> bool:
    return is_terminal(stream) and not os.environ.get("NO_COLOR")


def width(default: int = 120) -> int:
    return shutil.get_terminal_size((default, 24)).columns


class Paint:
    """ANSI styling that is a no-op when colour is off, so callers never branch on it."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_CODES[style]}m{text}\x1b[0m"

    def status(self, status: str, text: str | None = None) -> str:
        colour = _STATUS_COLOURS.get(status)
        shown = status if text is None else text
        return self(shown, colour) if colour else shown


class Progress:
    """`done/total` as a bar on stderr, redrawn at most 10 times a second; silent off a TTY."""

    def __init__(self, stream: TextIO, total: int, label: str, minimum: int = 1000) -> None:
        self._stream = stream
        self._total = total
        self._label = label
        self._enabled = total >= minimum and is_terminal(stream)
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._drawn < 0.1 and done < self._total:
            return
        self._drawn = now
        fraction = min(done / self._total, 1.0)
        cells = 30
        bar = "#" * int(fraction * cells)
        self._stream.write(
            f"\r{self._label} [{bar:<{cells}}] {fraction:4.0%} "
            f"{done:,}/{self._total:,} records  {now - self._started:.1f}s"
        )
        self._stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """End the bar's line, also on an error, so a message after it starts clean."""
        if self._enabled and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
