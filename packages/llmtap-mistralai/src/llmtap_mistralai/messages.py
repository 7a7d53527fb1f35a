"""Mistral chat messages as GenAI messages.

Mistral's chat format is OpenAI's (roles, `tool_calls`, `tool_call_id`), so the core's
helpers do most of the work. Content differs: a message's content may be a list of
Mistral chunks, and those are read here. `thinking` chunks (Magistral's reasoning)
become `reasoning` parts; an image URL may be a plain string; audio is a bare base64
string; files are referenced by `file_id`. Messages may be dicts or SDK models, whose
unset fields hold the SDK's `Unset()` sentinel rather than None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from llmtap.messages import (
    Message,
    Part,
    base64_size,
    blob_part,
    field,
    plain,
    text_part,
    tool_call_part,
    uri_part,
)
from llmtap_mistralai.request import given


def value(obj: Any, name: str) -> Any:
    """`name` of a dict or SDK model, with the SDK's `Unset()` read as None."""
    result = field(obj, name)
    return result if given(result) else None


def thinking_text(chunk: Any) -> str:
    """The text of a `thinking` chunk: the concatenation of its inner text chunks."""
    return "".join(
        value(item, "text") or "" for item in value(chunk, "thinking") or () if _is_text(item)
    )


def _is_text(item: Any) -> bool:
    return bool(value(item, "type") == "text")


def reasoning_part(content: str) -> Part:
    return {"type": "reasoning", "content": content}


def _url(image_url: Any) -> Any:
    """An image URL is a string or an `{"url", "detail"}` object."""
    return image_url if isinstance(image_url, str) else value(image_url, "url")


def _audio_part(audio: Any) -> Part:
    """`input_audio` is a URL or a bare base64 string (sized, never stored)."""
    if isinstance(audio, str) and audio.startswith(("http://", "https://", "data:")):
        return uri_part("audio", audio)
    return blob_part("audio", None, base64_size(audio) if isinstance(audio, str) else None)


def content_part(chunk: Any) -> Part:
    """One Mistral content chunk as a GenAI part; unknown kinds are kept as they are."""
    if isinstance(chunk, str):
        return text_part(chunk)
    kind = value(chunk, "type")
    if kind == "text":
        return text_part(value(chunk, "text") or "")
    if kind == "thinking":
        return reasoning_part(thinking_text(chunk))
    if kind == "image_url":
        return uri_part("image", _url(value(chunk, "image_url")))
    if kind == "document_url":
        return uri_part("document", value(chunk, "document_url"))
    if kind == "input_audio":
        return _audio_part(value(chunk, "input_audio"))
    if kind == "file":
        return {"type": "file", "modality": "document", "file_id": value(chunk, "file_id")}
    return {"type": kind or "unknown", "content": plain(chunk)}


def content_parts(content: Any) -> list[Part]:
    if not given(content):
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []
    return [content_part(chunk) for chunk in content]


def _plain_content(content: Any) -> Any:
    """A tool result as sent: a string, or its chunks as plain data."""
    if content is None or isinstance(content, str):
        return content
    return [plain(chunk) for chunk in content]


def message(item: Any) -> Message:
    """One Mistral chat message (dict or SDK model) as a GenAI message."""
    role = value(item, "role") or "user"
    if role == "tool":
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": value(item, "tool_call_id"),
                    "response": _plain_content(value(item, "content")),
                }
            ],
        }
    parts = content_parts(value(item, "content"))
    parts.extend(tool_call_part(call) for call in value(item, "tool_calls") or ())
    return {"role": role, "parts": parts}


def messages(items: Iterable[Any] | None) -> list[Message] | None:
    if items is None:
        return None
    return [message(item) for item in items]
