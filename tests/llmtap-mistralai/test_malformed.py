"""Malformed and unexpected bodies through the real mistralai SDK: llmtap changes nothing.

Hypothesis mutates valid completions, embeddings and chunk streams
(`support.fuzz_bodies`) and serves them through the SDK's own mock transport. Each
body is sent once with llmtap off and once with it on: the caller must get the same
response, the same stream events, or the same exception, and llmtap must leave exactly
one finished, exportable record per call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmtap
from llmtap.exporters import MemoryExporter
from support import fuzz_bodies as fuzz
from support.fake_mistral import (
    CHUNK_ID,
    MODEL,
    WORDS,
    Mistral,
    completion_body,
    embeddings_body,
    http,
    usage_body,
)
from support.fuzz_bodies import (
    DONE,
    ERROR_STATUSES,
    FUZZ,
    EventScript,
    Reply,
    answering,
    event_scripts,
    replies,
    sse_event,
    stream_content,
)

CHAT: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def tap(memory: MemoryExporter) -> Any:
    llmtap.instrument_mistralai()
    yield memory
    llmtap.uninstrument_mistralai()


def parity(memory: MemoryExporter, run: Callable[[], Any]) -> Any:
    return fuzz.parity(memory, run, llmtap.uninstrument_mistralai, llmtap.instrument_mistralai)


class Server:
    """The mock transport's answer, set per example: a `Mistral` client takes ~60 ms to
    build and its first call as long again, so each test reuses one client per mode."""

    respond: Callable[[Any], Any] = staticmethod(lambda request: None)

    def __call__(self, request: Any) -> Any:
        return self.respond(request)

    async def answer(self, request: Any) -> Any:
        return self.respond(request)


SERVER = Server()


@functools.cache
def shared_client(is_async: bool) -> Any:
    if not is_async:
        return Mistral(api_key="test", client=http.Client(transport=http.MockTransport(SERVER)))
    transport = http.MockTransport(SERVER.answer)
    return Mistral(api_key="test", async_client=http.AsyncClient(transport=transport))


def client(respond: Callable[[Any], Any], is_async: bool) -> Any:
    """The shared client, answering every request with `respond(request)`."""
    SERVER.respond = respond
    return shared_client(is_async)


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> Any:
    return {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }


TEXT_CHUNKS = [
    chunk({"role": "assistant", "content": ""}),
    *(chunk({"content": word}) for word in WORDS),
    chunk({"content": ""}, "stop", usage=usage_body()),
]
TOOL_CALL = {"id": "call_1", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}
TOOL_CHUNKS = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "", "tool_calls": [{**TOOL_CALL, "index": 0}]}),
    chunk({"content": ""}, "tool_calls", usage=usage_body()),
]
statuses = st.sampled_from([200, 200, 200, 200, 200, *ERROR_STATUSES])
scripts = st.sampled_from([TEXT_CHUNKS, TOOL_CHUNKS]).flatmap(
    lambda chunks: event_scripts(chunks, done=DONE)
)


def calling(method: str, reply: Reply, is_async: bool, **kwargs: Any) -> Callable[[], Any]:
    """`run` for one non-stream call of `client.<method>` answered by `reply`."""
    resource, name = method.split(".")

    def run() -> Any:
        sdk = getattr(client(answering(reply, http), is_async), resource)
        call = getattr(sdk, f"{name}_async" if is_async else name)
        return fuzz.returned(lambda: call(**kwargs), is_async)

    return run


@FUZZ
@given(reply=replies(completion_body()))
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_chat_bodies(tap: MemoryExporter, is_async: bool, reply: Reply) -> None:
    record = parity(tap, calling("chat.complete", reply, is_async, **CHAT))
    assert record.operation == "chat"


@FUZZ
@given(script=scripts, status=statuses)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_chat_streams(
    tap: MemoryExporter, is_async: bool, script: EventScript, status: int
) -> None:
    def respond(request: Any) -> Any:
        content = stream_content(script, sse_event, http, is_async=is_async)
        return http.Response(status, headers={"content-type": "text/event-stream"}, content=content)

    def run() -> Any:
        chat = client(respond, is_async).chat
        stream = chat.stream_async if is_async else chat.stream
        return fuzz.streamed(lambda: stream(**CHAT), is_async)

    record = parity(tap, run)
    assert record.stream is True


@FUZZ
@given(reply=replies(embeddings_body()))
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embedding_bodies(tap: MemoryExporter, is_async: bool, reply: Reply) -> None:
    run = calling("embeddings.create", reply, is_async, model="mistral-embed", inputs=["a", "b"])
    record = parity(tap, run)
    assert record.operation == "embeddings"
