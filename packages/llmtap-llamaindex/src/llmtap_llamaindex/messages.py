"""LlamaIndex chat messages and responses in the GenAI message shape.

A LlamaIndex `ChatMessage` holds typed blocks (text, thinking, images, tool calls) and
an `additional_kwargs` dict where LLM integrations leave provider details such as
OpenAI's `tool_calls` or a tool result's `tool_call_id`. Both are read; a tool call
present in both places is kept once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from llmtap.messages import Message, Part, field, parse_arguments, text_part, tool_call_part


def _role(message: Any) -> str:
    role = field(message, "role")
    value = getattr(role, "value", role)
    return str(value) if value else "user"


def _block_part(block: Any) -> Part | None:
    kind = getattr(block, "block_type", None)
    if kind == "text":
        text = getattr(block, "text", "") or ""
        return text_part(text) if text else None
    if kind == "thinking":
        content = getattr(block, "content", None)
        return {"type": "reasoning", "content": content} if content else None
    if kind == "tool_call":
        return {
            "type": "tool_call",
            "id": getattr(block, "tool_call_id", None),
            "name": getattr(block, "tool_name", None),
            "arguments": parse_arguments(getattr(block, "tool_kwargs", None)),
        }
    if kind in ("image", "audio", "video", "document"):
        url = getattr(block, "url", None)
        if url:
            return {"type": "uri", "modality": kind, "uri": str(url)}
        return {"type": "blob", "modality": kind, "mime_type": None, "content": None}
    return {"type": str(kind or "unknown")}


def _tool_call(call: Any) -> Part:
    """An OpenAI tool call object, or an Anthropic `tool_use` dict (name, input)."""
    if field(call, "function") is not None:
        return tool_call_part(call)
    return {
        "type": "tool_call",
        "id": field(call, "id"),
        "name": field(call, "name"),
        "arguments": parse_arguments(field(call, "input", field(call, "arguments"))),
    }


def chat_message(message: Any) -> Message:
    """One LlamaIndex `ChatMessage` (0.12 or 0.14) as a GenAI message."""
    role = _role(message)
    extra = field(message, "additional_kwargs") or {}
    if role in ("tool", "function"):
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": extra.get("tool_call_id"),
                    "name": extra.get("name"),
                    "response": field(message, "content"),
                }
            ],
        }
    parts: list[Part] = []
    calls = [_tool_call(call) for call in extra.get("tool_calls") or ()]
    # Ids are whatever the provider's reply held: only string ids are matched.
    known_ids = {call["id"] for call in calls if isinstance(call.get("id"), str)}
    blocks = field(message, "blocks")
    if blocks:
        for block in blocks:
            part = _block_part(block)
            if part is None or (part["type"] == "tool_call" and _id_in(part, known_ids)):
                continue
            parts.append(part)
    else:
        content = field(message, "content")
        if content:
            parts.append(text_part(str(content)))
    parts.extend(calls)
    return {"role": role, "parts": parts}


def _id_in(part: Part, ids: set[str]) -> bool:
    part_id = part.get("id")
    return isinstance(part_id, str) and part_id in ids


def chat_messages(messages: Iterable[Any] | None) -> list[Message] | None:
    if messages is None:
        return None
    return [chat_message(m) for m in messages]


def tool_calls_of(messages: list[Message] | None) -> list[dict[str, Any]] | None:
    """The tool calls an output asked for, as the record's `tool_calls` list."""
    calls = [
        {key: part.get(key) for key in ("id", "name", "arguments")}
        for message in messages or ()
        for part in message["parts"]
        if part.get("type") == "tool_call"
    ]
    return calls or None
