"""The mistralai SDK's names on every line, and an in-process Mistral API behind the SDK's
own mock transport.

mistralai 1.x is imported as `from mistralai import Mistral` and uses httpx; 2.x and 3.x
moved the client to `mistralai.client`, and 3.x uses httpx2. The fake server answers the
way the API does (chat-shaped completions and chunk streams with usage on the last
chunk), and can fail a call or cut a stream mid-way, where a recording cannot.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from importlib.metadata import version
from typing import Any

try:  # 1.x
    from mistralai import Mistral
    from mistralai import models as errors
    from mistralai.utils.eventstreaming import EventStream, EventStreamAsync
except ImportError:  # 2.x, 3.x
    from mistralai.client import Mistral, errors  # type: ignore[no-redef]
    from mistralai.client.utils.eventstreaming import (  # type: ignore[no-redef]
        EventStream,
        EventStreamAsync,
    )

SDK_MAJOR = int(version("mistralai").split(".")[0])

if SDK_MAJOR >= 3:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

__all__ = ["SDK_MAJOR", "EventStream", "EventStreamAsync", "FakeMistral", "Mistral", "errors"]

MODEL = "mistral-small-latest"
WORDS = ["Tracing", " is", " on", "."]
FULL_TEXT = "".join(WORDS)
PROMPT_TOKENS, COMPLETION_TOKENS = 9, 4
CHUNK_ID = "cmpl-fake1"


def usage_body(**extra: Any) -> dict[str, Any]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
        **extra,
    }


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
    body = {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def text_events(words: list[str] = WORDS) -> list[bytes]:
    """A plain stream as Mistral sends it: role chunk, text, finish with usage, [DONE]."""
    return [
        chunk({"role": "assistant", "content": ""}),
        *(chunk({"content": word}) for word in words),
        chunk({"content": ""}, "stop", usage=usage_body()),
        b"data: [DONE]\n\n",
    ]


class FakeMistral:
    """Records the requests it saw and answers chat, agents, FIM and embeddings calls.

    `status` fails every call with that HTTP status; `events` replaces the stream's
    events; `cut_after` raises a transport error after that many events.
    """

    def __init__(
        self,
        *,
        status: int = 200,
        events: list[bytes] | None = None,
        cut_after: int | None = None,
        completion: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.events = text_events() if events is None else events
        self.cut_after = cut_after
        self.completion = completion
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, request: Any, stream_body: Any) -> Any:
        body = json.loads(request.content or b"{}")
        self.requests.append((request.url.path, body))
        if self.status >= 400:
            detail = {"object": "error", "message": "Invalid model: nope", "type": "invalid_model"}
            return http.Response(self.status, json=detail)
        if request.url.path.endswith("/embeddings"):
            return http.Response(200, json=embeddings_body())
        if body.get("stream"):
            headers = {"content-type": "text/event-stream"}
            return http.Response(200, headers=headers, content=stream_body)
        return http.Response(200, json=self.completion or completion_body())

    def handle(self, request: Any) -> Any:
        return self._answer(request, self._events())

    async def ahandle(self, request: Any) -> Any:
        return self._answer(request, self._aevents())

    def _events(self) -> Iterator[bytes]:
        for n, event in enumerate(self.events):
            if n == self.cut_after:
                raise http.ReadError("connection reset by peer")
            yield event

    async def _aevents(self) -> AsyncIterator[bytes]:
        for n, event in enumerate(self.events):
            if n == self.cut_after:
                raise http.ReadError("connection reset by peer")
            await asyncio.sleep(0)
            yield event

    def client(self, is_async: bool = False) -> Any:
        """A `Mistral` client whose HTTP goes to this server."""
        if is_async:
            transport = http.MockTransport(self.ahandle)
            return Mistral(
                api_key="mistral-test-key", async_client=http.AsyncClient(transport=transport)
            )
        transport = http.MockTransport(self.handle)
        return Mistral(api_key="mistral-test-key", client=http.Client(transport=transport))


def completion_body(content: Any = FULL_TEXT, **message: Any) -> dict[str, Any]:
    return {
        "id": "cmpl-fake0",
        "object": "chat.completion",
        "created": 1763780000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": usage_body(),
    }


def embeddings_body() -> dict[str, Any]:
    return {
        "id": "emb-fake0",
        "object": "list",
        "model": "mistral-embed",
        "data": [
            {"object": "embedding", "embedding": [0.25, -0.5, 0.125], "index": 0},
            {"object": "embedding", "embedding": [0.5, 0.25, -0.125], "index": 1},
        ],
        "usage": {"prompt_tokens": 6, "total_tokens": 6, "completion_tokens": 0},
    }


def run(is_async: bool, make_call: Callable[[Any], Any], client: Any) -> Any:
    """One call, sync or async, its stream (if any) read to the end as a list."""
    if not is_async:
        result = make_call(client)
        return list(result) if isinstance(result, EventStream) else result

    async def go() -> Any:
        result = await make_call(client)
        if isinstance(result, EventStreamAsync):
            return [event async for event in result]
        return result

    return asyncio.run(go())
