"""Reading identifiers from a response that may not have the documented shape.

The SDK builds stream chunks and, on older lines, response bodies without validation,
so a field documented as a string can hold a list or an object. The store indexes the
response model in a text column, where anything but a string fails the whole batch of
records being written, so a malformed value is dropped instead.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import field


def text_field(obj: Any, name: str) -> str | None:
    """`obj.name` when it is a string, else None."""
    value = field(obj, name)
    return value if isinstance(value, str) else None


def strings(pieces: list[Any]) -> str:
    """Streamed pieces joined; a piece that is not a string (a malformed delta) is skipped."""
    return "".join([piece for piece in pieces if isinstance(piece, str)])
