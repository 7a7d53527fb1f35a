"""The "sdk-core stubbed" mode: the SDK's lowest request layer returns ready objects.

End to end, the SDK's own HTTP, SSE decoding, JSON parsing and pydantic validation cost
1.5-3 ms per call and ~200 µs per stream chunk, and their noise hides overheads under a
few hundred µs. Here `SyncAPIClient.request` / `AsyncAPIClient.request` (openai and
anthropic) are replaced, before any contestant instruments anything, by a function that
returns what the SDK itself returned for the same canned traffic: the parsed response
object, or a stream built the SDK's way (`stream_cls(cast_to=..., response=...,
client=..., options=...)`, so wrappers that subclass `stream_cls` or check `Stream`
types keep working) whose `__stream__` yields the SDK's pre-parsed chunks.

Every peer hooks above that layer (`Completions.create` / `Messages.create`, a wrapped
client's `create`, or `OpenAI.request`, which wraps this stub when instrumented after it),
so it stays on the call path while the SDK's core is gone. A tracer that hooked lower
would see nothing: the capture check then fails and the driver reports n/a.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import traffic

ATTR = "_peers_canned"  # on a client instance: the Canned answers for its case


@dataclass(frozen=True)
class Canned:
    """What the SDK returned for one case: a parsed response, or a stream's chunks and an
    HTTP response for the stream object to carry (never read)."""

    result: Any = None
    chunks: list[Any] = field(default_factory=list)
    response: Any = None


def create(client: Any, provider: str, stream: bool) -> Any:
    """The benchmark's call, sync, on a bare client."""
    if provider == "openai":
        extra = {"stream": True, **traffic.OPENAI_STREAM_OPTIONS} if stream else {}
        return client.chat.completions.create(**traffic.OPENAI_REQUEST, **extra)
    extra = {"stream": True} if stream else {}
    return client.messages.create(**traffic.ANTHROPIC_REQUEST, **extra)


def record(provider: str, chunks: int) -> Canned:
    """One real call through the unpatched SDK and the mock transport: the SDK's own
    objects, parsed by its own model classes."""
    client = traffic.client(provider, chunks, False)
    if not chunks:
        return Canned(result=create(client, provider, False))
    stream = create(client, provider, True)
    items = list(stream)
    http = traffic.http_module(provider)
    data, _ = traffic.body(provider, chunks)
    # Content as bytes: usable by both Stream.close() and AsyncStream.close().
    response = http.Response(
        200, headers=stream.response.headers, content=data, request=stream.response.request
    )
    return Canned(chunks=items, response=response)


class Stub:
    """Installs the stub for `providers` (once per process) and makes stubbed clients."""

    def __init__(self, providers: tuple[str, ...], chunk_counts: tuple[int, ...]) -> None:
        self.canned = {(p, n): record(p, n) for p in providers for n in chunk_counts}
        for provider in providers:
            install(provider)
            if provider in TRANSFORMED:
                memoize_transform(importlib.import_module(TRANSFORMED[provider]))

    def client(self, provider: str, chunks: int, is_async: bool) -> Any:
        client = traffic.client(provider, chunks, is_async)
        setattr(client, ATTR, self.canned[(provider, chunks)])
        return client


# Resource modules whose `create` turns its arguments into the request body with the SDK's
# typed-dict transform before calling `request`: on openai 3.x that is about 2 ms of the
# 2.3 ms a stubbed chat call would still cost.
TRANSFORMED = {"openai": "openai.resources.chat.completions.completions"}


def memoize_transform(module: Any) -> None:
    """`maybe_transform` / `async_maybe_transform` in `module`, remembering the result for
    an equal input (the benchmark sends the same arguments every call). Tracers that read
    the body (`options.json_data`, at `request`) get the very dict the SDK computed."""
    sync_original = module.maybe_transform
    async_original = module.async_maybe_transform
    seen: list[tuple[Any, Any, Any]] = []

    def remembered(data: Any, expected_type: Any) -> tuple[bool, Any]:
        for known, known_type, body in seen:
            if known_type is expected_type and known == data:
                return True, body
        return False, None

    def maybe_transform(data: Any, expected_type: Any) -> Any:
        hit, body = remembered(data, expected_type)
        if not hit:
            body = sync_original(data, expected_type)
            seen.append((data, expected_type, body))
        return body

    async def async_maybe_transform(data: Any, expected_type: Any) -> Any:
        hit, body = remembered(data, expected_type)
        if not hit:
            body = await async_original(data, expected_type)
            seen.append((data, expected_type, body))
        return body

    module.maybe_transform = maybe_transform
    module.async_maybe_transform = async_maybe_transform


def install(provider: str) -> None:
    base = importlib.import_module(f"{provider}._base_client")
    streaming = importlib.import_module(f"{provider}._streaming")
    chunk_type = streaming.extract_stream_chunk_type
    sync_original = base.SyncAPIClient.request
    async_original = base.AsyncAPIClient.request
    sync_stream_original = streaming.Stream.__stream__
    async_stream_original = streaming.AsyncStream.__stream__

    def answer(client: Any, canned: Canned, options: Any, stream: bool, stream_cls: Any) -> Any:
        if not stream:
            return canned.result
        cls = stream_cls or client._default_stream_cls
        cast_to = chunk_type(cls)
        return cls(cast_to=cast_to, response=canned.response, client=client, options=options)

    def request(
        self: Any, cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        canned = getattr(self, ATTR, None)
        if canned is None:
            return sync_original(self, cast_to, options, stream=stream, stream_cls=stream_cls)
        return answer(self, canned, options, stream, stream_cls)

    async def async_request(
        self: Any, cast_to: Any, options: Any, *, stream: bool = False, stream_cls: Any = None
    ) -> Any:
        canned = getattr(self, ATTR, None)
        if canned is None:
            return await async_original(
                self, cast_to, options, stream=stream, stream_cls=stream_cls
            )
        return answer(self, canned, options, stream, stream_cls)

    def sync_stream(self: Any) -> Any:
        canned = getattr(self._client, ATTR, None)
        if canned is None:
            yield from sync_stream_original(self)
            return
        try:
            yield from canned.chunks
        finally:
            self.response.close()

    async def async_stream(self: Any) -> Any:
        canned = getattr(self._client, ATTR, None)
        if canned is None:
            async for item in async_stream_original(self):
                yield item
            return
        try:
            for item in canned.chunks:
                yield item
        finally:
            await self.response.aclose()

    base.SyncAPIClient.request = request
    base.AsyncAPIClient.request = async_request
    streaming.Stream.__stream__ = sync_stream
    streaming.AsyncStream.__stream__ = async_stream
