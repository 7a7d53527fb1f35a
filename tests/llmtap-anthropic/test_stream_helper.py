"""`messages.stream()`: every way of consuming or leaving the helper gives exactly one
record, and the caller sees exactly what the SDK gives without llmtap."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import anthropic
import pytest
from anthropic.lib.streaming import AsyncMessageStream, MessageStream
from anthropic.resources.beta.messages import Messages as BetaMessages

import llmtap
from support.cassettes import records_of
from support.fake_anthropic import (
    CACHE_READ,
    CACHE_WRITE,
    MESSAGE_ID,
    MODEL,
    OUTPUT_TOKENS,
    OVERLOADED_ERROR,
    TEXT,
    TOTAL_INPUT,
    WORDS,
    FakeAnthropic,
    block_start,
    delta,
    message_start,
    text_events,
)

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Is tracing on?"}],
}
BETA_STREAM = pytest.mark.skipif(
    not hasattr(BetaMessages, "stream"), reason="beta.messages.stream() is newer than this SDK"
)
# What the server sends: message_start, block start, 4 deltas, block stop, message_delta,
# message_stop (the SDK drops the ping).
EVENTS = len(text_events()) - 1


def _assert_ok(record: dict[str, Any]) -> None:
    assert record["status"] == "ok"
    assert record["stream"] is True
    assert record["chunks"] == EVENTS
    assert record["response_id"] == MESSAGE_ID
    assert record["response_model"] == MODEL
    assert record["request_model"] == "claude-sonnet-4-6"
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": TEXT}],
            "finish_reason": "end_turn",
        }
    ]
    assert record["finish_reason"] == "end_turn"
    assert record["usage"] == {
        "input_tokens": TOTAL_INPUT,
        "output_tokens": OUTPUT_TOKENS,
        "total_tokens": TOTAL_INPUT + OUTPUT_TOKENS,
        "cached_input_tokens": CACHE_READ,
        "cache_creation_input_tokens": CACHE_WRITE,
        "reasoning_tokens": None,
    }
    assert 0 < record["time_to_first_token_s"] <= record["duration_s"]


def _dumps(events: list[Any]) -> list[dict[str, Any]]:
    return [e.model_dump() for e in events]


def _plain_and_traced(
    consume: Callable[[anthropic.Anthropic], Any], memory: Any
) -> tuple[Any, Any]:
    plain = consume(FakeAnthropic().client())
    llmtap.instrument_anthropic()
    try:
        traced = consume(FakeAnthropic().client())
    finally:
        llmtap.uninstrument_anthropic()
    return plain, traced


def test_event_iteration_is_identical_and_recorded_once(memory: Any) -> None:
    def consume(client: anthropic.Anthropic) -> list[Any]:
        with client.messages.stream(**REQUEST) as stream:
            return list(stream)

    plain, traced = _plain_and_traced(consume, memory)

    assert _dumps(traced) == _dumps(plain)
    assert [e.type for e in traced].count("text") == len(WORDS)
    (record,) = records_of(memory)
    _assert_ok(record)


def test_text_stream_is_identical_and_recorded_once(memory: Any) -> None:
    def consume(client: anthropic.Anthropic) -> list[str]:
        with client.messages.stream(**REQUEST) as stream:
            return list(stream.text_stream)

    plain, traced = _plain_and_traced(consume, memory)

    assert traced == plain == WORDS
    (record,) = records_of(memory)
    _assert_ok(record)


def test_get_final_message_is_identical_and_recorded_once(memory: Any) -> None:
    def consume(client: anthropic.Anthropic) -> Any:
        with client.messages.stream(**REQUEST) as stream:
            return stream.get_final_message()

    plain, traced = _plain_and_traced(consume, memory)

    assert traced.model_dump() == plain.model_dump()
    assert type(traced) is type(plain)
    (record,) = records_of(memory)
    _assert_ok(record)


def test_until_done_then_final_text(memory: Any, instrumented: None) -> None:
    with FakeAnthropic().client().messages.stream(**REQUEST) as stream:
        stream.until_done()
        assert stream.get_final_text() == TEXT

    (record,) = records_of(memory)
    _assert_ok(record)


def test_helper_keeps_its_type_and_response(memory: Any, instrumented: None) -> None:
    manager = FakeAnthropic().client().messages.stream(**REQUEST)
    assert type(manager).__name__ == "MessageStreamManager"
    with manager as stream:
        assert type(stream) is MessageStream
        assert stream.response.status_code == 200
        assert isinstance(stream._raw_stream, anthropic.Stream)
        stream.until_done()

    assert len(records_of(memory)) == 1


def test_manager_never_entered_sends_and_records_nothing(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic()
    server.client().messages.stream(**REQUEST)

    assert server.requests == []
    assert records_of(memory) == []


def test_break_inside_with_records_incomplete_once(memory: Any, instrumented: None) -> None:
    with FakeAnthropic().client().messages.stream(**REQUEST) as stream:
        for event in stream:
            if event.type == "text":
                break
        assert records_of(memory) == []  # still open: the caller may resume

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["chunks"] == 3  # message_start, block start, the first delta
    assert record["output"][0]["parts"] == [{"type": "text", "content": WORDS[0]}]
    assert record["output"][0]["finish_reason"] is None
    # message_start's output count is a placeholder, not a count.
    assert record["usage"]["output_tokens"] is None
    assert record["usage"]["input_tokens"] == TOTAL_INPUT
    assert record["provider_usage"]["output_tokens"] == 1


def test_close_finishes_the_record_at_once(memory: Any, instrumented: None) -> None:
    with FakeAnthropic().client().messages.stream(**REQUEST) as stream:
        next(iter(stream))
        stream.close()
        (record,) = records_of(memory)
        assert record["status"] == "incomplete"
        assert record["chunks"] == 1

    assert len(records_of(memory)) == 1


def test_dropped_helper_is_recorded_when_collected(memory: Any, instrumented: None) -> None:
    manager = FakeAnthropic().client().messages.stream(**REQUEST)
    stream = manager.__enter__()
    next(iter(stream.text_stream))
    del stream, manager
    gc.collect()

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["output"][0]["parts"] == [{"type": "text", "content": WORDS[0]}]


def test_exception_in_the_callers_loop_records_incomplete(memory: Any, instrumented: None) -> None:
    def fail_in_loop() -> None:
        with FakeAnthropic().client().messages.stream(**REQUEST) as stream:
            for _ in stream.text_stream:
                raise KeyError("caller")

    with pytest.raises(KeyError):
        fail_in_loop()

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"


def test_http_error_at_enter_propagates_and_is_recorded(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic(status=429, error=("rate_limit_error", "slow down"))
    with (
        pytest.raises(anthropic.RateLimitError, match="slow down"),
        server.client().messages.stream(**REQUEST),
    ):
        pass

    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == "RateLimitError"
    assert record["error"]["status_code"] == 429
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Is tracing on?"}]}
    ]


def test_error_event_mid_stream_propagates_and_is_recorded(memory: Any, instrumented: None) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    events = [*text_events()[:4], overloaded]
    server = FakeAnthropic(events=events)

    with (
        pytest.raises(anthropic.APIStatusError, match="Overloaded") as raised,
        server.client().messages.stream(**REQUEST) as stream,
    ):
        stream.get_final_message()

    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == type(raised.value).__name__
    assert record["error"]["status_code"] == raised.value.status_code
    assert record["output"][0]["parts"] == [{"type": "text", "content": WORDS[0]}]


def test_manager_entered_twice_sends_and_records_twice(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic()
    manager = server.client().messages.stream(**REQUEST)
    for _ in range(2):
        with manager as stream:
            stream.until_done()

    assert len(server.requests) == 2
    assert [r["status"] for r in records_of(memory)] == ["ok", "ok"]


def test_tool_use_and_thinking_stream_through_the_helper(memory: Any, instrumented: None) -> None:
    events = [
        message_start(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, type="thinking_delta", thinking="Weather "),
        delta(0, type="thinking_delta", thinking="needed."),
        delta(0, type="signature_delta", signature="c2ln"),
        {"type": "content_block_stop", "index": 0},
        block_start(1, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}),
        delta(1, type="input_json_delta", partial_json=""),
        delta(1, type="input_json_delta", partial_json='{"city": '),
        delta(1, type="input_json_delta", partial_json='"Paris"}'),
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 30, "output_tokens_details": {"thinking_tokens": 12}},
        },
        {"type": "message_stop"},
    ]
    with FakeAnthropic(events=events).client().messages.stream(**REQUEST) as stream:
        final = stream.get_final_message()

    assert final.content[1].input == {"city": "Paris"}
    (record,) = records_of(memory)
    call = {
        "type": "tool_call",
        "id": "toolu_1",
        "name": "get_weather",
        "arguments": {"city": "Paris"},
    }
    assert record["output"][0]["parts"] == [
        {"type": "reasoning", "content": "Weather needed."},
        call,
    ]
    assert record["tool_calls"] == [call]
    assert record["finish_reason"] == "tool_use"
    assert record["usage"]["output_tokens"] == 30
    assert record["usage"]["reasoning_tokens"] == 12
    assert record["chunks"] == len(events)


@BETA_STREAM
def test_beta_stream_is_recorded_once(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic()
    with server.client().beta.messages.stream(**REQUEST) as stream:
        assert stream.get_final_text() == TEXT

    assert len(server.requests) == 1
    (record,) = records_of(memory)
    _assert_ok(record)


# ---- async ---------------------------------------------------------------------------


async def test_async_text_stream_and_final_message(memory: Any, instrumented: None) -> None:
    client = FakeAnthropic().async_client()
    async with client.messages.stream(**REQUEST) as stream:
        assert type(stream) is AsyncMessageStream
        texts = [t async for t in stream.text_stream]
        final = await stream.get_final_message()

    assert texts == WORDS
    assert final.content[0].text == TEXT
    (record,) = records_of(memory)
    _assert_ok(record)


async def test_async_event_iteration_is_identical(memory: Any) -> None:
    async def consume(client: anthropic.AsyncAnthropic) -> list[Any]:
        async with client.messages.stream(**REQUEST) as stream:
            return [event async for event in stream]

    plain = await consume(FakeAnthropic().async_client())
    llmtap.instrument_anthropic()
    try:
        traced = await consume(FakeAnthropic().async_client())
    finally:
        llmtap.uninstrument_anthropic()

    assert _dumps(traced) == _dumps(plain)
    (record,) = records_of(memory)
    _assert_ok(record)


async def test_async_until_done(memory: Any, instrumented: None) -> None:
    async with FakeAnthropic().async_client().messages.stream(**REQUEST) as stream:
        await stream.until_done()
        assert await stream.get_final_text() == TEXT

    (record,) = records_of(memory)
    _assert_ok(record)


async def test_async_break_records_incomplete_at_block_end(memory: Any, instrumented: None) -> None:
    async with FakeAnthropic().async_client().messages.stream(**REQUEST) as stream:
        async for _ in stream.text_stream:
            break

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["output"][0]["parts"] == [{"type": "text", "content": WORDS[0]}]


async def test_async_close_finishes_the_record_at_once(memory: Any, instrumented: None) -> None:
    async with FakeAnthropic().async_client().messages.stream(**REQUEST) as stream:
        await stream.__anext__()
        await stream.close()
        (record,) = records_of(memory)
        assert record["status"] == "incomplete"

    assert len(records_of(memory)) == 1


async def test_async_http_error_at_enter(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic(status=529, error=("overloaded_error", "Overloaded"))
    with pytest.raises(OVERLOADED_ERROR):
        async with server.async_client().messages.stream(**REQUEST):
            pass

    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == OVERLOADED_ERROR.__name__
    assert record["error"]["status_code"] == 529


@BETA_STREAM
async def test_async_beta_stream(memory: Any, instrumented: None) -> None:
    async with FakeAnthropic().async_client().beta.messages.stream(**REQUEST) as stream:
        assert await stream.get_final_text() == TEXT

    (record,) = records_of(memory)
    _assert_ok(record)


async def test_async_manager_never_entered_records_nothing(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic()
    manager = server.async_client().messages.stream(**REQUEST)
    # The SDK created the request coroutine in stream(); close it as the SDK would leave it.
    manager._AsyncMessageStreamManager__api_request.close()  # type: ignore[attr-defined]

    assert server.requests == []
    assert records_of(memory) == []
