"""Records as a readable terminal table (used by `llmtap demo`, and the CLI later)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_COLUMNS = ("time", "kind", "name", "status", "in", "out", "cached", "latency", "ttft", "output")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}ms" if value < 1 else f"{value:.2f}s"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


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
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def record_row(record: dict[str, Any]) -> tuple[str, ...]:
    usage = record.get("usage") or {}
    name = record.get("name") or ""
    if record.get("response_model") and record.get("kind") == "generation":
        name = f"{record.get('operation')} {record['response_model']}"
    depth = "  " if record.get("parent_id") else ""
    return (
        (record.get("start_time") or "")[11:23],
        record.get("kind") or "",
        depth + name + (" (stream)" if record.get("stream") else ""),
        record.get("status") or "",
        _count(usage.get("input_tokens")),
        _count(usage.get("output_tokens")),
        _count(usage.get("cached_input_tokens")),
        _seconds(record.get("duration_s")),
        _seconds(record.get("time_to_first_token_s")),
        _preview(record, 48),
    )


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()


def render(records: Sequence[dict[str, Any]]) -> str:
    rows = [_COLUMNS, *(record_row(r) for r in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = [_line(row, widths) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
