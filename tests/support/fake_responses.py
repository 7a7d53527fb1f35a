"""An in-process Responses API server behind the SDK's own mock transport.

It answers `POST /responses` like the real API: a `Response` body, or with `stream: true`
an SSE stream of typed events (`response.created` ... `response.completed`). A test
can replace the output items or the whole event script, to show what recordings lack:
a stream cut before its terminal event, an `error` event mid-stream, built-in tool
calls, an incomplete or failed response.
"""

from __future__ import annotations

import json
from typing import Any

from support.fake_openai import FakeOpenAI

RESPONSE_ID = "resp_fake1"
MESSAGE_ID = "msg_fake1"
MODEL = "gpt-4.1-mini-2025-04-14"
WORDS = ["Tracing", " is", " on", "."]
TEXT = "".join(WORDS)
# Input counts every token, cache reads and writes included; output counts reasoning.
INPUT_TOKENS, CACHED_TOKENS, CACHE_WRITE_TOKENS = 42, 24, 8
OUTPUT_TOKENS, REASONING_TOKENS = 20, 12


def usage_body() -> dict[str, Any]:
    return {
        "input_tokens": INPUT_TOKENS,
        "input_tokens_details": {
            "cached_tokens": CACHED_TOKENS,
            "cache_write_tokens": CACHE_WRITE_TOKENS,
        },
        "output_tokens": OUTPUT_TOKENS,
        "output_tokens_details": {"reasoning_tokens": REASONING_TOKENS},
        "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
    }


def message_item(text: str = TEXT, status: str = "completed") -> dict[str, Any]:
    return {
        "id": MESSAGE_ID,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "text": text}],
    }


def response_body(
    output: list[dict[str, Any]] | None = None,
    status: str = "completed",
    usage: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1763780000,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "model": MODEL,
        "output": [message_item()] if output is None else output,
        "parallel_tool_calls": True,
        "service_tier": "default",
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "usage": usage,
        **extra,
    }


def text_events(words: list[str] = WORDS) -> list[dict[str, Any]]:
    """A message streamed word by word, up to and including `response.output_item.done`."""
    text = "".join(words)
    common = {"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0}
    empty = {"type": "output_text", "annotations": [], "text": ""}
    return [
        {"type": "response.created", "response": response_body([], "in_progress")},
        {"type": "response.in_progress", "response": response_body([], "in_progress")},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**message_item(status="in_progress"), "content": []},
        },
        {"type": "response.content_part.added", **common, "part": empty},
        *({"type": "response.output_text.delta", **common, "delta": w} for w in words),
        {"type": "response.output_text.done", **common, "text": text},
        {"type": "response.content_part.done", **common, "part": {**empty, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": message_item(text)},
    ]


def completed_event(response: dict[str, Any] | None = None) -> dict[str, Any]:
    body = response_body(usage=usage_body()) if response is None else response
    return {"type": f"response.{body['status']}", "response": body}


def error_event(nested: bool) -> dict[str, Any]:
    """The live API nests the error (the SDK then raises); the reference documents it flat."""
    error = {"type": "server_error", "code": "server_error", "message": "The model broke."}
    if nested:
        return {"type": "error", "error": {**error, "param": None}}
    return {"type": "error", "code": error["code"], "message": error["message"], "param": None}


def sse(events: list[dict[str, Any]]) -> list[bytes]:
    numbered = ({**event, "sequence_number": n} for n, event in enumerate(events))
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in numbered]


class FakeResponses(FakeOpenAI):
    """Answers the Responses API: `output` for plain calls, `events` for streams."""

    def __init__(
        self,
        output: list[dict[str, Any]] | None = None,
        events: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.output = output
        self.events = [*text_events(), completed_event()] if events is None else events

    def completion(self) -> dict[str, Any]:
        return response_body(self.output, usage=usage_body())

    def stream_events(self, body: dict[str, Any]) -> list[bytes]:
        return sse(self.events)
