"""Records and numbers as readable terminal text: the demo's table and the CLI's lines.

Times are shown in the local time zone (the store keeps UTC), durations in ms below a
second, and a number nobody reported as `-`, never 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

_COLUMNS = ("time", "kind", "name", "status", "in", "out", "cached", "latency", "ttft", "output")


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}ms" if value < 1 else f"{value:.2f}s"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def usd(value: float | None) -> str:
    """Dollars to the micro-dollar, trailing zeros dropped; a missing cost is `unknown`."""
    return "unknown" if value is None else f"${value:.6f}".rstrip("0").rstrip(".")


def local_time(iso: str | None, with_date: bool = False) -> str:
    """`14:03:21.123` (or with the date) in local time, from the record's ISO UTC time."""
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso).astimezone()
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}"


def model_of(record: dict[str, Any]) -> str:
    return record.get("response_model") or record.get("request_model") or ""


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _preview(record: dict[str, Any], width: int) -> str:
    texts = []
    for message in record.get("output") or ():
        for part in message.get("parts", ()):
            if part.get("type") == "text":
                texts.append(part.get("content") or "")
            elif part.get("type") == "tool_call":
                texts.append(f"{part.get('name')}({part.get('arguments')})")
    error = record.get("error")
    text = " ".join(texts) if texts else (f"{error['type']}: {error['message']}" if error else "")
    return fit(" ".join(text.split()), width)


def record_row(record: dict[str, Any]) -> tuple[str, ...]:
    usage = record.get("usage") or {}
    name = record.get("name") or ""
    if record.get("response_model") and record.get("kind") == "generation":
        name = f"{record.get('operation')} {record['response_model']}"
    depth = "  " if record.get("parent_id") else ""
    return (
        local_time(record.get("start_time")),
        record.get("kind") or "",
        depth + name + (" (stream)" if record.get("stream") else ""),
        record.get("status") or "",
        count(usage.get("input_tokens")),
        count(usage.get("output_tokens")),
        count(usage.get("cached_input_tokens")),
        seconds(record.get("duration_s")),
        seconds(record.get("time_to_first_token_s")),
        _preview(record, 48),
    )


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()
) -> list[str]:
    """Aligned columns under a rule; the columns numbered in `right` are right-aligned."""
    all_rows = [headers, *rows]
    widths = [max(len(row[i]) for row in all_rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def render(records: Sequence[dict[str, Any]]) -> str:
    return "\n".join(table(_COLUMNS, [record_row(r) for r in records]))
