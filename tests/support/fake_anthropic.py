"""An in-process Anthropic Messages API behind the SDK's own mock transport.

It answers `POST /v1/messages` (and `?beta=true`) like the real API: a `Message` body,
or with `stream: true` the SSE events `message_start` ... `message_stop` (with a `ping`,
which the SDK drops). A test can replace the message, the event script or the status,
to show what recordings lack: cache writes split by TTL, usage only in message_delta,
a stream cut before `message_stop`, an `error` event mid-stream, a 429 or a 529.
`httpx2` serves anthropic>=1.0 and `httpx` serves 0.x (the SDK rejects the other one).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import anthropic

SDK_MAJOR = int(anthropic.__version__.split(".")[0])

if SDK_MAJOR >= 1:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

__all__ = [
    "BASE_URL",
    "CACHE_READ",
    "CACHE_WRITE",
    "INPUT_TOKENS",
    "MESSAGE_ID",
    "MODEL",
    "OUTPUT_TOKENS",
    "OVERLOADED_ERROR",
    "SDK_MAJOR",
    "TEXT",
    "TOTAL_INPUT",
    "WORDS",
    "FakeAnthropic",
    "block_start",
    "block_stop",
    "delta",
    "error_body",
    "fit",
    "http",
    "message_body",
    "message_delta",
    "message_start",
    "sse",
    "text_events",
    "usage_body",
]

BASE_URL = "https://api.anthropic.com"
MODEL = "claude-sonnet-4-6"
MESSAGE_ID = "msg_fake1"
WORDS = ["Tracing", " is", " on", "."]
TEXT = "".join(WORDS)
# Anthropic's input_tokens excludes the cache; llmtap's input is the sum of all three.
INPUT_TOKENS, CACHE_READ, CACHE_WRITE, OUTPUT_TOKENS = 11, 24, 8, 6
TOTAL_INPUT = INPUT_TOKENS + CACHE_READ + CACHE_WRITE


def usage_body(output_tokens: int = OUTPUT_TOKENS) -> dict[str, Any]:
    return {
        "input_tokens": INPUT_TOKENS,
        "cache_creation_input_tokens": CACHE_WRITE,
        "cache_read_input_tokens": CACHE_READ,
        "cache_creation": {"ephemeral_5m_input_tokens": 5, "ephemeral_1h_input_tokens": 3},
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def message_body(
    content: list[dict[str, Any]] | None = None,
    stop_reason: str | None = "end_turn",
    usage: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": TEXT}] if content is None else content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage_body() if usage is None else usage,
        **extra,
    }


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, **payload: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": payload}


def block_stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def message_start(usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """The start event; its output count is a placeholder, as the API sends it."""
    message = message_body([], None, usage_body(output_tokens=1) if usage is None else usage)
    return {"type": "message_start", "message": message}


def message_delta(
    stop_reason: str = "end_turn", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": OUTPUT_TOKENS} if usage is None else usage,
    }


def text_events(words: list[str] = WORDS) -> list[dict[str, Any]]:
    """A whole text answer, streamed word by word, message_start to message_stop."""
    return [
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        {"type": "ping"},
        *(delta(0, type="text_delta", text=w) for w in words),
        block_stop(0),
        message_delta(),
        {"type": "message_stop"},
    ]


def sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}


class FakeAnthropic:
    """Answers Messages requests: `message` for plain calls, `events` for streams,
    or `status` with an error body. Keeps every request body and URL it saw."""

    def __init__(
        self,
        message: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None,
        status: int = 200,
        error: tuple[str, str] = ("invalid_request_error", "bad request"),
    ) -> None:
        self.message = message_body() if message is None else message
        self.events = text_events() if events is None else events
        self.status = status
        self.error = error
        self.requests: list[dict[str, Any]] = []
        self.urls: list[str] = []

    def handle(self, request: Any) -> Any:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        self.urls.append(str(request.url))
        if self.status >= 400:
            return http.Response(self.status, json=error_body(*self.error))
        if not body.get("stream"):
            return http.Response(200, json=self.message)
        return http.Response(
            200, headers={"content-type": "text/event-stream"}, content=sse(self.events)
        )

    def options(self, is_async: bool = False) -> dict[str, Any]:
        """Client options that send every request here."""
        if not is_async:
            return {"http_client": http.Client(transport=http.MockTransport(self.handle))}

        async def handle(request: Any) -> Any:
            return self.handle(request)

        return {"http_client": http.AsyncClient(transport=http.MockTransport(handle))}

    def client(self, **options: Any) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key="sk-ant-test", base_url=BASE_URL, max_retries=0, **self.options(), **options
        )

    def async_client(self, **options: Any) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key="sk-ant-test",
            base_url=BASE_URL,
            max_retries=0,
            **self.options(is_async=True),
            **options,
        )


def fit(method: Any, request: dict[str, Any]) -> dict[str, Any]:
    """`request` as `method` takes it: parameters an older SDK line does not name (such as
    `thinking` or `service_tier` before they were added) go through `extra_body`, as a
    caller on that line would send them."""
    names = inspect.signature(method).parameters
    rest = {k: v for k, v in request.items() if k not in names}
    if not rest:
        return request
    kept = {k: v for k, v in request.items() if k in names}
    return {**kept, "extra_body": {**rest, **kept.get("extra_body", {})}}


# What a 529 raises: `OverloadedError` from the SDK line that added it (0.4x), before that
# the generic 5xx error.
OVERLOADED_ERROR: type[anthropic.APIStatusError] = getattr(
    anthropic, "OverloadedError", anthropic.InternalServerError
)
