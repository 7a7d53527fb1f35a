"""The SDK behaves identically with llmtap on.

Every test runs twice through the `tap` fixture: `off` (the bare SDK) and `on`
(`llmtap.instrument_openai()`), with the same assertions. Each test states what the SDK
does, and, to prove the two sides identical rather than merely both plausible, compares
everything the caller can observe with a baseline taken from the bare SDK inside the same
test (`tap.bare()`; on the `off` side this checks that the observation is deterministic).
With llmtap on, a test also checks the records; with llmtap off, that nothing is recorded.

The HTTP side is `support.scripted_openai`: the SDK's own transport answering from a
script, so the SDK's retry loop, error mapping and stream parsing run for real.
"""

from __future__ import annotations

import collections.abc as abc
import copy
import gc
import pickle
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar

import openai
import pydantic
import pytest
from openai.types.chat import ChatCompletion

import llmtap
import llmtap_openai
from support.cassettes import output_text, records_of
from support.scripted_openai import (
    BASE_URL,
    SDK_MAJOR,
    WORDS,
    ScriptedOpenAI,
    Seen,
    Step,
    batch_body,
    chat_stream,
    completion,
    completion_body,
    connection_error,
    error,
    http,
    page,
    rejecting_stream_options,
    reply,
    timeout,
)

T = TypeVar("T")

CHAT: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Does the SDK behave the same?"}],
}
TEXT = "".join(WORDS)
TINY_BACKOFF = 0.002
"""Seconds between retries, in place of the SDK's 0.5 s exponential backoff (both sides)."""
LOCAL_URL = "http://localhost:8000/v1"
"""A host llmtap does not send `stream_options` to (auto mode)."""


# ---- the two sides ---------------------------------------------------------------------


class Tap:
    """One side of the comparison: llmtap `off` or `on`."""

    def __init__(self, on: bool, memory: Any) -> None:
        self.on = on
        self.memory = memory

    @contextmanager
    def bare(self) -> Iterator[None]:
        """The bare SDK inside the block, on both sides."""
        if self.on:
            llmtap.uninstrument_openai()
        try:
            yield
        finally:
            if self.on:
                llmtap.instrument_openai()

    def baseline(self, scenario: Callable[[], T]) -> T:
        with self.bare():
            return scenario()

    async def abaseline(self, scenario: Callable[[], Awaitable[T]]) -> T:
        with self.bare():
            return await scenario()

    def records(self) -> list[dict[str, Any]]:
        """Every record so far; with llmtap off there must be none."""
        records = records_of(self.memory)
        if not self.on:
            assert records == []
        return records

    def record(self) -> dict[str, Any]:
        """With llmtap on, the one record made so far (off: an empty dict, and no record)."""
        records = self.records()
        if not self.on:
            return {}
        assert len(records) == 1, [r["status"] for r in records]
        return records[0]


@pytest.fixture(scope="module", autouse=True)
def _cheap_garbage_collection() -> Iterator[None]:
    """`tap` freezes what survives each collection (modules the SDK imports lazily, pytest's
    own objects), so the next `gc.collect()` costs microseconds instead of ~15 ms."""
    yield
    gc.unfreeze()


@pytest.fixture(params=["off", "on"])
def tap(request: pytest.FixtureRequest, memory: Any) -> Iterator[Tap]:
    side = Tap(request.param == "on", memory)
    assert not llmtap_openai.is_instrumented()
    # A record left behind by an earlier test (an object in a reference cycle, finalized
    # at some later collection) must not land in this test's records.
    gc.collect()
    gc.freeze()
    llmtap.flush()
    memory.clear()
    if side.on:
        llmtap.instrument_openai()
    try:
        yield side
    finally:
        if side.on:
            llmtap.uninstrument_openai()
        gc.collect()


# ---- what the caller can observe ---------------------------------------------------------


def model_view(obj: Any) -> tuple[Any, ...]:
    """Everything a caller can read off an SDK model."""
    return (
        type(obj),
        obj.model_dump(warnings=False),
        obj.to_dict(warnings=False),
        obj.to_json(warnings=False),
        obj.model_fields_set,
        getattr(obj, "_request_id", None),
    )


def error_view(exc: BaseException) -> dict[str, Any]:
    """Everything a caller can read off an SDK exception."""
    view: dict[str, Any] = {
        "class": type(exc),
        "str": str(exc),
        "args": exc.args,
        "cause": type(exc.__cause__),
        "context": type(exc.__context__),
        "suppress_context": exc.__suppress_context__,
    }
    for name in ("message", "status_code", "body", "request_id", "code", "param", "type"):
        view[name] = getattr(exc, name, "<absent>")
    response = getattr(exc, "response", None)
    if response is not None:
        view["response"] = (response.status_code, dict(response.headers), response.text)
    return view


def request_view(seen: Seen) -> tuple[Any, ...]:
    """A request as the server saw it, minus the SDK's random idempotency key."""
    headers = {k: v for k, v in seen.headers.items() if k != "idempotency-key"}
    return (seen.method, seen.path, seen.params, headers, seen.body)


def stream_request_view(seen: Seen, *, usage_added: bool) -> tuple[Any, ...]:
    """A stream request minus the one documented change: with llmtap on, a stream to
    api.openai.com asks for usage (and llmtap hides the usage chunk from the caller)."""
    method, path, params, headers, body = request_view(seen)
    body = dict(body)
    if usage_added:
        assert body.pop("stream_options") == {"include_usage": True}
    headers = {k: v for k, v in headers.items() if k != "content-length"}
    return (method, path, params, headers, body)


def idempotency_keys(server: ScriptedOpenAI) -> set[str | None]:
    return {r.headers.get("idempotency-key") for r in server.requests}


def chunk_views(chunks: list[Any]) -> list[tuple[Any, ...]]:
    """The chunks' types and contents (how they serialise is pinned by one test of its own,
    `test_stream_chunks_serialise_identically`)."""
    return [(type(c), c.model_dump()) for c in chunks]


# ---- retries -----------------------------------------------------------------------------

FAILURES: dict[str, Callable[[], Step]] = {
    "500": lambda: error(500),
    "429 retry-after-ms": lambda: error(429, {"retry-after-ms": "1"}),
    "connection error": connection_error,
}


def retry_script(failure: str, *, stream: bool) -> ScriptedOpenAI:
    fail = FAILURES[failure]
    return ScriptedOpenAI(fail(), fail(), chat_stream() if stream else completion())


def check_retried_call(
    tap: Tap, server: ScriptedOpenAI, bare: ScriptedOpenAI, *, stream: bool
) -> None:
    assert server.attempts == bare.attempts == 3
    assert server.retry_counts == bare.retry_counts == ["0", "1", "2"]
    assert len(idempotency_keys(server)) == len(idempotency_keys(bare)) == 1
    if stream:
        sent = [stream_request_view(r, usage_added=tap.on) for r in server.requests]
        assert sent == [stream_request_view(r, usage_added=False) for r in bare.requests]
    else:
        assert [request_view(r) for r in server.requests] == [
            request_view(r) for r in bare.requests
        ]
    record = tap.record()
    if tap.on:
        assert record["status"] == "ok"
        assert record["error"] is None
        assert output_text(record) == TEXT
        assert record["duration_s"] >= server.span_s > 0


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("failure", FAILURES)
def test_retries_give_the_same_result_after_the_same_attempts(
    tap: Tap, failure: str, stream: bool
) -> None:
    def call() -> tuple[ScriptedOpenAI, Any]:
        server = retry_script(failure, stream=stream)
        client = server.client(max_retries=2, retry_delay=TINY_BACKOFF)
        result = client.chat.completions.create(**CHAT, stream=stream)
        return server, chunk_views(list(result)) if stream else model_view(result)

    bare, expected = tap.baseline(call)
    server, seen = call()

    assert seen == expected
    check_retried_call(tap, server, bare, stream=stream)


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("failure", FAILURES)
async def test_async_retries_give_the_same_result_after_the_same_attempts(
    tap: Tap, failure: str, stream: bool
) -> None:
    async def call() -> tuple[ScriptedOpenAI, Any]:
        server = retry_script(failure, stream=stream)
        client = server.async_client(max_retries=2, retry_delay=TINY_BACKOFF)
        result: Any = await client.chat.completions.create(**CHAT, stream=stream)
        if stream:
            return server, chunk_views([chunk async for chunk in result])
        return server, model_view(result)

    bare, expected = await tap.abaseline(call)
    server, seen = await call()

    assert seen == expected
    check_retried_call(tap, server, bare, stream=stream)


@pytest.mark.parametrize("failure", FAILURES)
def test_exhausted_retries_raise_the_same_error_once(tap: Tap, failure: str) -> None:
    def call() -> tuple[ScriptedOpenAI, dict[str, Any]]:
        fail = FAILURES[failure]
        server = ScriptedOpenAI(fail(), fail(), fail())
        client = server.client(max_retries=2, retry_delay=TINY_BACKOFF)
        with pytest.raises(openai.APIError) as caught:
            client.chat.completions.create(**CHAT)
        return server, error_view(caught.value)

    bare, expected = tap.baseline(call)
    server, seen = call()

    assert seen == expected
    assert server.attempts == bare.attempts == 3
    record = tap.record()
    if tap.on:
        assert record["status"] == "error"
        assert record["error"]["type"] == expected["class"].__name__
        assert record["error"]["message"] == expected["str"]
        assert record["duration_s"] >= server.span_s


@pytest.mark.parametrize("failure", FAILURES)
async def test_async_exhausted_retries_raise_the_same_error_once(tap: Tap, failure: str) -> None:
    async def call() -> tuple[ScriptedOpenAI, dict[str, Any]]:
        fail = FAILURES[failure]
        server = ScriptedOpenAI(fail(), fail(), fail())
        client = server.async_client(max_retries=2, retry_delay=TINY_BACKOFF)
        with pytest.raises(openai.APIError) as caught:
            await client.chat.completions.create(**CHAT)
        return server, error_view(caught.value)

    bare, expected = await tap.abaseline(call)
    server, seen = await call()

    assert seen == expected
    assert server.attempts == bare.attempts == 3
    record = tap.record()
    if tap.on:
        assert (record["status"], record["error"]["type"]) == ("error", expected["class"].__name__)


# ---- timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
def test_read_timeout_raises_the_same_api_timeout_error(tap: Tap, stream: bool) -> None:
    def call() -> tuple[ScriptedOpenAI, dict[str, Any]]:
        server = ScriptedOpenAI(timeout(), timeout())
        client = server.client(max_retries=1, retry_delay=TINY_BACKOFF)
        with pytest.raises(openai.APITimeoutError) as caught:
            client.chat.completions.create(**CHAT, stream=stream)
        return server, error_view(caught.value)

    bare, expected = tap.baseline(call)
    server, seen = call()

    assert seen == expected
    assert seen["class"] is openai.APITimeoutError
    assert seen["str"] == "Request timed out."
    assert seen["cause"] is http.ReadTimeout
    assert server.attempts == bare.attempts == 2
    record = tap.record()
    if tap.on:
        assert record["status"] == "error"
        assert record["error"] == {
            "type": "APITimeoutError",
            "message": "Request timed out.",
            "status_code": None,
        }


async def test_async_read_timeout_raises_the_same_api_timeout_error(tap: Tap) -> None:
    async def call() -> dict[str, Any]:
        client = ScriptedOpenAI(timeout()).async_client()
        with pytest.raises(openai.APITimeoutError) as caught:
            await client.chat.completions.create(**CHAT)
        return error_view(caught.value)

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert (seen["class"], seen["cause"]) == (openai.APITimeoutError, http.ReadTimeout)
    record = tap.record()
    if tap.on:
        assert (record["status"], record["error"]["type"]) == ("error", "APITimeoutError")


# ---- HTTP errors ---------------------------------------------------------------------------

ERROR_CLASSES: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    503: openai.InternalServerError,
}


def check_status_error(tap: Tap, status: int, seen: dict[str, Any]) -> None:
    assert seen["class"] is ERROR_CLASSES[status]
    assert seen["status_code"] == status
    assert seen["body"] == {
        "message": f"Scripted failure {status}.",
        "type": "invalid_request_error" if status < 500 else "server_error",
        "param": None,
        "code": f"scripted_{status}",
    }
    assert seen["request_id"] == "req_scripted_1"
    assert seen["response"][1]["x-request-id"] == "req_scripted_1"
    assert seen["str"].startswith(f"Error code: {status} - ")
    assert f"Scripted failure {status}." in seen["str"]
    record = tap.record()
    if tap.on:
        assert record["status"] == "error"
        assert record["error"] == {
            "type": ERROR_CLASSES[status].__name__,
            "message": seen["str"],
            "status_code": status,
        }


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("status", ERROR_CLASSES)
def test_http_errors_raise_the_same_exception(tap: Tap, status: int, stream: bool) -> None:
    def call() -> dict[str, Any]:
        client = ScriptedOpenAI(error(status)).client()
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(**CHAT, stream=stream)
        return error_view(caught.value)

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    check_status_error(tap, status, seen)


@pytest.mark.parametrize("status", ERROR_CLASSES)
async def test_async_http_errors_raise_the_same_exception(tap: Tap, status: int) -> None:
    async def call() -> dict[str, Any]:
        client = ScriptedOpenAI(error(status)).async_client()
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(**CHAT)
        return error_view(caught.value)

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    check_status_error(tap, status, seen)


NETWORK_CUT = openai.APIConnectionError if SDK_MAJOR >= 3 else http.ReadError
"""What a stream cut mid-body raises: openai 3 wraps the transport error, 1.x/2.x do not."""


def test_stream_cut_by_the_network_raises_the_same_error_after_the_same_chunks(
    tap: Tap,
) -> None:
    def call() -> tuple[list[Any], dict[str, Any]]:
        client = ScriptedOpenAI(chat_stream(cut_after=3)).client()
        stream = client.chat.completions.create(**CHAT, stream=True)
        chunks: list[Any] = []
        with pytest.raises(NETWORK_CUT) as caught:
            chunks.extend(stream)
        return chunk_views(chunks), error_view(caught.value)

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert len(seen[0]) == 3
    record = tap.record()
    if tap.on:
        assert record["status"] == "error"
        assert record["error"]["type"] == NETWORK_CUT.__name__
        assert record["chunks"] == 3


async def test_async_stream_cut_by_the_network_raises_the_same_error(tap: Tap) -> None:
    async def call() -> tuple[list[Any], dict[str, Any]]:
        client = ScriptedOpenAI(chat_stream(cut_after=3)).async_client()
        stream = await client.chat.completions.create(**CHAT, stream=True)
        chunks: list[Any] = []

        async def read_all() -> None:
            async for chunk in stream:
                chunks.append(chunk)

        with pytest.raises(NETWORK_CUT) as caught:
            await read_all()
        return chunk_views(chunks), error_view(caught.value)

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert len(seen[0]) == 3
    record = tap.record()
    if tap.on:
        assert (record["status"], record["chunks"]) == ("error", 3)
        assert record["error"]["type"] == NETWORK_CUT.__name__


# ---- the stream() helper -------------------------------------------------------------------


def event_view(event: Any) -> tuple[Any, ...]:
    """A helper event's type and contents (its chunk serialises as the chunk does)."""
    return (type(event), event.type, event.model_dump())


@pytest.mark.parametrize("tool_call", [False, True], ids=["text", "tool_call"])
def test_stream_helper_gives_the_same_events_and_final_completion(
    tap: Tap, tool_call: bool
) -> None:
    def call() -> dict[str, Any]:
        client = ScriptedOpenAI(chat_stream(tool_call=tool_call)).client()
        with client.chat.completions.stream(**CHAT) as stream:
            events = [event_view(event) for event in stream]
            assert stream.until_done() is stream
            return {
                "helper": type(stream),
                "events": events,
                "final": model_view(stream.get_final_completion()),
                "snapshot": model_view(stream.current_completion_snapshot),
            }

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    types = [event[1] for event in seen["events"]]
    assert types[0] == "chunk"
    assert "content.done" in types
    assert ("tool_calls.function.arguments.done" in types) is tool_call
    final = seen["final"][1]
    assert final["choices"][0]["message"]["content"] == TEXT
    record = tap.record()
    if tap.on:
        assert record["status"] == "ok"
        assert output_text(record) == TEXT
        assert (record["tool_calls"] is not None) is tool_call


def test_stream_helper_until_done_then_final_completion(tap: Tap) -> None:
    def call() -> tuple[Any, ...]:
        client = ScriptedOpenAI(chat_stream()).client()
        with client.chat.completions.stream(**CHAT) as stream:
            stream.until_done()
            return model_view(stream.get_final_completion())

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert issubclass(seen[0], openai.types.chat.ParsedChatCompletion)
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


async def test_async_stream_helper_gives_the_same_events_and_final_completion(
    tap: Tap,
) -> None:
    async def call() -> dict[str, Any]:
        client = ScriptedOpenAI(chat_stream()).async_client()
        async with client.chat.completions.stream(**CHAT) as stream:
            events = [event_view(event) async for event in stream]
            final = await stream.get_final_completion()
            return {
                "helper": type(stream),
                "events": events,
                "final": model_view(final),
                "snapshot": model_view(stream.current_completion_snapshot),
            }

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert seen["final"][1]["choices"][0]["message"]["content"] == TEXT
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


def test_stream_helper_left_early_is_recorded_once_when_the_block_ends(tap: Tap) -> None:
    """`break` inside the helper's `with`: the SDK closes the response as the block ends,
    and that is when the call is over; the record must not wait for garbage collection
    (the helper holds its own iterator in a reference cycle, so that can be never)."""

    def call() -> tuple[list[Any], bool]:
        client = ScriptedOpenAI(chat_stream()).client()
        with client.chat.completions.stream(**CHAT) as stream:
            events = []
            for event in stream:
                events.append(event_view(event))
                if event.type == "content.delta":
                    break
        return events, stream._response.is_closed

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert seen[1] is True
    record = tap.record()
    if tap.on:
        assert record["status"] == "incomplete"


def test_stream_helper_closed_early_is_recorded_once_when_closed(tap: Tap) -> None:
    """The helper's `close()` closes the HTTP response itself, bypassing llmtap's proxy."""

    def call() -> tuple[Any, bool]:
        client = ScriptedOpenAI(chat_stream()).client()
        stream = client.chat.completions.stream(**CHAT).__enter__()
        first = event_view(next(stream))
        stream.close()
        return first, stream._response.is_closed

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert seen[1] is True
    record = tap.record()
    if tap.on:
        assert record["status"] == "incomplete"


@pytest.mark.parametrize("leave", ["break", "close"])
def test_stream_helper_left_early_is_recorded_exactly_once_in_the_end(tap: Tap, leave: str) -> None:
    client = ScriptedOpenAI(chat_stream()).client()
    with client.chat.completions.stream(**CHAT) as stream:
        for _event in stream:
            break
        if leave == "close":
            stream.close()
    del stream
    gc.collect()  # the helper holds its iterator in a reference cycle

    records = tap.records()
    if tap.on:
        assert [r["status"] for r in records] == ["incomplete"]


async def test_async_stream_helper_left_early_is_recorded_once_when_the_block_ends(
    tap: Tap,
) -> None:
    async def call() -> tuple[list[Any], bool]:
        client = ScriptedOpenAI(chat_stream()).async_client()
        async with client.chat.completions.stream(**CHAT) as stream:
            events = []
            async for event in stream:
                events.append(event_view(event))
                if event.type == "content.delta":
                    break
        return events, stream._response.is_closed

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert seen[1] is True
    record = tap.record()
    if tap.on:
        assert record["status"] == "incomplete"


# ---- pagination ------------------------------------------------------------------------------


def batch_pages() -> ScriptedOpenAI:
    return ScriptedOpenAI(
        page([batch_body(1), batch_body(2)], has_more=True),
        page([batch_body(3)], has_more=False),
    )


def check_two_pages(server: ScriptedOpenAI, bare: ScriptedOpenAI) -> None:
    assert [request_view(r) for r in server.requests] == [request_view(r) for r in bare.requests]
    assert [(r.path, r.params) for r in server.requests] == [
        ("/v1/batches", {"limit": "2"}),
        ("/v1/batches", {"limit": "2", "after": "batch_2"}),
    ]


def test_auto_paging_walks_both_pages_and_records_nothing(tap: Tap) -> None:
    def call() -> tuple[ScriptedOpenAI, list[Any]]:
        server = batch_pages()
        return server, [model_view(batch) for batch in server.client().batches.list(limit=2)]

    bare, expected = tap.baseline(call)
    server, seen = call()

    assert seen == expected
    assert [view[1]["id"] for view in seen] == ["batch_1", "batch_2", "batch_3"]
    check_two_pages(server, bare)
    assert tap.records() == []


def test_page_navigation_is_identical_and_records_nothing(tap: Tap) -> None:
    def call() -> tuple[ScriptedOpenAI, list[Any]]:
        server = batch_pages()
        first = server.client().batches.list(limit=2)
        second = first.get_next_page()
        return server, [
            (type(p), p.has_next_page(), p.has_more, model_view(p)) for p in (first, second)
        ]

    bare, expected = tap.baseline(call)
    server, seen = call()

    assert seen == expected
    assert [(view[1], view[2]) for view in seen] == [(True, True), (False, False)]
    assert issubclass(seen[0][0], openai.pagination.SyncCursorPage)
    check_two_pages(server, bare)
    assert tap.records() == []


async def test_async_pagination_is_identical_and_records_nothing(tap: Tap) -> None:
    async def call() -> tuple[ScriptedOpenAI, list[Any], list[Any]]:
        walked = batch_pages()
        items = [model_view(b) async for b in walked.async_client().batches.list(limit=2)]
        server = batch_pages()
        first = await server.async_client().batches.list(limit=2)
        second = await first.get_next_page()
        pages = [(type(p), p.has_next_page(), model_view(p)) for p in (first, second)]
        return server, items, pages

    bare, *expected = await tap.abaseline(call)
    server, *seen = await call()

    assert seen == expected
    assert [view[1]["id"] for view in seen[0]] == ["batch_1", "batch_2", "batch_3"]
    assert issubclass(seen[1][0][0], openai.pagination.AsyncCursorPage)
    check_two_pages(server, bare)
    assert tap.records() == []


def test_listing_and_retrieving_chat_completions_records_nothing(tap: Tap) -> None:
    """Stored chat completions come back as `ChatCompletion`s from the very resource
    llmtap hooks; listing or fetching them is not a generation."""
    second = {**completion_body(), "id": "chatcmpl-second"}

    def call() -> list[Any]:
        server = ScriptedOpenAI(
            page([completion_body()], has_more=True),
            page([second], has_more=False),
            reply(200, second),
            reply(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": "gpt-4o-mini", "object": "model", "created": 1, "owned_by": "openai"}
                    ],
                },
            ),
        )
        client = server.client()
        listed = [model_view(c) for c in client.chat.completions.list(limit=1)]
        fetched = model_view(client.chat.completions.retrieve("chatcmpl-second"))
        models = client.models.list()
        return [listed, fetched, models.has_next_page(), [model_view(m) for m in models]]

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert [view[0] for view in seen[0]] == [ChatCompletion, ChatCompletion]
    assert seen[2] is False  # models.list() is a single page
    assert tap.records() == []


# ---- with_raw_response / with_streaming_response --------------------------------------------


def raw_view(raw: Any) -> tuple[Any, ...]:
    return (
        type(raw),
        dict(raw.headers),
        raw.http_response.status_code,
        raw.status_code,
        raw.request_id,
        str(raw.url),
        raw.method,
    )


def test_with_raw_response_is_identical(tap: Tap) -> None:
    def call() -> tuple[Any, ...]:
        raw = (
            ScriptedOpenAI(completion()).client().chat.completions.with_raw_response.create(**CHAT)
        )
        parsed = raw.parse()
        assert raw.parse() is parsed
        return raw_view(raw), model_view(parsed), raw.text

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert seen[0][2:5] == (200, 200, "req_scripted_1")
    assert seen[1][0] is ChatCompletion
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)
        assert record["usage"]["input_tokens"] == 9


async def test_async_with_raw_response_is_identical(tap: Tap) -> None:
    async def call() -> tuple[Any, ...]:
        client = ScriptedOpenAI(completion()).async_client()
        raw = await client.chat.completions.with_raw_response.create(**CHAT)
        return raw_view(raw), model_view(raw.parse())

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("read", ["iter_lines", "parse"])
def test_with_streaming_response_is_identical(tap: Tap, read: str, stream: bool) -> None:
    def call() -> tuple[Any, ...]:
        server = ScriptedOpenAI(chat_stream() if stream else completion())
        client = server.client()
        with client.chat.completions.with_streaming_response.create(
            **CHAT, stream=stream
        ) as response:
            head = raw_view(response)
            if read == "iter_lines":
                body: Any = list(response.iter_lines())
            elif stream:
                parsed = response.parse()
                body = (isinstance(parsed, openai.Stream), chunk_views(list(parsed)))
            else:
                body = model_view(response.parse())
        return head, body, [request_view(r) for r in server.requests]

    expected = tap.baseline(call)
    seen = call()  # an unparsed response is recorded when it is dropped, here on return

    assert seen == expected  # no stream_options: llmtap never asks for usage here
    record = tap.record()
    if tap.on:
        assert record["status"] == "ok"
        assert record["stream"] is stream


async def test_async_with_streaming_response_is_identical(tap: Tap) -> None:
    async def call() -> tuple[Any, ...]:
        client = ScriptedOpenAI(chat_stream()).async_client()
        async with client.chat.completions.with_streaming_response.create(
            **CHAT, stream=True
        ) as response:
            stream = await response.parse()
            return (
                raw_view(response),
                isinstance(stream, openai.AsyncStream),
                chunk_views([chunk async for chunk in stream]),
            )

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert seen[1] is True
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


class Answer(pydantic.BaseModel):
    """A caller's structured-output model, counting how often the SDK validates it."""

    text: str
    validations: ClassVar[list[str]] = []

    @pydantic.field_validator("text")
    @classmethod
    def _count(cls, value: str) -> str:
        cls.validations.append(value)
        return value


def structured(content: str, finish_reason: str = "stop") -> Step:
    body = completion_body(content)
    body["choices"][0]["finish_reason"] = finish_reason
    return reply(200, body)


def test_structured_parse_gives_the_same_parsed_completion(tap: Tap) -> None:
    def call() -> tuple[Any, ...]:
        client = ScriptedOpenAI(structured('{"text": "same"}')).client()
        parsed = client.chat.completions.parse(**CHAT, response_format=Answer)
        return model_view(parsed), parsed.choices[0].message.parsed

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert seen[1] == Answer(text="same")
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", '{"text": "same"}')


def test_raw_response_body_is_parsed_only_when_the_caller_parses(tap: Tap) -> None:
    """The caller's validators run when the caller calls `parse()`, not before."""
    Answer.validations.clear()
    client = ScriptedOpenAI(structured('{"text": "lazy"}')).client()
    raw = client.chat.completions.with_raw_response.parse(**CHAT, response_format=Answer)

    assert Answer.validations == []  # nothing parsed yet
    parsed = raw.parse().choices[0].message.parsed
    assert raw.parse().choices[0].message.parsed is parsed
    assert Answer.validations == ["lazy"]
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", '{"text": "lazy"}')


def test_raw_response_whose_parse_raises_is_still_recorded(tap: Tap) -> None:
    """A structured answer cut by the length limit: `parse()` raises on both sides, and
    the call is recorded as the same call without `with_raw_response` is."""

    def call() -> dict[str, Any]:
        client = ScriptedOpenAI(structured('{"text": "cu', "length")).client()
        raw = client.chat.completions.with_raw_response.parse(**CHAT, response_format=Answer)
        with pytest.raises(openai.LengthFinishReasonError) as caught:
            raw.parse()
        return error_view(caught.value)

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    record = tap.record()
    if tap.on:
        assert record["status"] == "error"
        assert record["error"]["type"] == "LengthFinishReasonError"


# ---- what comes back ---------------------------------------------------------------------------


def test_non_stream_result_has_the_exact_type_and_serialisation(tap: Tap) -> None:
    def call() -> tuple[Any, ...]:
        return model_view(ScriptedOpenAI(completion()).client().chat.completions.create(**CHAT))

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert seen[0] is ChatCompletion
    assert seen[1] == ChatCompletion.model_validate(completion_body()).model_dump()
    assert seen[5] == "req_scripted_1"
    record = tap.record()
    if tap.on:
        assert (record["status"], record["response_id"]) == ("ok", "chatcmpl-scripted")


async def test_async_non_stream_result_has_the_exact_type_and_serialisation(tap: Tap) -> None:
    async def call() -> tuple[Any, ...]:
        client = ScriptedOpenAI(completion()).async_client()
        return model_view(await client.chat.completions.create(**CHAT))

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert seen[0] is ChatCompletion
    record = tap.record()
    if tap.on:
        assert (record["status"], record["response_id"]) == ("ok", "chatcmpl-scripted")


def test_stream_is_an_sdk_stream_to_isinstance_and_a_proxy_to_type(tap: Tap) -> None:
    """What holds on both sides, and the one thing a proxy cannot hide: `type()`."""
    stream = ScriptedOpenAI(chat_stream()).client().chat.completions.create(**CHAT, stream=True)

    assert isinstance(stream, openai.Stream)
    assert stream.__class__ is openai.Stream
    assert stream.response.status_code == 200
    # A transparent proxy is not a subclass: code testing `type(s) is Stream` sees it.
    assert (type(stream) is openai.Stream) is not tap.on
    assert (openai.Stream in type(stream).__mro__) is not tap.on
    list(stream)


def test_stream_repr_is_the_sdk_streams(tap: Tap) -> None:
    """What logs and debuggers show: `str()` and `repr()` of the SDK's own stream."""
    stream = ScriptedOpenAI(chat_stream()).client().chat.completions.create(**CHAT, stream=True)

    assert re.fullmatch(r"<openai\.Stream object at 0x[0-9a-f]+>", str(stream))
    assert re.fullmatch(r"<openai\.Stream object at 0x[0-9a-f]+>", repr(stream))
    stream.close()


def test_stream_shallow_copy_works_as_on_the_sdk_stream(tap: Tap) -> None:
    stream = ScriptedOpenAI(chat_stream()).client().chat.completions.create(**CHAT, stream=True)

    copied = copy.copy(stream)

    assert copied.__class__ is openai.Stream
    assert copied.response is stream.response
    stream.close()


@pytest.mark.parametrize("duplicate", [copy.deepcopy, pickle.dumps], ids=["deepcopy", "pickle"])
def test_stream_that_cannot_be_duplicated_fails_as_the_sdk_stream_does(
    tap: Tap, duplicate: Callable[[Any], Any]
) -> None:
    """A stream holds a live connection: deep copies and pickles fail, with a TypeError."""
    stream = ScriptedOpenAI(chat_stream()).client().chat.completions.create(**CHAT, stream=True)

    with pytest.raises(TypeError, match="cannot pickle"):
        duplicate(stream)
    stream.close()


PROTOCOLS = (
    abc.Iterable,
    abc.Iterator,
    abc.AsyncIterable,
    abc.AsyncIterator,
    abc.Sized,
    abc.Container,
    abc.Reversible,
    abc.Collection,
    abc.Callable,
    abc.Awaitable,
)
"""What duck-typing code asks of a stream, e.g. "is this sync or async?" (Iterable vs
AsyncIterable)."""


def protocols_of(obj: Any) -> list[str]:
    return [protocol.__name__ for protocol in PROTOCOLS if isinstance(obj, protocol)]


def test_stream_supports_exactly_the_sdk_streams_protocols(tap: Tap) -> None:
    stream = ScriptedOpenAI(chat_stream()).client().chat.completions.create(**CHAT, stream=True)

    assert protocols_of(stream) == ["Iterable", "Iterator"]
    stream.close()


async def test_async_stream_supports_exactly_the_sdk_streams_protocols(tap: Tap) -> None:
    client = ScriptedOpenAI(chat_stream()).async_client()
    stream = await client.chat.completions.create(**CHAT, stream=True)

    assert protocols_of(stream) == ["AsyncIterable", "AsyncIterator"]
    await stream.close()


@pytest.mark.skipif(
    not hasattr(openai.AsyncStream, "aclose"), reason="AsyncStream.aclose() is new in openai 3"
)
async def test_async_stream_aclose_finishes_the_record_as_close_does(tap: Tap) -> None:
    """openai 3's `aclose()` (what `contextlib.aclosing` calls) is an alias of `close()`."""
    client = ScriptedOpenAI(chat_stream()).async_client()
    stream = await client.chat.completions.create(**CHAT, stream=True)
    await stream.__anext__()

    await stream.aclose()

    assert stream.response.is_closed
    record = tap.record()  # while the caller still holds the stream
    if tap.on:
        assert (record["status"], record["chunks"]) == ("incomplete", 1)


async def test_async_stream_is_an_sdk_stream_to_isinstance_and_a_proxy_to_type(
    tap: Tap,
) -> None:
    client = ScriptedOpenAI(chat_stream()).async_client()
    stream = await client.chat.completions.create(**CHAT, stream=True)

    assert isinstance(stream, openai.AsyncStream)
    assert stream.__class__ is openai.AsyncStream
    assert (type(stream) is openai.AsyncStream) is not tap.on
    assert (openai.AsyncStream in type(stream).__mro__) is not tap.on
    await stream.close()


@pytest.mark.parametrize("base_url", [LOCAL_URL, BASE_URL], ids=["local", "api.openai.com"])
def test_stream_chunks_serialise_identically(tap: Tap, base_url: str) -> None:
    """Chunk by chunk: `model_dump()`, `to_dict()`, `to_json()`, fields set."""

    def call() -> list[Any]:
        client = ScriptedOpenAI(chat_stream()).client(base_url=base_url)
        stream = client.chat.completions.create(**CHAT, stream=True)
        return [model_view(chunk) for chunk in stream]

    expected = tap.baseline(call)
    seen = call()

    assert [view[1] for view in seen] == [view[1] for view in expected]  # model_dump()
    assert [view[2] for view in seen] == [view[2] for view in expected]  # to_dict()
    assert seen == expected
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


def test_stream_consumed_by_a_bare_for_loop_is_recorded_ok(tap: Tap) -> None:
    """The SDK's own idiom, `for chunk in client.chat.completions.create(stream=True)`:
    nothing but the loop holds the stream, and it is read to the end."""

    def call() -> list[Any]:
        client = ScriptedOpenAI(chat_stream()).client()
        chunks = []
        for chunk in client.chat.completions.create(**CHAT, stream=True):
            chunks.append(chunk)
        return chunk_views(chunks)

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)
        assert record["usage"]["output_tokens"] == len(WORDS)


async def test_async_stream_consumed_by_a_bare_for_loop_is_recorded_ok(tap: Tap) -> None:
    async def call() -> list[Any]:
        client = ScriptedOpenAI(chat_stream()).async_client()
        return chunk_views(
            [chunk async for chunk in await client.chat.completions.create(**CHAT, stream=True)]
        )

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


def test_stream_options_rejected_by_a_server_stays_invisible_to_the_caller(tap: Tap) -> None:
    """With `stream_usage="always"`, a server that refuses `stream_options` costs one
    extra request (documented); the caller still gets the stream it asked for."""

    def call() -> tuple[ScriptedOpenAI, list[Any]]:
        server = ScriptedOpenAI(rejecting_stream_options(chat_stream()), chat_stream())
        client = server.client(base_url=LOCAL_URL)
        return server, chunk_views(list(client.chat.completions.create(**CHAT, stream=True)))

    bare, expected = tap.baseline(call)
    if tap.on:
        llmtap.uninstrument_openai()
        llmtap.instrument_openai(stream_usage="always")
    server, seen = call()

    assert seen == expected
    assert bare.attempts == 1
    assert server.attempts == (2 if tap.on else 1)
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


# ---- peers' known bugs, each pinned ---------------------------------------------------------


def test_stream_enter_returns_the_proxy_openinference_591(tap: Tap) -> None:
    stream = ScriptedOpenAI(chat_stream()).client().chat.completions.create(**CHAT, stream=True)
    with stream as entered:
        assert entered is stream
        chunks = list(entered)

    assert len(chunks) == len(WORDS) + 2
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


def test_break_inside_with_still_records_openinference_3796_openlit_1454(tap: Tap) -> None:
    client = ScriptedOpenAI(chat_stream()).client()
    with client.chat.completions.create(**CHAT, stream=True) as stream:
        for _chunk in stream:
            break

    assert stream.response.is_closed
    record = tap.record()  # at once: no garbage collection needed
    if tap.on:
        assert (record["status"], record["chunks"]) == ("incomplete", 1)


async def test_async_break_inside_with_still_records_openinference_3796(tap: Tap) -> None:
    client = ScriptedOpenAI(chat_stream()).async_client()
    async with await client.chat.completions.create(**CHAT, stream=True) as stream:
        async for _chunk in stream:
            break

    assert stream.response.is_closed
    record = tap.record()
    if tap.on:
        assert (record["status"], record["chunks"]) == ("incomplete", 1)


def test_nothing_is_written_onto_the_sdk_stream_openllmetry_chatstream(tap: Tap) -> None:
    def sdk_object(stream: Any) -> Any:
        return getattr(stream, "__wrapped__", stream)  # the SDK's own Stream, either side

    def call() -> list[Any]:
        client = ScriptedOpenAI(chat_stream()).client()
        stream = client.chat.completions.create(**CHAT, stream=True)
        states = [sorted(vars(sdk_object(stream)))]
        with stream:
            chunks = list(stream)
        states.append(sorted(vars(sdk_object(stream))))
        states.append([sorted(vars(chunk)) for chunk in chunks])
        return states

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected


@pytest.mark.parametrize("via", ["create", "with_raw_response", "stream_helper"])
def test_isinstance_openai_stream_dd_trace_12562(tap: Tap, via: str) -> None:
    completions = ScriptedOpenAI(chat_stream()).client().chat.completions
    if via == "create":
        stream = completions.create(**CHAT, stream=True)
    elif via == "with_raw_response":
        stream = completions.with_raw_response.create(**CHAT, stream=True).parse()
    else:
        with completions.stream(**CHAT) as helper:
            stream = helper._raw_stream  # what the SDK's helper iterates
            helper.until_done()

    assert isinstance(stream, openai.Stream)
    list(stream)
    record = tap.record()
    if tap.on:
        assert record["status"] == "ok"


def test_raw_response_stream_parse_works_otel_contrib_4032(tap: Tap) -> None:
    def call() -> tuple[Any, ...]:
        server = ScriptedOpenAI(chat_stream())
        raw = server.client().chat.completions.with_raw_response.create(**CHAT, stream=True)
        stream = raw.parse()
        assert raw.parse() is stream
        return raw_view(raw), chunk_views(list(stream)), request_view(server.requests[0])

    expected = tap.baseline(call)
    seen = call()

    assert seen == expected
    assert len(seen[1]) == len(WORDS) + 2
    record = tap.record()
    if tap.on:
        assert (record["status"], output_text(record)) == ("ok", TEXT)


async def test_async_stream_helper_close_targets_the_right_object_langfuse_1409(
    tap: Tap,
) -> None:
    """The async helper's `close()` must close the SDK's HTTP response (and nothing else
    must need closing): after it, the connection is released and one record is done."""

    async def call() -> tuple[Any, bool]:
        client = ScriptedOpenAI(chat_stream()).async_client()
        stream = await client.chat.completions.stream(**CHAT).__aenter__()
        first = event_view(await stream.__anext__())
        await stream.close()
        return first, stream._response.is_closed

    expected = await tap.abaseline(call)
    seen = await call()

    assert seen == expected
    assert seen[1] is True
    record = tap.record()
    if tap.on:
        assert record["status"] == "incomplete"
