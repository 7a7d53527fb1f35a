"""LiteLLM's requests and responses as GenAI messages.

LiteLLM speaks the OpenAI formats whatever the provider, so the core's OpenAI-chat
helpers do most of the work. What LiteLLM adds is kept: Anthropic thinking arrives as
`reasoning_content`/`thinking_blocks` on the message and becomes `reasoning` parts.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import (
    Message,
    Part,
    chat_message,
    field,
    input_messages,
    parse_arguments,
    plain,
    text_message,
    text_part,
)


def chat_input(messages: Any) -> tuple[list[Message] | None, list[Part] | None]:
    """(input messages, system instructions) from OpenAI-format messages."""
    converted = input_messages(messages)
    if not converted:
        return converted, None
    system = [
        part
        for message in converted
        if message.get("role") == "system"
        for part in message.get("parts", ())
    ]
    return converted, system or None


def chat_output(response: Any) -> list[Message] | None:
    """One assistant message per choice, thinking first, with its finish reason."""
    choices = field(response, "choices")
    if not choices:
        return None
    messages = []
    for choice in choices:
        message = field(choice, "message")
        if message is None:  # a text-completion choice
            converted = text_message("assistant", field(choice, "text") or "")
        else:
            converted = chat_message(message)
            converted["role"] = field(message, "role") or "assistant"
            thinking = _reasoning_parts(message)
            if thinking:
                converted["parts"] = thinking + converted["parts"]
        finish = field(choice, "finish_reason")
        if finish is not None:
            converted["finish_reason"] = finish
        messages.append(converted)
    return messages


def _reasoning_parts(message: Any) -> list[Part]:
    blocks = field(message, "thinking_blocks") or ()
    parts: list[Part] = []
    for block in blocks:
        if field(block, "type") == "redacted_thinking":
            parts.append({"type": "reasoning", "content": None, "redacted": True})
        elif field(block, "thinking"):
            parts.append({"type": "reasoning", "content": field(block, "thinking")})
    if not parts:
        text = field(message, "reasoning_content")
        if isinstance(text, str) and text:
            parts.append({"type": "reasoning", "content": text})
    return parts


def tool_calls_of(messages: list[Message] | None) -> list[Part] | None:
    calls = [
        part
        for message in messages or ()
        for part in message.get("parts", ())
        if part.get("type") == "tool_call"
    ]
    return calls or None


def text_completion_input(prompt: Any) -> list[Message] | None:
    if isinstance(prompt, str):
        return [text_message("user", prompt)]
    if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        return [text_message("user", p) for p in prompt]
    return None  # token-id prompts carry no text to show


def embedding_input(value: Any) -> list[Message] | None:
    if isinstance(value, str):
        return [text_message("user", value)]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [{"role": "user", "parts": [text_part(v) for v in value]}]
    return None


def responses_input(value: Any, instructions: Any) -> list[Message] | None:
    messages: list[Message] = []
    if isinstance(instructions, str):
        messages.append(text_message("system", instructions))
    if isinstance(value, str):
        messages.append(text_message("user", value))
    elif isinstance(value, list):
        messages.extend(_responses_item(item) for item in value)
    return messages or None


def responses_output(response: Any) -> list[Message] | None:
    """The output items of a Responses API result, merged into one assistant message."""
    items = field(response, "output")
    if not items:
        return None
    parts = [part for item in items for part in _item_parts(item)]
    message: Message = {"role": "assistant", "parts": parts}
    status = field(response, "status")
    if status is not None:
        message["finish_reason"] = status
    return [message]


def _responses_item(item: Any) -> Message:
    kind = field(item, "type")
    if kind in (None, "message"):
        role = field(item, "role") or "user"
        return {"role": role, "parts": _content_parts(field(item, "content"))}
    if kind == "function_call_output":
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": field(item, "call_id"),
                    "response": field(item, "output"),
                }
            ],
        }
    return {"role": "assistant", "parts": _item_parts(item)}


def _item_parts(item: Any) -> list[Part]:
    kind = field(item, "type")
    if kind == "message":
        return _content_parts(field(item, "content"))
    if kind == "function_call":
        return [
            {
                "type": "tool_call",
                "id": field(item, "call_id"),
                "name": field(item, "name"),
                "arguments": parse_arguments(field(item, "arguments")),
            }
        ]
    if kind == "reasoning":
        summary = "".join(field(s, "text") or "" for s in field(item, "summary") or ())
        return [{"type": "reasoning", "content": summary or None}]
    return [{"type": kind or "unknown", "content": plain(item)}]


def _content_parts(content: Any) -> list[Part]:
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[Part] = []
    for part in content or ():
        kind = field(part, "type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(text_part(field(part, "text") or ""))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(part, "refusal")})
        else:
            parts.append({"type": kind or "unknown", "content": plain(part)})
    return parts
