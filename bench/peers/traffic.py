"""Canned OpenAI and Anthropic traffic and in-process mock transports (no sockets).

Shaped as the two APIs send it: a chat completion and a Messages response with usage,
and SSE streams of N content chunks (OpenAI: a finish chunk, a usage chunk with
`choices: []`, then `[DONE]`; Anthropic: message_start with usage, content_block_start,
N text deltas, content_block_stop, message_delta with usage, message_stop). The token
counts are odd numbers (`INPUT_TOKENS`, `OUTPUT_TOKENS`) so a capture check can find
them in what a tracer exported. Imports only the standard library at module level: the
worker loads it in every contestant's venv, and the SDKs are loaded by `client()`.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

INPUT_TOKENS = 1187
OUTPUT_TOKENS = 211
CACHED_TOKENS = 1024

SYSTEM = (
    "You are a concise assistant for a logistics company. Answer in plain English, cite "
    "the relevant policy section when you can, and never invent numbers."
)
TURNS = [
    {"role": "user", "content": "What is the cut-off time for same-day dispatch from Leeds?"},
    {
        "role": "assistant",
        "content": "Orders placed before 14:00 UK time ship the same day (policy 4.2).",
    },
    {
        "role": "user",
        "content": "And if the order contains hazardous goods? Summarise the extra checks, "
        "who signs off, and how long it usually adds.",
    },
]
ANSWER = (
    "Hazardous goods follow policy 7.1: the order is held for a documentation check, the "
    "dangerous-goods safety adviser signs off the packaging and the UN labels, and the "
    "carrier must confirm ADR capacity. In practice this adds four to six working hours, "
    "so same-day dispatch applies only to orders placed before 10:00."
)
WORDS = ANSWER.split(" ")

OPENAI_REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "system", "content": SYSTEM}, *TURNS],
    "temperature": 0.2,
    "max_tokens": 512,
}
OPENAI_STREAM_OPTIONS: dict[str, Any] = {"stream_options": {"include_usage": True}}
ANTHROPIC_REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "system": SYSTEM,
    "messages": TURNS,
    "max_tokens": 512,
}

OPENAI_USAGE = {
    "prompt_tokens": INPUT_TOKENS,
    "completion_tokens": OUTPUT_TOKENS,
    "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
    "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
OPENAI_ID = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
OPENAI_MODEL = "gpt-4o-mini-2024-07-18"
ANTHROPIC_ID = "msg_01XFDUDYJgAACzvnptvVoYEL"
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"


def openai_body() -> bytes:
    return json.dumps(
        {
            "id": OPENAI_ID,
            "object": "chat.completion",
            "created": 1741569952,
            "model": OPENAI_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": ANSWER,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": OPENAI_USAGE,
            "service_tier": "default",
            "system_fingerprint": "fp_06737a9306",
        }
    ).encode()


def openai_stream_body(content_chunks: int) -> bytes:
    """`content_chunks` content chunks, a finish chunk, a usage chunk, then [DONE]."""

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        data = {
            "id": OPENAI_ID,
            "object": "chat.completion.chunk",
            "created": 1741569952,
            "model": OPENAI_MODEL,
            "service_tier": "default",
            "system_fingerprint": "fp_06737a9306",
            "choices": choices,
            "usage": usage,
        }
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    events = []
    for i in range(content_chunks):
        delta: dict[str, Any] = {"content": WORDS[i % len(WORDS)] + " "}
        if i == 0:
            delta = {"role": "assistant", "content": "", "refusal": None}
        events.append(
            chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
        )
    events.append(chunk([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    events.append(chunk([], OPENAI_USAGE))
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


def anthropic_message(text: str, output_tokens: int, stop_reason: str | None) -> dict[str, Any]:
    return {
        "id": ANTHROPIC_ID,
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": INPUT_TOKENS,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": CACHED_TOKENS,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }


def anthropic_body() -> bytes:
    return json.dumps(anthropic_message(ANSWER, OUTPUT_TOKENS, "end_turn")).encode()


def anthropic_stream_body(deltas: int) -> bytes:
    """message_start, content_block_start, `deltas` text deltas, content_block_stop,
    message_delta (stop reason and output usage), message_stop."""
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": anthropic_message("", 1, None)},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    for i in range(deltas):
        text = (" " if i else "") + WORDS[i % len(WORDS)]
        delta = {"type": "text_delta", "text": text}
        events.append({"type": "content_block_delta", "index": 0, "delta": delta})
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": OUTPUT_TOKENS},
        },
        {"type": "message_stop"},
    ]
    return b"".join(
        f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode()
        for e in events
    )


def body(provider: str, chunks: int) -> tuple[bytes, str]:
    """The response body and content type for a call (`chunks=0`: not a stream)."""
    if provider == "openai":
        data = openai_stream_body(chunks) if chunks else openai_body()
    else:
        data = anthropic_stream_body(chunks) if chunks else anthropic_body()
    return data, "text/event-stream" if chunks else "application/json"


def http_module(provider: str) -> Any:
    """The HTTP library the installed SDK is built on: httpx2 (openai 3.x, anthropic 2.x)
    or httpx (earlier majors)."""
    base_client = importlib.import_module(f"{provider}._base_client")
    return importlib.import_module("httpx2" if hasattr(base_client, "httpx2") else "httpx")


def client(provider: str, chunks: int, is_async: bool) -> Any:
    """A fresh SDK client whose every request gets the canned body, in process."""
    sdk = importlib.import_module(provider)
    http = http_module(provider)
    data, content_type = body(provider, chunks)
    headers = {"content-type": content_type, "request-id": "req_6f1c0b7e2d9a4c8b"}

    def handler(request: Any) -> Any:
        return http.Response(200, headers=headers, content=data)

    transport = http.MockTransport(handler)
    http_client = (
        http.AsyncClient(transport=transport) if is_async else http.Client(transport=transport)
    )
    if provider == "openai":
        cls = sdk.AsyncOpenAI if is_async else sdk.OpenAI
        return cls(
            api_key="sk-bench",
            base_url="https://api.openai.com/v1",
            http_client=http_client,
            max_retries=0,
        )
    cls = sdk.AsyncAnthropic if is_async else sdk.Anthropic
    return cls(api_key="sk-ant-bench", http_client=http_client, max_retries=0)
