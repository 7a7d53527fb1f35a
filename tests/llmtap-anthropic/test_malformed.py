"""Malformed and unexpected bodies through the real Anthropic SDK: llmtap changes nothing.

Hypothesis mutates valid messages and event streams (`support.fuzz_bodies`) and serves
them through the SDK's own mock transport. Each body is sent once with llmtap off and
once with it on: the caller must get the same message, the same stream events (and, from
`messages.stream()`, the same final message), or the same exception, and llmtap must
leave exactly one finished, exportable record per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from hypothesis import given
from hypothesis import strategies as st

import llmtap
from llmtap.exporters import MemoryExporter
from support import fuzz_bodies as fuzz
from support.fake_anthropic import BASE_URL, http, message_body, text_events
from support.fuzz_bodies import (
    ERROR_STATUSES,
    FUZZ,
    EventScript,
    Reply,
    answering,
    event_scripts,
    named_event,
    replies,
    stream_content,
)

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}
TOOL_EVENTS = [
    {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}},
    {"type": "content_block_delta", "index": 1,
     "delta": {"type": "input_json_delta", "partial_json": '{"q": "x"}'}},
    {"type": "content_block_stop", "index": 1},
]  # fmt: skip


@pytest.fixture
def tap(memory: MemoryExporter) -> Any:
    llmtap.instrument_anthropic()
    yield memory
    llmtap.uninstrument_anthropic()


def parity(memory: MemoryExporter, run: Callable[[], Any]) -> Any:
    return fuzz.parity(memory, run, llmtap.uninstrument_anthropic, llmtap.instrument_anthropic)


def client(respond: Callable[[Any], Any], is_async: bool) -> Any:
    options = {"api_key": "sk-ant-test", "base_url": BASE_URL, "max_retries": 0}
    if not is_async:
        transport = http.MockTransport(respond)
        return anthropic.Anthropic(**options, http_client=http.Client(transport=transport))

    async def arespond(request: Any) -> Any:
        return respond(request)

    transport = http.MockTransport(arespond)
    return anthropic.AsyncAnthropic(**options, http_client=http.AsyncClient(transport=transport))


def serving(script: EventScript, status: int, is_async: bool) -> Any:
    def respond(request: Any) -> Any:
        content = stream_content(script, named_event, http, is_async=is_async)
        return http.Response(status, headers={"content-type": "text/event-stream"}, content=content)

    return client(respond, is_async)


def with_tools(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text answer, then a tool call before the message ends."""
    return [*events[:-2], *TOOL_EVENTS, *events[-2:]]


statuses = st.sampled_from([200, 200, 200, 200, 200, *ERROR_STATUSES, 529])
scripts = st.sampled_from([text_events(), with_tools(text_events())]).flatmap(event_scripts)


@FUZZ
@given(reply=replies(message_body()))
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_message_bodies(tap: MemoryExporter, is_async: bool, reply: Reply) -> None:
    def run() -> Any:
        sdk = client(answering(reply, http), is_async)
        return fuzz.returned(lambda: sdk.messages.create(**REQUEST), is_async)

    record = parity(tap, run)
    assert record.operation == "chat"


@FUZZ
@given(script=scripts, status=statuses)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_create_streams(
    tap: MemoryExporter, is_async: bool, script: EventScript, status: int
) -> None:
    def run() -> Any:
        sdk = serving(script, status, is_async)
        return fuzz.streamed(lambda: sdk.messages.create(**REQUEST, stream=True), is_async)

    record = parity(tap, run)
    assert record.stream is True


def helper_outcome(sdk: Any) -> Any:
    """Every event `messages.stream()` yields, how it ended, then its final message."""
    try:
        with sdk.messages.stream(**REQUEST) as stream:
            events = fuzz.drained(stream)
            return events, fuzz.outcome(stream.get_final_message)
    except Exception as exc:
        return fuzz.failure(exc)


async def ahelper_outcome(sdk: Any) -> Any:
    try:
        async with sdk.messages.stream(**REQUEST) as stream:
            events = await fuzz.adrained(stream)
            try:
                final = ("returned", fuzz.plain(await stream.get_final_message()))
            except Exception as exc:
                final = fuzz.failure(exc)
            return events, final
    except Exception as exc:
        return fuzz.failure(exc)


@FUZZ
@given(script=scripts, status=statuses)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_stream_helper(
    tap: MemoryExporter, is_async: bool, script: EventScript, status: int
) -> None:
    def run() -> Any:
        sdk = serving(script, status, is_async)
        if is_async:
            return asyncio.run(ahelper_outcome(sdk))
        return helper_outcome(sdk)

    record = parity(tap, run)
    assert record.stream is True


# ---- what the fuzzing found, as examples -----------------------------------------------


def test_a_model_that_is_not_a_string_is_not_recorded(tap: MemoryExporter) -> None:
    """The store's text column refused a list, and the whole batch was lost."""
    body = {**message_body(), "model": ["claude"], "id": {"x": 1}}
    sdk = client(lambda request: http.Response(200, json=body), False)
    assert sdk.messages.create(**REQUEST).model == ["claude"]
    record = fuzz.one_record(tap)
    assert (record.response_model, record.response_id) == (None, None)
    assert record.output[0]["parts"] == [{"type": "text", "content": "Tracing is on."}]
    assert llmtap.stats()["faults"] == {}


def test_a_content_block_whose_type_is_not_a_string_is_kept_as_unknown(
    tap: MemoryExporter,
) -> None:
    body = message_body([{"type": "text", "text": "Tracing"}, {"type": ["text"], "text": "!"}])
    client(lambda request: http.Response(200, json=body), False).messages.create(**REQUEST)
    record = fuzz.one_record(tap)
    assert record.output[0]["parts"] == [
        {"type": "text", "content": "Tracing"},
        {"type": "unknown", "content": {"type": ["text"], "text": "!"}},
    ]
    assert llmtap.stats()["faults"] == {}


def test_a_stream_with_malformed_indexes_keeps_the_rest(tap: MemoryExporter) -> None:
    """A block index that is a list no longer stops the stream's record being read, and
    a model that is a list is not recorded (needs the fix to `llmtap_anthropic/stream.py`
    proposed with this test)."""
    events = text_events()
    events[0]["message"]["model"] = ["claude"]
    events.insert(3, {**events[3], "index": [0]})
    events.insert(1, {**events[1], "index": [1]})
    script = EventScript(tuple(events), len(events), 0, False)
    list(serving(script, 200, False).messages.create(**REQUEST, stream=True))
    record = fuzz.one_record(tap)
    assert (record.status, record.response_model) == ("ok", None)
    assert record.output[0]["parts"] == [{"type": "text", "content": "Tracing is on."}]
    assert record.usage.output_tokens == 6
    assert llmtap.stats()["faults"] == {}
