"""LangChain messages in the GenAI shape: `{"role", "parts": [...]}` (runs on the worker).

A LangChain message's content is a string or a list of content blocks, and blocks come
in several dialects: OpenAI's (`image_url`), Anthropic's (`thinking`, `tool_use`,
`tool_result`, `image` with a `source`) and LangChain's own standard blocks (`image`
with `url`/`base64`, `reasoning`, `tool_call`). Tool calls are read from `tool_calls`,
LangChain's parsed, provider-neutral list, so blocks that repeat them are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from llmtap.messages import base64_size, blob_part, chat_message, text_part, uri_part

Part = dict[str, Any]
Message = dict[str, Any]

_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "developer": "developer",
}
# Blocks that repeat what `tool_calls` holds, or stream fragments of it.
_TOOL_CALL_BLOCKS = frozenset(
    {"tool_use", "tool_call", "tool_call_chunk", "function_call", "input_json_delta"}
)
_MEDIA = {"image": "image", "audio": "audio", "video": "video", "file": "document"}


def role_of(message: Any) -> str:
    kind = str(getattr(message, "type", "") or "")
    if kind in ("chat", "ChatMessageChunk"):
        return str(getattr(message, "role", None) or "user")
    base = kind[: -len("MessageChunk")].lower() if kind.endswith("MessageChunk") else kind
    if base == "system":
        extra = getattr(message, "additional_kwargs", None) or {}
        if extra.get("__openai_role__") == "developer":
            return "developer"
    return _ROLES.get(base, base or "user")


def input_messages(
    messages: Sequence[Any],
) -> tuple[list[Message], list[Part] | None]:
    """A prompt's messages, and the system messages' parts as system instructions."""
    conversation: list[Message] = []
    instructions: list[Part] = []
    for message in messages:
        converted = to_genai(message)
        if converted["role"] in ("system", "developer"):
            instructions.extend(converted["parts"])
        else:
            conversation.append(converted)
    return conversation, instructions or None


def to_genai(message: Any) -> Message:
    """One LangChain message (or a `(role, content)` pair already turned into one)."""
    role = role_of(message)
    content = getattr(message, "content", None)
    if role == "tool":
        response = content if isinstance(content, str) else content_parts(content, role)
        part: Part = {"type": "tool_call_response", "response": response}
        call_id = getattr(message, "tool_call_id", None)
        if call_id is not None:
            part["id"] = call_id
        name = getattr(message, "name", None)
        if name:
            part["name"] = name
        return {"role": "tool", "parts": [part]}
    parts = content_parts(content, role)
    if role == "assistant":
        parts.extend(tool_call_parts(message))
    result: Message = {"role": role, "parts": parts}
    name = getattr(message, "name", None)
    if name:
        result["name"] = name
    return result


def tool_call_parts(message: Any) -> list[Part]:
    parts = [
        {
            "type": "tool_call",
            "id": call.get("id"),
            "name": call.get("name"),
            "arguments": call.get("args"),
        }
        for call in getattr(message, "tool_calls", None) or ()
    ]
    # Calls the model made but whose arguments were not valid JSON: kept as sent.
    parts.extend(
        {
            "type": "tool_call",
            "id": call.get("id"),
            "name": call.get("name"),
            "arguments": call.get("args"),
            "invalid": True,
        }
        for call in getattr(message, "invalid_tool_calls", None) or ()
    )
    return parts


def content_parts(content: Any, role: str) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []
    if isinstance(content, Mapping) or not isinstance(content, Iterable):
        content = [content]
    parts: list[Part] = []
    for block in content:
        if isinstance(block, str):
            if block:
                parts.append(text_part(block))
        elif isinstance(block, Mapping):
            parts.extend(_block_parts(block, role))
    return parts


def _block_parts(block: Mapping[str, Any], role: str) -> list[Part]:
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        return [text_part(text)] if text else []
    if kind == "thinking":
        return [{"type": "reasoning", "content": block.get("thinking")}]
    if kind == "redacted_thinking":
        return [{"type": "reasoning", "content": None, "redacted": True}]
    if kind == "reasoning":
        return [{"type": "reasoning", "content": _reasoning_text(block)}]
    if kind in _TOOL_CALL_BLOCKS:
        # Assistant tool calls come from `tool_calls`; elsewhere keep the call itself.
        if role == "assistant":
            return []
        return [
            {
                "type": "tool_call",
                "id": block.get("id"),
                "name": block.get("name"),
                "arguments": block.get("input", block.get("args")),
            }
        ]
    if kind == "tool_result":
        return [
            {
                "type": "tool_call_response",
                "id": block.get("tool_use_id"),
                "response": block.get("content"),
            }
        ]
    if kind in _MEDIA:
        return [_media_part(_MEDIA[str(kind)], block)]
    parts: list[Part] = chat_message({"role": role, "content": [block]})["parts"]
    return parts


def _reasoning_text(block: Mapping[str, Any]) -> str | None:
    text = block.get("reasoning")
    if isinstance(text, str):
        return text
    summary = block.get("summary")
    if isinstance(summary, list):
        pieces = [item.get("text") for item in summary if isinstance(item, Mapping)]
        return "".join(piece for piece in pieces if isinstance(piece, str)) or None
    return None


def _media_part(modality: str, block: Mapping[str, Any]) -> Part:
    """LangChain standard blocks (`url` / `base64` / `source_type`) and Anthropic's
    `source` blocks; inline data is described by type and size, never copied."""
    source = block.get("source")
    if isinstance(source, Mapping):  # Anthropic: {"type": "base64"|"url", ...}
        if source.get("type") == "url":
            return uri_part(modality, source.get("url"))
        data = source.get("data")
        size = base64_size(data) if isinstance(data, str) else None
        return blob_part(modality, source.get("media_type"), size)
    mime_type = block.get("mime_type")
    url = block.get("url")
    if url is None and block.get("source_type") == "url":
        url = block.get("data")
    if isinstance(url, str):
        return uri_part(modality, url)
    data = block.get("base64")
    if data is None and block.get("source_type") == "base64":
        data = block.get("data")
    if isinstance(data, str):
        return blob_part(modality, mime_type, base64_size(data))
    file_id = block.get("file_id") or block.get("id")
    return {"type": "file", "modality": modality, "file_id": file_id, "mime_type": mime_type}


def output_message(message: Any, finish_reason: str | None) -> Message:
    converted = to_genai(message)
    converted["role"] = "assistant"
    converted["finish_reason"] = finish_reason
    return converted
