"""An in-process OpenAI server that answers each request from a script.

`ScriptedOpenAI(step, step, ...)` answers the n-th HTTP request with the n-th step, so a
test can say "500, then 429, then a completion" or "time out, then a stream cut by the
network". It sits behind the SDK's own `MockTransport` (`httpx2` on openai>=3, `httpx`
below, as `fake_openai.py` picks it), so the SDK's retry loop, error mapping and stream
parsing all run for real. Every request is kept (`requests`), with the moment it arrived.

It answers like the real API: a stream carries a usage chunk, and `"usage": null` on every
other chunk, only when the request asked for it with `stream_options.include_usage`. A
request the script does not expect fails the test loudly.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import openai

SDK_MAJOR = int(openai.__version__.split(".")[0])

if SDK_MAJOR >= 3:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

__all__ = [
    "BASE_URL",
    "SDK_MAJOR",
    "WORDS",
    "ScriptedOpenAI",
    "Seen",
    "Step",
    "batch_body",
    "chat_stream",
    "completion",
    "completion_body",
    "connection_error",
    "error",
    "error_body",
    "http",
    "page",
    "rejecting_stream_options",
    "reply",
    "stream_chunk_bodies",
    "timeout",
]

BASE_URL = "https://api.openai.com/v1"
WORDS = ["Parity", " holds", " both", " ways", "."]
CREATED = 1763780000
MODEL = "gpt-4o-mini-2024-07-18"
PROMPT_TOKENS, COMPLETION_TOKENS = 9, len(WORDS)


@dataclass
class Seen:
    """One HTTP attempt as the server received it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    at: float
    """`time.perf_counter()` when the request arrived."""
    number: int
    """1 for the first request this server saw."""
    is_async: bool


Step = Callable[[Seen, Any], Any]
"""(what arrived, the http library's request) -> a response, or raise a transport error."""


class ScriptedOpenAI:
    """Answers the n-th request with the n-th step; keeps every request it saw."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[Seen] = []

    # ---- what the server saw ----------------------------------------------------------

    @property
    def attempts(self) -> int:
        return len(self.requests)

    @property
    def retry_counts(self) -> list[str | None]:
        return [r.headers.get("x-stainless-retry-count") for r in self.requests]

    @property
    def span_s(self) -> float:
        """Seconds from the first request's arrival to the last one's."""
        return self.requests[-1].at - self.requests[0].at if self.requests else 0.0

    # ---- the transport ----------------------------------------------------------------

    def handle(self, request: Any, is_async: bool = False) -> Any:
        seen = Seen(
            method=request.method,
            path=request.url.path,
            params=dict(request.url.params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=json.loads(request.content) if request.content else {},
            at=time.perf_counter(),
            number=len(self.requests) + 1,
            is_async=is_async,
        )
        self.requests.append(seen)
        if not self.steps:
            raise AssertionError(f"unscripted request #{seen.number}: {seen.method} {seen.path}")
        return self.steps.pop(0)(seen, request)

    def client(
        self,
        *,
        max_retries: int = 0,
        base_url: str = BASE_URL,
        retry_delay: float | None = None,
    ) -> openai.OpenAI:
        """A client on this server; `retry_delay` replaces the SDK's backoff (not its
        `retry-after` handling: a delay the server asks for is computed as usual)."""
        client = openai.OpenAI(
            api_key="sk-test",
            base_url=base_url,
            max_retries=max_retries,
            http_client=http.Client(transport=http.MockTransport(self.handle)),
        )
        _fixed_backoff(client, retry_delay)
        return client

    def async_client(
        self,
        *,
        max_retries: int = 0,
        base_url: str = BASE_URL,
        retry_delay: float | None = None,
    ) -> openai.AsyncOpenAI:
        async def handle(request: Any) -> Any:
            return self.handle(request, is_async=True)

        client = openai.AsyncOpenAI(
            api_key="sk-test",
            base_url=base_url,
            max_retries=max_retries,
            http_client=http.AsyncClient(transport=http.MockTransport(handle)),
        )
        _fixed_backoff(client, retry_delay)
        return client


def _fixed_backoff(client: Any, delay: float | None) -> None:
    if delay is None:
        return
    compute = client._calculate_retry_timeout

    def calculate(remaining: int, options: Any, headers: Any = None) -> float:
        asked = client._parse_retry_after_header(headers)
        return compute(remaining, options, headers) if asked else delay

    client._calculate_retry_timeout = calculate


# ---- bodies ---------------------------------------------------------------------------


def completion_body(content: str = "".join(WORDS)) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "system_fingerprint": "fp_scripted",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(),
    }


def _usage() -> dict[str, Any]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


def error_body(status: int) -> dict[str, Any]:
    return {
        "error": {
            "message": f"Scripted failure {status}.",
            "type": "invalid_request_error" if status < 500 else "server_error",
            "param": None,
            "code": f"scripted_{status}",
        }
    }


def batch_body(number: int) -> dict[str, Any]:
    return {
        "id": f"batch_{number}",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": f"file-{number}",
        "completion_window": "24h",
        "status": "completed",
        "created_at": CREATED + number,
    }


def stream_chunk_bodies(
    *, include_usage: bool, words: list[str] = WORDS, tool_call: bool = False
) -> list[dict[str, Any]]:
    """The chunks a real server sends, `"usage": null` included only when usage was asked."""

    def chunk(choices: list[dict[str, Any]], usage: Any = None) -> dict[str, Any]:
        body = {
            "id": "chatcmpl-scripted-stream",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": "fp_scripted",
            "service_tier": "default",
            "choices": choices,
        }
        if include_usage:
            body["usage"] = usage
        return body

    chunks = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])]
    chunks += [chunk([{"index": 0, "delta": {"content": w}}]) for w in words]
    finish = "stop"
    if tool_call:
        call = {"index": 0, "id": "call_1", "type": "function"}
        chunks.append(
            chunk(
                [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {**call, "function": {"name": "lookup", "arguments": ""}}
                            ]
                        },
                    }
                ]
            )
        )
        for piece in ('{"q": ', '"parity"}'):
            chunks.append(
                chunk(
                    [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [{"index": 0, "function": {"arguments": piece}}]
                            },
                        }
                    ]
                )
            )
        finish = "tool_calls"
    chunks.append(chunk([{"index": 0, "delta": {}, "finish_reason": finish}]))
    if include_usage:
        chunks.append(chunk([], _usage()))
    return chunks


# ---- steps ----------------------------------------------------------------------------


def _headers(seen: Seen, extra: Mapping[str, str] | None) -> dict[str, str]:
    return {"x-request-id": f"req_scripted_{seen.number}", **(extra or {})}


def reply(status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None) -> Step:
    def step(seen: Seen, request: Any) -> Any:
        return http.Response(status, json=body, headers=_headers(seen, headers))

    return step


def completion(content: str = "".join(WORDS)) -> Step:
    return reply(200, completion_body(content))


def error(status: int, headers: Mapping[str, str] | None = None) -> Step:
    return reply(status, error_body(status), headers)


def page(items: list[dict[str, Any]], *, has_more: bool) -> Step:
    return reply(
        200,
        {
            "object": "list",
            "data": items,
            "first_id": items[0]["id"] if items else None,
            "last_id": items[-1]["id"] if items else None,
            "has_more": has_more,
        },
    )


def chat_stream(*, tool_call: bool = False, cut_after: int | None = None) -> Step:
    """A chat SSE stream; `cut_after=n` drops the connection after n chunks."""

    def step(seen: Seen, request: Any) -> Any:
        stream_options = seen.body.get("stream_options") or {}
        chunks = stream_chunk_bodies(
            include_usage=bool(stream_options.get("include_usage")), tool_call=tool_call
        )
        events = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks]
        events.append(b"data: [DONE]\n\n")
        headers = _headers(seen, {"content-type": "text/event-stream"})
        if cut_after is None:
            return http.Response(200, headers=headers, content=b"".join(events))
        kept = events[:cut_after]

        def cut() -> Iterator[bytes]:
            yield from kept
            raise http.ReadError("connection reset by peer", request=request)

        async def acut() -> AsyncIterator[bytes]:
            for event in kept:
                yield event
            raise http.ReadError("connection reset by peer", request=request)

        return http.Response(200, headers=headers, content=acut() if seen.is_async else cut())

    return step


def rejecting_stream_options(then: Step) -> Step:
    """A server that answers 400 to any request carrying `stream_options`."""

    def step(seen: Seen, request: Any) -> Any:
        if "stream_options" in seen.body:
            body = {
                "error": {
                    "message": "Unrecognized request argument supplied: stream_options",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
            return http.Response(400, json=body, headers=_headers(seen, None))
        return then(seen, request)

    return step


def timeout() -> Step:
    def step(seen: Seen, request: Any) -> Any:
        raise http.ReadTimeout("The read operation timed out", request=request)

    return step


def connection_error() -> Step:
    def step(seen: Seen, request: Any) -> Any:
        raise http.ConnectError("[Errno 111] Connection refused", request=request)

    return step
