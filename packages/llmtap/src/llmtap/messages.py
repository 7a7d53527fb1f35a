"""Messages in the OpenTelemetry GenAI shape: `{"role", "parts": [...]}`.

The OpenAI chat format is the lingua franca of LLM APIs (OpenAI, Azure, vLLM, Ollama,
LiteLLM, manual logging), so its conversion lives here, shared by every integration.
Input may be plain dicts or SDK objects; unknown part types are kept as generic parts
rather than dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Part = dict[str, Any]
Message = dict[str, Any]


def field(obj: Any, name: str, default: Any = None) -> Any:
    """Read `name` from a mapping or an object, whichever `obj` is."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def text_field(obj: Any, name: str) -> str | None:
    """`obj.name` when it is a string, else None. SDKs build stream chunks (and, on older
    lines, bodies) without validation, so a malformed one can carry a list as its model or
    id; the store's text columns take only strings, so such a value is dropped."""
    value = field(obj, name)
    return value if isinstance(value, str) else None


def joined_text(pieces: Iterable[Any]) -> str:
    """Streamed pieces joined; a piece that is not a string (a malformed delta) is skipped."""
    return "".join([piece for piece in pieces if isinstance(piece, str)])


def parse_arguments(arguments: Any) -> Any:
    """Tool-call arguments as an object when they are valid JSON, else as sent."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def text_part(content: str) -> Part:
    return {"type": "text", "content": content}


def text_message(role: str, content: str) -> Message:
    return {"role": role, "parts": [text_part(content)]}


def base64_size(data: str) -> int:
    """Bytes that base64 `data` decodes to, from its length (nothing is decoded)."""
    return len(data) * 3 // 4 - data.count("=", max(len(data) - 2, 0))


def blob_part(modality: str, mime_type: str | None, size_bytes: int | None) -> Part:
    """Binary content (audio, images, files) by type and size, never by its bytes.

    Megabytes of base64 per call would bloat the store and every export; the record
    keeps what describes the payload, and `content` stays empty.
    """
    return {
        "type": "blob",
        "modality": modality,
        "mime_type": mime_type,
        "content": None,
        "size_bytes": size_bytes,
    }


def uri_part(modality: str, uri: Any) -> Part:
    """A link to media; an inline `data:` URI becomes a sized blob placeholder."""
    if isinstance(uri, str) and uri.startswith("data:"):
        header, _, data = uri.partition(",")
        mime_type = header[5:].split(";")[0] or None
        return blob_part(modality, mime_type, base64_size(data))
    return {"type": "uri", "modality": modality, "uri": uri}


def tool_call_part(call: Any) -> Part:
    function = field(call, "function")
    if function is None:  # legacy `function_call` objects carry name/arguments directly
        function = call
    return {
        "type": "tool_call",
        "id": field(call, "id"),
        "name": field(function, "name"),
        "arguments": parse_arguments(field(function, "arguments")),
    }


def _content_parts(content: Any) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    if isinstance(content, Mapping) or not isinstance(content, Iterable):
        content = [content]  # one part given on its own
    parts: list[Part] = []
    for item in content:
        if isinstance(item, str):
            parts.append(text_part(item))
            continue
        kind = field(item, "type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(text_part(field(item, "text") or ""))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(item, "refusal")})
        elif kind == "image_url":
            parts.append(uri_part("image", field(field(item, "image_url") or {}, "url")))
        elif kind == "input_audio":
            audio = field(item, "input_audio") or {}
            data = field(audio, "data")
            size = base64_size(data) if isinstance(data, str) else None
            parts.append(blob_part("audio", f"audio/{field(audio, 'format')}", size))
        elif kind == "file":
            file = field(item, "file") or {}
            parts.append(
                {"type": "file", "modality": "document", "file_id": field(file, "file_id")}
            )
        else:
            parts.append({"type": kind or "unknown", "content": plain(item)})
    return parts


def plain(obj: Any) -> Any:
    """A JSON-ready copy of an SDK object (pydantic models have model_dump) or a mapping."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return quiet_dump(dump)
    return dict(obj) if isinstance(obj, Mapping) else obj


def quiet_dump(dump: Callable[..., Any]) -> Any:
    """`model_dump(mode="json", exclude_unset=True)` without pydantic's serializer warnings:
    a malformed object must not make pydantic warn in the host application, from llmtap's
    worker. A `model_dump` without the `warnings` argument (pydantic 1) is called without it."""
    try:
        return dump(mode="json", exclude_unset=True, warnings=False)
    except TypeError:
        return dump(mode="json", exclude_unset=True)


def chat_message(message: Any) -> Message:
    """One OpenAI-format chat message (dict or SDK object) as a GenAI message."""
    role = field(message, "role") or "user"
    if role == "tool":
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": field(message, "tool_call_id"),
                    "response": field(message, "content"),
                }
            ],
        }
    if role == "function":
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "name": field(message, "name"),
                    "response": field(message, "content"),
                }
            ],
        }
    parts = _content_parts(field(message, "content"))
    refusal = field(message, "refusal")
    if refusal:
        parts.append({"type": "refusal", "content": refusal})
    for call in field(message, "tool_calls") or ():
        parts.append(tool_call_part(call))
    function_call = field(message, "function_call")
    if function_call:
        parts.append(tool_call_part(function_call))
    result: Message = {"role": role, "parts": parts}
    name = field(message, "name")
    if name:
        result["name"] = name
    return result


def chat_messages(messages: Iterable[Any] | None) -> list[Message] | None:
    if messages is None:
        return None
    return [chat_message(m) for m in messages]


def tool_definitions(tools: Iterable[Any] | None) -> list[dict[str, Any]] | None:
    """OpenAI-format tool declarations in the GenAI tool-definition shape."""
    if tools is None:
        return None
    result = []
    for tool in tools:
        function = field(tool, "function")
        if function is None:
            result.append({"type": field(tool, "type"), "definition": plain(tool)})
            continue
        result.append(
            {
                "type": field(tool, "type") or "function",
                "name": field(function, "name"),
                "description": field(function, "description"),
                "parameters": field(function, "parameters"),
            }
        )
    return result


def input_messages(value: Any) -> list[Message] | None:
    """Accept a prompt string, OpenAI-format messages, or messages already in GenAI shape."""
    if value is None:
        return None
    if isinstance(value, str):
        return [text_message("user", value)]
    if isinstance(value, Mapping):  # one message rather than a list of them
        value = [value]
    return [dict(m) if isinstance(m, Mapping) and "parts" in m else chat_message(m) for m in value]


def output_messages(value: Any, finish_reason: str | None = None) -> list[Message] | None:
    """Accept a completion string or assistant message(s) in either shape."""
    if value is None:
        return None
    if isinstance(value, str):
        messages = [text_message("assistant", value)]
    elif isinstance(value, Mapping):
        messages = input_messages([value]) or []
    else:
        messages = input_messages(value) or []
    if finish_reason is not None:
        for message in messages:
            message.setdefault("finish_reason", finish_reason)
    return messages
