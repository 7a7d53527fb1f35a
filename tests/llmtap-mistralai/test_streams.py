"""Streams: every way a caller can end one gives exactly one record, and the caller sees
the SDK's own stream (type, `with`, iteration, `close`), sync and async.

HTTP is served in-process through the SDK's own mock transport; no SDK object is mocked.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import llmtap
from support.cassettes import output_text, records_of
from support.fake_mistral import (
    SDK_MAJOR,
    EventStream,
    EventStreamAsync,
    FakeMistral,
    chunk,
    http,
    text_events,
    usage_body,
)

MESSAGES = [{"role": "user", "content": "Is tracing on?"}]
FULL_TEXT = "Tracing is on."


def _stream(client: Any) -> Any:
    return client.chat.stream(model="mistral-small-latest", messages=MESSAGES)


async def _astream(client: Any) -> Any:
    return await client.chat.stream_async(model="mistral-small-latest", messages=MESSAGES)


def _texts(events: list[Any]) -> list[Any]:
    return [e.data.choices[0].delta.content for e in events]


def _one(memory: Any) -> dict[str, Any]:
    (record,) = records_of(memory)
    return record


def _assert_complete(record: dict[str, Any]) -> None:
    assert record["status"] == "ok"
    assert record["stream"] is True
    assert record["operation"] == "chat"
    assert record["response_id"] == "cmpl-fake1"
    assert output_text(record) == FULL_TEXT
    assert record["finish_reason"] == "stop"
    assert record["chunks"] == 6
    assert record["usage"] == {
        "input_tokens": 9,
        "output_tokens": 4,
        "total_tokens": 13,
        "cached_input_tokens": None,
        "cache_creation_input_tokens": None,
        "reasoning_tokens": None,
    }
    assert 0 < record["time_to_first_token_s"] <= record["duration_s"]


def _assert_abandoned(record: dict[str, Any], text: str | None) -> None:
    assert record["status"] == "incomplete"
    assert record["error"] is None
    assert output_text(record) == text
    assert record["finish_reason"] is None
    assert record["usage"]["input_tokens"] is None


# -- sync ------------------------------------------------------------------------------


def test_iteration_to_the_end_sees_every_event(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral().client())
    assert isinstance(stream, EventStream)
    events = list(stream)
    assert _texts(events) == ["", "Tracing", " is", " on", ".", ""]
    assert events[-1].data.usage.total_tokens == 13
    _assert_complete(_one(memory))


def test_the_caller_sees_what_it_would_without_llmtap(memory: Any) -> None:
    bare = [e.data.model_dump() for e in _stream(FakeMistral().client())]
    llmtap.instrument_mistralai()
    try:
        seen = [e.data.model_dump() for e in _stream(FakeMistral().client())]
    finally:
        llmtap.uninstrument_mistralai()
    assert seen == bare
    assert len(records_of(memory)) == 1


def test_with_block_read_to_the_end(memory: Any, instrumented: None) -> None:
    with _stream(FakeMistral().client()) as stream:
        assert isinstance(stream, EventStream)
        events = list(stream)
    assert len(events) == 6
    assert stream.response.is_closed
    _assert_complete(_one(memory))


def test_leaving_the_with_block_early_is_incomplete(memory: Any, instrumented: None) -> None:
    with _stream(FakeMistral().client()) as stream:
        for event in stream:
            if event.data.choices[0].delta.content == "Tracing":
                break
    _assert_abandoned(_one(memory), "Tracing")


def test_break_then_drop_is_incomplete_at_once(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral().client())
    for _ in stream:
        break
    del stream
    _assert_abandoned(_one(memory), None)


def test_break_and_resume_reads_the_rest(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral().client())
    first = [e for _, e in zip(range(2), stream, strict=False)]
    rest = list(stream)
    assert len(first) + len(rest) == 6
    _assert_complete(_one(memory))


def test_next_reads_like_iteration(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral().client())
    events = [next(stream) for _ in range(6)]
    with pytest.raises(StopIteration):
        next(stream)
    assert len(events) == 6
    _assert_complete(_one(memory))


def test_garbage_collected_stream_is_incomplete(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral().client())
    next(stream)
    next(stream)
    del stream
    gc.collect()
    _assert_abandoned(_one(memory), "Tracing")


@pytest.mark.skipif(SDK_MAJOR < 2, reason="mistralai 1.x streams have no close()")
def test_close_is_incomplete(memory: Any, instrumented: None) -> None:
    server = FakeMistral()
    stream = _stream(server.client())
    next(stream)
    next(stream)
    stream.close()
    assert list(stream) == []  # as the SDK: a closed stream yields nothing more
    _assert_abandoned(_one(memory), "Tracing")


@pytest.mark.skipif(SDK_MAJOR >= 2, reason="mistralai 2.x and 3.x streams have close()")
def test_no_close_where_the_sdk_has_none(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral().client())
    assert not hasattr(stream, "close")
    with pytest.raises(AttributeError):
        stream.close()
    stream.__exit__(None, None, None)  # how 1.x closes a stream
    _assert_abandoned(_one(memory), None)


def test_error_mid_stream_is_recorded_and_propagates(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeMistral(cut_after=3).client())
    seen = []
    with pytest.raises(http.ReadError, match="connection reset by peer"):
        seen.extend(stream)
    assert _texts(seen) == ["", "Tracing", " is"]
    record = _one(memory)
    assert record["status"] == "error"
    assert record["error"] == {
        "type": "ReadError",
        "message": "connection reset by peer",
        "status_code": None,
    }
    assert output_text(record) == "Tracing is"
    assert record["chunks"] == 3


def test_stream_ending_without_a_finish_reason_is_incomplete(
    memory: Any, instrumented: None
) -> None:
    events = text_events()[:-2]  # no final chunk, no [DONE]: the connection just ended
    assert len(list(_stream(FakeMistral(events=events).client()))) == 5
    record = _one(memory)
    assert record["status"] == "incomplete"
    assert output_text(record) == FULL_TEXT
    assert record["usage"]["input_tokens"] is None


# -- async -----------------------------------------------------------------------------


async def _read_into(stream: Any, seen: list[Any]) -> None:
    async for event in stream:
        seen.append(event)


def test_async_iteration_to_the_end(memory: Any, instrumented: None) -> None:
    async def run() -> list[Any]:
        stream = await _astream(FakeMistral().client(is_async=True))
        assert isinstance(stream, EventStreamAsync)
        return [event async for event in stream]

    assert _texts(asyncio.run(run())) == ["", "Tracing", " is", " on", ".", ""]
    _assert_complete(_one(memory))


def test_async_with_block_read_to_the_end(memory: Any, instrumented: None) -> None:
    async def run() -> int:
        async with await _astream(FakeMistral().client(is_async=True)) as stream:
            assert isinstance(stream, EventStreamAsync)
            return len([event async for event in stream])

    assert asyncio.run(run()) == 6
    _assert_complete(_one(memory))


def test_async_leaving_the_with_block_early(memory: Any, instrumented: None) -> None:
    async def run() -> None:
        async with await _astream(FakeMistral().client(is_async=True)) as stream:
            async for event in stream:
                if event.data.choices[0].delta.content == "Tracing":
                    break

    asyncio.run(run())
    _assert_abandoned(_one(memory), "Tracing")


def test_async_break_then_drop(memory: Any, instrumented: None) -> None:
    async def run() -> None:
        stream = await _astream(FakeMistral().client(is_async=True))
        async for _ in stream:
            break

    asyncio.run(run())
    gc.collect()
    _assert_abandoned(_one(memory), None)


def test_async_anext_reads_like_iteration(memory: Any, instrumented: None) -> None:
    async def run() -> int:
        stream = await _astream(FakeMistral().client(is_async=True))
        events = [await stream.__anext__() for _ in range(6)]
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()
        return len(events)

    assert asyncio.run(run()) == 6
    _assert_complete(_one(memory))


@pytest.mark.skipif(SDK_MAJOR < 2, reason="mistralai 1.x streams have no close()")
def test_async_close_is_incomplete(memory: Any, instrumented: None) -> None:
    async def run() -> None:
        stream = await _astream(FakeMistral().client(is_async=True))
        await stream.__anext__()
        await stream.__anext__()
        await stream.close()

    asyncio.run(run())
    _assert_abandoned(_one(memory), "Tracing")


def test_async_stream_has_close_and_aclose_only_as_the_sdk_has(
    memory: Any, instrumented: None
) -> None:
    async def run() -> None:
        stream = await _astream(FakeMistral().client(is_async=True))
        assert hasattr(stream, "close") is (SDK_MAJOR >= 2)
        assert not hasattr(stream, "aclose")
        await stream.__aexit__(None, None, None)

    asyncio.run(run())
    _assert_abandoned(_one(memory), None)


def test_async_error_mid_stream(memory: Any, instrumented: None) -> None:
    async def run() -> list[Any]:
        stream = await _astream(FakeMistral(cut_after=3).client(is_async=True))
        seen: list[Any] = []
        with pytest.raises(http.ReadError, match="connection reset by peer"):
            await _read_into(stream, seen)
        return seen

    assert len(asyncio.run(run())) == 3
    record = _one(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == "ReadError"
    assert output_text(record) == "Tracing is"


# -- what a stream's record holds --------------------------------------------------------


def _record_of_stream(memory: Any, events: list[bytes], **kwargs: Any) -> dict[str, Any]:
    client = FakeMistral(events=events).client()
    list(client.chat.stream(model="mistral-small-latest", messages=MESSAGES, **kwargs))
    return _one(memory)


def test_thinking_between_answers_keeps_its_place(memory: Any, instrumented: None) -> None:
    def thinking(text: str) -> dict[str, Any]:
        return {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": text}]}]}

    events = [
        chunk({"role": "assistant", "content": ""}),
        chunk(thinking("Let me")),
        chunk(thinking(" think.")),
        chunk({"content": "First"}),
        chunk({"content": [{"type": "text", "text": " answer."}]}),
        chunk(thinking("Again.")),
        chunk({"content": " Done."}, "stop", usage=usage_body()),
        b"data: [DONE]\n\n",
    ]
    record = _record_of_stream(memory, events)
    assert record["output"][0]["parts"] == [
        {"type": "reasoning", "content": "Let me think."},
        {"type": "text", "content": "First answer."},
        {"type": "reasoning", "content": "Again."},
        {"type": "text", "content": " Done."},
    ]
    assert record["chunks"] == 7


def test_tool_call_pieces_without_an_id_continue_the_call(memory: Any, instrumented: None) -> None:
    def call(index: int, **function: Any) -> dict[str, Any]:
        return {"tool_calls": [{"index": index, "function": function}]}

    events = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_a",
                        "index": 0,
                        "function": {"name": "lookup", "arguments": '{"q": '},
                    },
                ],
            }
        ),
        chunk(call(0, name="", arguments='"tea"}')),
        chunk(
            {
                "tool_calls": [
                    {
                        "id": "call_b",
                        "index": 1,
                        "function": {"name": "clock", "arguments": {"tz": "UTC"}},
                    },
                ]
            }
        ),
        chunk({"content": ""}, "tool_calls", usage=usage_body()),
        b"data: [DONE]\n\n",
    ]
    record = _record_of_stream(memory, events, tools=[])
    assert record["tool_calls"] == [
        {"type": "tool_call", "id": "call_a", "name": "lookup", "arguments": {"q": "tea"}},
        {"type": "tool_call", "id": "call_b", "name": "clock", "arguments": {"tz": "UTC"}},
    ]
    assert record["finish_reason"] == "tool_calls"


def test_choices_of_an_n_request_are_kept_apart(memory: Any, instrumented: None) -> None:
    def choice(index: int, text: str, finish: str | None = None) -> bytes:
        event = chunk({"content": text}, finish)
        return event.replace(b'"index": 0', f'"index": {index}'.encode())

    events = [
        choice(0, "Yes"),
        choice(1, "No"),
        choice(0, " indeed", "stop"),
        choice(1, " way", "length"),
        b"data: [DONE]\n\n",
    ]
    record = _record_of_stream(memory, events, n=2)
    assert [
        (output_text(record, i), m["finish_reason"]) for i, m in enumerate(record["output"])
    ] == [
        ("Yes indeed", "stop"),
        ("No way", "length"),
    ]


NO_CHOICES = b'"choices": [{"index": 0, "delta": {}, "finish_reason": null}]'


def test_an_event_without_choices_before_the_text(memory: Any, instrumented: None) -> None:
    events = [
        chunk({}).replace(NO_CHOICES, b'"choices": []'),
        chunk({"content": "Hi"}),
        chunk({"content": " there"}),
        b"data: [DONE]\n\n",
    ]
    record = _record_of_stream(memory, events)
    assert record["status"] == "incomplete"
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hi there"}],
            "finish_reason": None,
        }
    ]


def test_other_content_chunks_are_kept_as_parts(memory: Any, instrumented: None) -> None:
    events = [
        chunk({"role": "assistant", "content": "See"}),
        chunk({"content": [{"type": "reference", "reference_ids": [3]}]}),
        chunk({"content": ""}, "stop", usage=usage_body()),
        b"data: [DONE]\n\n",
    ]
    record = _record_of_stream(memory, events)
    assert record["output"][0]["parts"] == [
        {"type": "text", "content": "See"},
        {"type": "reference", "content": {"reference_ids": [3], "type": "reference"}},
    ]


def test_usage_in_a_trailing_event_without_choices(memory: Any, instrumented: None) -> None:
    # As OpenAI-compatible servers send it: an extra last event with usage and no choices.
    events = [
        *text_events()[:-2],
        chunk({"content": ""}, "stop"),
        chunk({}, usage=usage_body()).replace(NO_CHOICES, b'"choices": []'),
        b"data: [DONE]\n\n",
    ]
    record = _record_of_stream(memory, events)
    assert record["status"] == "ok"
    assert output_text(record) == FULL_TEXT
    assert record["usage"]["total_tokens"] == 13
    assert record["chunks"] == 7
