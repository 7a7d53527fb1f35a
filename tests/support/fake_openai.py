"""An in-process OpenAI-compatible server behind the SDK's own mock transport.

Used where a cassette cannot show behaviour: it answers like the real API does,
sending a usage chunk only when the request asked for it, so a test can check that the
caller sees exactly what it would see without llmtap.
"""

from __future__ import annotations

import json
from typing import Any

import openai

SDK_MAJOR = int(openai.__version__.split(".")[0])

if SDK_MAJOR >= 3:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

WORDS = ["Tracing", " is", " on", "."]
PROMPT_TOKENS, COMPLETION_TOKENS = 11, 4


def _chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake1",
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_fake",
        "choices": choices,
        "usage": usage,
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def usage_body() -> dict[str, Any]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }


class FakeOpenAI:
    """Records the requests it saw and answers chat completions."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def handle(self, request: Any) -> Any:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        if not body.get("stream"):
            return http.Response(200, json=self.completion())
        return http.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=b"".join(self.stream_events(body)),
        )

    def completion(self) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake0",
            "object": "chat.completion",
            "created": 1763780000,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(WORDS)},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage_body(),
        }

    def stream_events(self, body: dict[str, Any]) -> list[bytes]:
        events = [_chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])]
        events += [_chunk([{"index": 0, "delta": {"content": w}}]) for w in WORDS]
        events.append(_chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(_chunk([], usage_body()))
        events.append(b"data: [DONE]\n\n")
        return events

    def client(self, base_url: str = "https://api.openai.com/v1") -> openai.OpenAI:
        transport = http.MockTransport(self.handle)
        return openai.OpenAI(
            api_key="sk-test",
            base_url=base_url,
            max_retries=0,
            http_client=http.Client(transport=transport),
        )

    def async_client(self, base_url: str = "https://api.openai.com/v1") -> openai.AsyncOpenAI:
        async def handle(request: Any) -> Any:
            return self.handle(request)

        transport = http.MockTransport(handle)
        return openai.AsyncOpenAI(
            api_key="sk-test",
            base_url=base_url,
            max_retries=0,
            http_client=http.AsyncClient(transport=transport),
        )
