"""Malformed and unexpected bodies through the real OpenAI SDK: llmtap changes nothing.

Hypothesis mutates valid bodies and event streams (`support.fuzz_bodies`) and serves
them through the SDK's own mock transport. Each body is sent once with llmtap off and
once with it on: the caller must get the same value, the same stream items, or the same
exception, and llmtap must leave exactly one finished, exportable record per call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmtap
from llmtap.exporters import MemoryExporter
from support import fuzz_bodies as fuzz
from support.fake_responses import completed_event, response_body, text_events, usage_body
from support.fuzz_bodies import (
    DONE,
    ERROR_STATUSES,
    FUZZ,
    EventScript,
    Reply,
    answering,
    event_scripts,
    named_event,
    replies,
    sse_event,
    stream_content,
)
from support.scripted_openai import BASE_URL, completion_body, http, stream_chunk_bodies

LOCAL_URL = "http://localhost:8000/v1"
"""A host llmtap sends no `stream_options` to: what is served is what the caller reads."""

CHAT: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
EMBEDDING = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 0.125]}],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 3, "total_tokens": 3},
}
BASE64_EMBEDDING = {**EMBEDDING, "data": [{**EMBEDDING["data"][0], "embedding": "AACAPgAAAL8="}]}


@pytest.fixture
def tap(memory: MemoryExporter) -> Any:
    llmtap.instrument_openai()
    yield memory
    llmtap.uninstrument_openai()


def parity(memory: MemoryExporter, run: Callable[[], Any]) -> Any:
    return fuzz.parity(memory, run, llmtap.uninstrument_openai, llmtap.instrument_openai)


def client(respond: Callable[[Any], Any], is_async: bool, base_url: str = LOCAL_URL) -> Any:
    """A client whose every request `respond(request)` answers."""
    options = {"api_key": "sk-test", "base_url": base_url, "max_retries": 0}
    if not is_async:
        transport = http.MockTransport(respond)
        return openai.OpenAI(**options, http_client=http.Client(transport=transport))

    async def arespond(request: Any) -> Any:
        return respond(request)

    transport = http.MockTransport(arespond)
    return openai.AsyncOpenAI(**options, http_client=http.AsyncClient(transport=transport))


def returned(make: Callable[[Any], Any], reply: Reply, is_async: bool) -> Any:
    """What a non-stream call gave the caller."""
    sdk = client(answering(reply, http), is_async)
    return fuzz.returned(lambda: make(sdk), is_async)


def streamed(
    make: Callable[[Any], Any],
    respond: Callable[[Any, bool], Any],
    is_async: bool,
    base_url: str = LOCAL_URL,
) -> Any:
    """What a stream call gave the caller: every item, then how it ended."""
    sdk = client(lambda request: respond(request, is_async), is_async, base_url)
    return fuzz.streamed(lambda: make(sdk), is_async)


def sse_response(
    script: EventScript, render: Callable[[Any], bytes], status: int
) -> Callable[[Any, bool], Any]:
    def respond(request: Any, is_async: bool) -> Any:
        content = stream_content(script, render, http, is_async=is_async)
        return http.Response(status, headers={"content-type": "text/event-stream"}, content=content)

    return respond


def data_event(event: Any) -> bytes:
    return sse_event(event)


statuses = st.sampled_from([200, 200, 200, 200, 200, *ERROR_STATUSES])
chat_events = st.booleans().flatmap(
    lambda tools: event_scripts(stream_chunk_bodies(include_usage=True, tool_call=tools), done=DONE)
)
numbered = [{**e, "sequence_number": n} for n, e in enumerate([*text_events(), completed_event()])]
responses_events = event_scripts(numbered)


# ---- chat completions -----------------------------------------------------------------


@FUZZ
@given(reply=replies(completion_body()))
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_chat_completion_bodies(tap: MemoryExporter, is_async: bool, reply: Reply) -> None:
    record = parity(
        tap, lambda: returned(lambda c: c.chat.completions.create(**CHAT), reply, is_async)
    )
    assert record.operation == "chat"


@FUZZ
@given(script=chat_events, status=statuses)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_chat_streams(
    tap: MemoryExporter, is_async: bool, script: EventScript, status: int
) -> None:
    respond = sse_response(script, data_event, status)
    record = parity(
        tap,
        lambda: streamed(
            lambda c: c.chat.completions.create(**CHAT, stream=True), respond, is_async
        ),
    )
    assert record.stream is True


def as_served(event: Any, asked: bool) -> bytes:
    """A chat chunk as OpenAI sends it: usage (null on every chunk but the usage chunk)
    only when the request asked for it."""
    if asked or not isinstance(event, dict) or "usage" not in event:
        return data_event(event)
    if event["usage"] is None:
        return data_event({k: v for k, v in event.items() if k != "usage"})
    if not event.get("choices"):
        return b""  # the usage chunk is never sent
    return data_event(event)  # a server that sends usage with content whatever was asked


@FUZZ
@given(script=chat_events)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_chat_streams_where_llmtap_asks_for_usage(
    tap: MemoryExporter, is_async: bool, script: EventScript
) -> None:
    """On api.openai.com llmtap adds `include_usage` and hides what that adds: with a
    server that answers as OpenAI does, the caller still reads what it would have.

    No event is cut half-way here: the two requests get bodies of different lengths, so
    a cut at one byte offset would fall in different places."""
    script = replace(script, partial=0)

    def respond(request: Any, is_async: bool) -> Any:
        options = json.loads(request.content).get("stream_options") or {}
        render = lambda event: as_served(event, bool(options.get("include_usage")))  # noqa: E731
        content = stream_content(script, render, http, is_async=is_async)
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=content)

    parity(
        tap,
        lambda: streamed(
            lambda c: c.chat.completions.create(**CHAT, stream=True), respond, is_async, BASE_URL
        ),
    )


# ---- responses ----------------------------------------------------------------------------


@FUZZ
@given(reply=replies(response_body(usage=usage_body())))
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_response_bodies(tap: MemoryExporter, is_async: bool, reply: Reply) -> None:
    parity(
        tap,
        lambda: returned(
            lambda c: c.responses.create(model="gpt-4.1-mini", input="Hi"), reply, is_async
        ),
    )


@FUZZ
@given(script=responses_events, status=statuses)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_response_streams(
    tap: MemoryExporter, is_async: bool, script: EventScript, status: int
) -> None:
    respond = sse_response(script, named_event, status)
    parity(
        tap,
        lambda: streamed(
            lambda c: c.responses.create(model="gpt-4.1-mini", input="Hi", stream=True),
            respond,
            is_async,
        ),
    )


# ---- embeddings ---------------------------------------------------------------------------


@FUZZ
@given(
    reply=st.sampled_from([EMBEDDING, BASE64_EMBEDDING]).flatmap(replies),
    encoding=st.sampled_from(["float", "base64", None]),
)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embedding_bodies(
    tap: MemoryExporter, is_async: bool, reply: Reply, encoding: str | None
) -> None:
    options = {} if encoding is None else {"encoding_format": encoding}
    record = parity(
        tap,
        lambda: returned(
            lambda c: c.embeddings.create(model="text-embedding-3-small", input="Hi", **options),
            reply,
            is_async,
        ),
    )
    assert record.operation == "embeddings"


# ---- what the fuzzing found, as examples -----------------------------------------------


def served_once(body: Any, is_async: bool = False) -> Any:
    """A client answering 200 with `body` (JSON, or SSE events when a list of bytes)."""
    if isinstance(body, list):
        headers = {"content-type": "text/event-stream"}
        return client(
            lambda request: http.Response(200, headers=headers, content=b"".join(body)), is_async
        )
    return client(lambda request: http.Response(200, json=body), is_async)


def test_a_model_that_is_not_a_string_is_not_recorded(tap: MemoryExporter) -> None:
    """The store's text column refused a list, and the whole batch was lost."""
    completion = served_once({**completion_body(), "model": ["gpt"], "id": {"x": 1}})
    assert completion.chat.completions.create(**CHAT).model == ["gpt"]
    record = fuzz.one_record(tap)
    assert (record.response_model, record.response_id) == (None, None)
    assert record.output[0]["parts"] == [{"type": "text", "content": "Parity holds both ways."}]
    embeddings = served_once({**EMBEDDING, "model": ["emb"]})
    embeddings.embeddings.create(
        model="text-embedding-3-small", input="Hi", encoding_format="float"
    )
    assert fuzz.one_record(tap).response_model is None
    responses = served_once({**response_body(usage=usage_body()), "model": ["gpt"]})
    responses.responses.create(model="gpt-4.1-mini", input="Hi")
    assert fuzz.one_record(tap).response_model is None
    assert llmtap.stats()["faults"] == {}


def test_a_chat_stream_with_malformed_choices_keeps_the_rest(tap: MemoryExporter) -> None:
    """A choice index that is a list, choices that are not a list and a content piece
    that is not a string no longer stop the whole stream from being read."""
    chunks = stream_chunk_bodies(include_usage=True)
    chunks[0]["model"] = ["gpt"]
    chunks[1]["choices"][0]["index"] = [0]
    chunks[2]["choices"][0]["delta"]["content"] = ["holds"]
    chunks.insert(3, {**chunks[3], "choices": 7})
    sdk = served_once([data_event(c) for c in chunks] + [DONE])
    assert len(list(sdk.chat.completions.create(**CHAT, stream=True))) == len(chunks)
    record = fuzz.one_record(tap)
    assert record.status == "ok"
    assert record.response_model == "gpt-4o-mini-2024-07-18"  # the first chunk's is a list
    assert record.output[0]["parts"] == [{"type": "text", "content": "Parity both ways."}]
    assert record.usage.input_tokens == 9
    assert llmtap.stats()["faults"] == {}


def test_a_responses_event_whose_type_is_a_list_is_passed_over(tap: MemoryExporter) -> None:
    events = [*numbered[:-1], {"type": ["response.completed"]}, numbered[-1]]
    sdk = served_once([named_event(e) for e in events])
    assert len(list(sdk.responses.create(model="gpt-4.1-mini", input="Hi", stream=True))) == len(
        events
    )
    record = fuzz.one_record(tap)
    assert record.status == "ok"
    assert record.usage.input_tokens == 42
    assert llmtap.stats()["faults"] == {}


def test_embeddings_whose_data_is_not_a_list_are_counted_as_none(tap: MemoryExporter) -> None:
    for data in ({"0": EMBEDDING["data"][0]}, [{"embedding": 3}]):
        sdk = served_once({**EMBEDDING, "data": data})
        sdk.embeddings.create(model="text-embedding-3-small", input="Hi", encoding_format="float")
        record = fuzz.one_record(tap)
        assert record.usage.input_tokens == 3
        assert "embedding_dimensions" not in record.metadata
    assert llmtap.stats()["faults"] == {}
