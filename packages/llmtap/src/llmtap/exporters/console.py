"""Prints one line per record, for watching calls go by while developing."""

from __future__ import annotations

import datetime as _dt
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from llmtap.record import Record

_PREVIEW_CHARS = 60
_ERROR_CHARS = 200


class ConsoleExporter:
    """Writes to `stream`, or to whatever `sys.stderr` is at write time.

    Looking `sys.stderr` up late means redirections made after setup (pytest's capture,
    `contextlib.redirect_stderr`) still apply.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def export(self, records: Sequence[Record]) -> None:
        stream = self._stream or sys.stderr
        stream.write("".join(_line(record) + "\n" for record in records))
        stream.flush()

    def shutdown(self) -> None:
        """Nothing to release: the stream belongs to the caller."""


def _line(record: Record) -> str:
    """E.g. `02:07:28.123 openai chat gpt-4o ok in=12 out=5 (cached=0) 0.412s  "Hi…"`."""
    clock = _dt.datetime.fromtimestamp(record.start_time).time().isoformat("milliseconds")
    model = record.response_model or record.request_model
    subject = " ".join(s for s in (record.provider, record.operation, model) if s)
    fields = [clock, subject or f"{record.kind} {record.name}", record.status]
    usage = record.usage
    if usage.input_tokens is not None or usage.output_tokens is not None:
        fields.append(f"in={_count(usage.input_tokens)} out={_count(usage.output_tokens)}")
        if usage.cached_input_tokens is not None:
            fields.append(f"(cached={usage.cached_input_tokens})")
    if record.duration_s is not None:
        fields.append(f"{record.duration_s:.3f}s")
    if record.time_to_first_token_s is not None:
        fields.append(f"ttft={record.time_to_first_token_s:.3f}s")
    line = " ".join(fields)
    if record.error is not None:
        return f"{line}  {record.error.type}: {_clip(record.error.message, _ERROR_CHARS)}"
    text = _output_text(record.output)
    return f'{line}  "{_clip(text, _PREVIEW_CHARS)}"' if text else line


def _count(tokens: int | None) -> str:
    return "?" if tokens is None else str(tokens)


def _output_text(messages: list[dict[str, Any]] | None) -> str:
    return " ".join(
        part["content"]
        for message in messages or ()
        for part in message.get("parts") or ()
        if part.get("type") == "text" and isinstance(part.get("content"), str)
    )


def _clip(text: str, limit: int) -> str:
    """One line, at most `limit` characters plus an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
