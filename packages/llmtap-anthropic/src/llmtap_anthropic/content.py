"""Anthropic content blocks as OpenTelemetry GenAI message parts (runs on the worker).

The same block types appear in requests (`messages[].content`, dicts or SDK objects the
caller passed back) and responses (`Message.content`), so one conversion serves both.
Media is recorded by type and size, never by its bytes; block types llmtap does not
know are kept as generic parts rather than dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llmtap.messages import (
    Message,
    Part,
    base64_size,
    blob_part,
    field,
    plain,
    text_part,
    uri_part,
)

# Blocks in which the model asks for a tool: client tools (`tool_use`), server tools
# Anthropic runs itself (`server_tool_use`: web search, code execution...) and MCP tools.
TOOL_CALLS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


def is_tool_result(kind: Any) -> bool:
    """`tool_result` (client tools) and `*_tool_result` (server and MCP tools)."""
    return isinstance(kind, str) and kind.endswith("tool_result")


def reasoning_part(thinking: str | None) -> Part:
    return {"type": "reasoning", "content": thinking}


def redacted_reasoning_part() -> Part:
    """Thinking the API returned encrypted: the part says it was there, and holds nothing."""
    return {"type": "reasoning", "content": None, "redacted": True}


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> Part:
    return {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}


def _media_part(modality: str, source: Any) -> Part:
    kind = field(source, "type")
    if kind == "base64":
        data = field(source, "data")
        size = base64_size(data) if isinstance(data, str) else None
        return blob_part(modality, field(source, "media_type"), size)
    if kind == "text":  # a plain-text document: its size, not its text
        data = field(source, "data")
        size = len(data.encode()) if isinstance(data, str) else None
        return blob_part(modality, field(source, "media_type") or "text/plain", size)
    if kind == "url":
        return uri_part(modality, field(source, "url"))
    if kind == "file":
        return {"type": "file", "modality": modality, "file_id": field(source, "file_id")}
    return {"type": modality, "content": plain(source)}


def _tool_result_response(content: Any) -> Any:
    """A client tool's result: a string as it is, blocks as parts (images by size)."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, Mapping) or not isinstance(content, Iterable):
        return plain(content)
    return content_parts(content)


def _data(value: Any) -> Any:
    """A server tool's result (search results, command output, an error) as plain data."""
    if isinstance(value, (list, tuple)):
        return [_data(item) for item in value]
    return plain(value)


def block_parts(block: Any) -> list[Part]:
    """One content block as GenAI parts (a document given as blocks yields several)."""
    kind = field(block, "type")
    if not isinstance(kind, str):  # a malformed block: its type may be any value
        return [{"type": "unknown", "content": plain(block)}]
    if kind == "text":
        return [text_part(field(block, "text") or "")]
    if kind == "thinking":
        return [reasoning_part(field(block, "thinking"))]
    if kind == "redacted_thinking":
        return [redacted_reasoning_part()]
    if kind in TOOL_CALLS:
        return [tool_call_part(field(block, "id"), field(block, "name"), field(block, "input"))]
    if is_tool_result(kind):
        content = field(block, "content")
        response = _tool_result_response(content) if kind == "tool_result" else _data(content)
        return [
            {"type": "tool_call_response", "id": field(block, "tool_use_id"), "response": response}
        ]
    if kind == "image":
        return [_media_part("image", field(block, "source"))]
    if kind == "document":
        source = field(block, "source")
        if field(source, "type") == "content":
            inner = field(source, "content")
            return [text_part(inner)] if isinstance(inner, str) else content_parts(inner)
        return [_media_part("document", source)]
    return [{"type": kind or "unknown", "content": plain(block)}]


def content_parts(content: Any) -> list[Part]:
    """Message content (a string or content blocks) as GenAI parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    if isinstance(content, Mapping) or not isinstance(content, Iterable):
        content = [content]  # one block given on its own
    parts: list[Part] = []
    for block in content:
        if isinstance(block, str):
            parts.append(text_part(block))
        else:
            parts.extend(block_parts(block))
    return parts


def input_message(message: Any) -> Message:
    """One `messages[]` entry (a dict or an SDK object); roles are kept as sent."""
    return {
        "role": field(message, "role") or "user",
        "parts": content_parts(field(message, "content")),
    }


def system_parts(system: Any) -> list[Part] | None:
    """`system` as a string or text blocks (which may carry cache_control)."""
    if system is None:
        return None
    return content_parts(system)


def tool_definitions(tools: Iterable[Any]) -> list[dict[str, Any]]:
    """Client tools as functions; server tools (web_search, bash, ...) by type, with their
    configuration as the definition."""
    result: list[dict[str, Any]] = []
    for tool in tools:
        kind = field(tool, "type")
        if kind in (None, "custom"):
            result.append(
                {
                    "type": "function",
                    "name": field(tool, "name"),
                    "description": field(tool, "description"),
                    "parameters": field(tool, "input_schema"),
                }
            )
        else:
            result.append(
                {"type": kind, "name": field(tool, "name") or kind, "definition": plain(tool)}
            )
    return result
