"""A finished `Message` (or `BetaMessage`, `ParsedMessage`) mapped onto the record."""

from __future__ import annotations

from typing import Any

from llmtap.messages import Part, field, text_field
from llmtap.record import Record
from llmtap.usage import from_anthropic_format, raw_usage
from llmtap_anthropic.content import content_parts
from llmtap_anthropic.request import MessagesRequest


def apply_output(
    record: Record,
    parts: list[Part],
    stop_reason: str | None,
    stop_sequence: Any,
    usage: dict[str, Any] | None,
) -> None:
    """The one assistant message, its tool calls, finish reason and usage."""
    record.output = [{"role": "assistant", "parts": parts, "finish_reason": stop_reason}]
    record.tool_calls = [p for p in parts if p["type"] == "tool_call"] or None
    record.finish_reason = stop_reason
    if stop_reason == "stop_sequence" and stop_sequence is not None:
        record.metadata["anthropic.stop_sequence"] = stop_sequence
    record.usage = from_anthropic_format(usage)
    record.provider_usage = usage


def resolve_message(request: MessagesRequest, message: Any, record: Record) -> None:
    request.apply(record)
    record.response_id = text_field(message, "id")
    record.response_model = text_field(message, "model")
    apply_output(
        record,
        content_parts(field(message, "content")),
        field(message, "stop_reason"),
        field(message, "stop_sequence"),
        raw_usage(field(message, "usage")),
    )
