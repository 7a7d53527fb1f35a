"""`messages.create(stream=True)`: the caller gets the SDK's stream, and each exit path
gives exactly one record."""

from __future__ import annotations

import copy
import gc
from typing import Any

import anthropic
import pytest

import llmtap
from support.cassettes import records_of
from support.fake_anthropic import (
    OUTPUT_TOKENS,
    TEXT,
    TOTAL_INPUT,
    WORDS,
    FakeAnthropic,
    block_start,
    block_stop,
    delta,
    message_delta,
    message_start,
    text_events,
)

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Is tracing on?"}],
    "stream": True,
}
EVENTS = len(text_events()) - 1  # the SDK drops the ping


def _stream(server: FakeAnthropic | None = None) -> Any:
    return (server or FakeAnthropic()).client().messages.create(**REQUEST)


def test_events_are_identical_and_the_record_is_exact(memory: Any) -> None:
    plain = list(_stream())
    llmtap.instrument_anthropic()
    try:
        traced = list(_stream())
    finally:
        llmtap.uninstrument_anthropic()

    assert [e.model_dump() for e in traced] == [e.model_dump() for e in plain]
    assert [type(e) for e in traced] == [type(e) for e in plain]
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["chunks"] == EVENTS
    assert record["output"][0]["parts"] == [{"type": "text", "content": TEXT}]
    assert record["usage"]["input_tokens"] == TOTAL_INPUT
    assert record["usage"]["output_tokens"] == OUTPUT_TOKENS


def test_stream_keeps_type_response_and_context_manager(memory: Any, instrumented: None) -> None:
    stream = _stream()

    assert isinstance(stream, anthropic.Stream)
    assert stream.response.status_code == 200
    assert repr(stream).startswith("<anthropic")
    with stream as entered:
        assert entered is stream
        first = next(entered)
    assert first.type == "message_start"
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["chunks"] == 1


@pytest.mark.parametrize("leave", ["break_and_drop", "close", "exception_in_body", "gc"])
def test_every_early_exit_records_incomplete_once(
    leave: str, memory: Any, instrumented: None
) -> None:
    stream = _stream()
    if leave == "break_and_drop":
        for _ in stream:
            break
        del stream
    elif leave == "close":
        next(stream)
        stream.close()
    elif leave == "exception_in_body":

        def fail_in_body() -> None:
            with stream:
                for _ in stream:
                    raise RuntimeError("caller")

        with pytest.raises(RuntimeError):
            fail_in_body()
    else:
        iterator = iter(stream)
        next(iterator)
        del stream, iterator
        gc.collect()

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["chunks"] == 1
    assert record["response_id"] == "msg_fake1"


def test_break_then_resume_reads_on_into_the_same_record(memory: Any, instrumented: None) -> None:
    stream = _stream()
    for _ in stream:
        break
    rest = list(stream)

    assert len(rest) == EVENTS - 1
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["chunks"] == EVENTS


def test_copy_is_the_sdks_own_stream(memory: Any, instrumented: None) -> None:
    stream = _stream()
    duplicate = copy.copy(stream)

    assert type(duplicate) is anthropic.Stream
    list(stream)
    assert [r["status"] for r in records_of(memory)] == ["ok"]


def test_stream_cut_before_message_stop_is_incomplete(memory: Any, instrumented: None) -> None:
    events = text_events()[:5]  # message_start, block start, ping, two deltas
    chunks = list(_stream(FakeAnthropic(events=events)))

    assert len(chunks) == 4
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["finish_reason"] is None
    assert record["output"][0]["parts"] == [{"type": "text", "content": "".join(WORDS[:2])}]
    assert record["usage"]["output_tokens"] is None


def test_error_event_mid_stream_raises_the_same_error(memory: Any) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    events = [*text_events()[:4], overloaded]

    def read() -> tuple[type[BaseException], str, int]:
        seen: list[Any] = []

        def read_all() -> None:
            for event in _stream(FakeAnthropic(events=events)):
                seen.append(event)

        with pytest.raises(anthropic.APIStatusError) as raised:
            read_all()
        return type(raised.value), str(raised.value), len(seen)

    plain = read()
    llmtap.instrument_anthropic()
    try:
        traced = read()
    finally:
        llmtap.uninstrument_anthropic()

    assert traced == plain
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == plain[0].__name__
    assert record["error"]["message"] == plain[1]
    assert record["chunks"] == 3


def test_usage_is_merged_field_by_field(memory: Any, instrumented: None) -> None:
    start_usage = {
        "input_tokens": 50,
        "cache_creation_input_tokens": None,
        "cache_read_input_tokens": 100,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 1,
        "server_tool_use": None,
        "service_tier": "priority",
    }
    # Newer API versions repeat the input counts in message_delta; nulls never overwrite.
    delta_usage = {
        "input_tokens": 50,
        "cache_creation_input_tokens": 20,
        "cache_read_input_tokens": None,
        "output_tokens": 42,
        "server_tool_use": {"web_search_requests": 2},
    }
    events = [
        message_start(start_usage),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Hi"),
        block_stop(0),
        message_delta("end_turn", delta_usage),
        {"type": "message_stop"},
    ]
    list(_stream(FakeAnthropic(events=events)))

    (record,) = records_of(memory)
    assert record["usage"] == {
        "input_tokens": 170,
        "output_tokens": 42,
        "total_tokens": 212,
        "cached_input_tokens": 100,
        "cache_creation_input_tokens": 20,
        "reasoning_tokens": None,
    }
    assert record["provider_usage"] == {
        "input_tokens": 50,
        "cache_creation_input_tokens": 20,
        "cache_read_input_tokens": 100,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 42,
        "server_tool_use": {"web_search_requests": 2},
        "service_tier": "priority",
    }


def test_redacted_thinking_server_tools_and_citations(memory: Any, instrumented: None) -> None:
    search = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}
    results = {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [
            {
                "type": "web_search_result",
                "title": "T",
                "url": "https://e.x",
                "encrypted_content": "e",
            }
        ],
    }
    citation = {
        "type": "web_search_result_location",
        "cited_text": "c",
        "url": "https://e.x",
        "title": "T",
        "encrypted_index": "i",
    }
    events = [
        message_start(),
        block_start(0, {"type": "redacted_thinking", "data": "opaque"}),
        block_stop(0),
        block_start(1, search),
        delta(1, type="input_json_delta", partial_json='{"query": "tracing"}'),
        block_stop(1),
        block_start(2, results),
        block_stop(2),
        block_start(3, {"type": "text", "text": ""}),
        delta(3, type="citations_delta", citation=citation),
        delta(3, type="text_delta", text="Found it."),
        block_stop(3),
        message_delta(),
        {"type": "message_stop"},
    ]
    list(_stream(FakeAnthropic(events=events)))

    (record,) = records_of(memory)
    call = {
        "type": "tool_call",
        "id": "srvtoolu_1",
        "name": "web_search",
        "arguments": {"query": "tracing"},
    }
    assert record["output"][0]["parts"] == [
        {"type": "reasoning", "content": None, "redacted": True},
        call,
        {"type": "tool_call_response", "id": "srvtoolu_1", "response": results["content"]},
        {"type": "text", "content": "Found it."},
    ]
    assert record["tool_calls"] == [call]
    assert record["chunks"] == len(events)
    assert record["time_to_first_token_s"] > 0


# ---- async ---------------------------------------------------------------------------


async def test_async_stream_is_identical_and_recorded(memory: Any) -> None:
    async def read() -> list[Any]:
        stream = await FakeAnthropic().async_client().messages.create(**REQUEST)
        assert isinstance(stream, anthropic.AsyncStream)
        return [e.model_dump() async for e in stream]

    plain = await read()
    llmtap.instrument_anthropic()
    try:
        traced = await read()
    finally:
        llmtap.uninstrument_anthropic()

    assert traced == plain
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["chunks"] == EVENTS
    assert record["output"][0]["parts"] == [{"type": "text", "content": TEXT}]


@pytest.mark.parametrize("leave", ["break_in_with", "close", "gc"])
async def test_async_early_exit_records_incomplete_once(
    leave: str, memory: Any, instrumented: None
) -> None:
    stream = await FakeAnthropic().async_client().messages.create(**REQUEST)
    if leave == "break_in_with":
        async with stream:
            async for _ in stream:
                break
    elif leave == "close":
        await stream.__anext__()
        await stream.close()
    else:
        await stream.__anext__()
        del stream
        gc.collect()

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["chunks"] == 1


async def test_async_error_event_mid_stream(memory: Any, instrumented: None) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server = FakeAnthropic(events=[*text_events()[:4], overloaded])
    stream = await server.async_client().messages.create(**REQUEST)
    with pytest.raises(anthropic.APIStatusError, match="Overloaded") as raised:
        async for _ in stream:
            pass

    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == type(raised.value).__name__
