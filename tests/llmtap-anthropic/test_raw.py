"""`with_raw_response` and `with_streaming_response`: the caller gets the SDK's raw
response, and the record follows it until the caller parses it."""

from __future__ import annotations

import gc
import inspect
from typing import Any

import anthropic
import pytest

from support.cassettes import records_of
from support.fake_anthropic import TEXT, TOTAL_INPUT, FakeAnthropic, text_events

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}


def test_raw_response_parsed_to_a_message(memory: Any, instrumented: None) -> None:
    raw = FakeAnthropic().client().messages.with_raw_response.create(**REQUEST)
    assert raw.headers["content-type"] == "application/json"
    message = raw.parse()

    assert type(message) is anthropic.types.Message
    assert raw.parse() is message
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["output"][0]["parts"] == [{"type": "text", "content": TEXT}]
    assert record["usage"]["input_tokens"] == TOTAL_INPUT


def test_raw_stream_parsed_to_a_recorded_stream(memory: Any, instrumented: None) -> None:
    raw = FakeAnthropic().client().messages.with_raw_response.create(**REQUEST, stream=True)
    stream = raw.parse()

    assert isinstance(stream, anthropic.Stream)
    assert len(list(stream)) == len(text_events()) - 1
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["stream"] is True
    assert record["output"][0]["parts"] == [{"type": "text", "content": TEXT}]


def test_raw_response_dropped_unparsed_is_recorded_with_its_request(
    memory: Any, instrumented: None
) -> None:
    raw = FakeAnthropic().client().messages.with_raw_response.create(**REQUEST)
    assert raw.http_response.status_code == 200
    del raw
    gc.collect()

    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["metadata"] == {"anthropic.response_mode": "raw"}
    assert record["output"] is None
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_streaming_response_parsed_inside_the_block(
    stream: bool, memory: Any, instrumented: None
) -> None:
    client = FakeAnthropic().client()
    with client.messages.with_streaming_response.create(**REQUEST, stream=stream) as response:
        result = response.parse()
        if stream:
            assert isinstance(result, anthropic.Stream)
            list(result)

    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["output"][0]["parts"] == [{"type": "text", "content": TEXT}]


def test_streaming_response_read_without_parse(memory: Any, instrumented: None) -> None:
    client = FakeAnthropic().client()
    with client.messages.with_streaming_response.create(**REQUEST) as response:
        assert b"Tracing is on." in response.read()
    del response
    gc.collect()

    (record,) = records_of(memory)
    assert record["metadata"] == {"anthropic.response_mode": "streaming_response"}


def test_raw_error_is_raised_and_recorded(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic(status=429, error=("rate_limit_error", "slow down"))
    with pytest.raises(anthropic.RateLimitError):
        server.client().messages.with_raw_response.create(**REQUEST)

    (record,) = records_of(memory)
    assert record["error"]["type"] == "RateLimitError"


async def test_async_raw_and_streaming_responses(memory: Any, instrumented: None) -> None:
    client = FakeAnthropic().async_client()
    raw = await client.messages.with_raw_response.create(**REQUEST)
    parsed = raw.parse()  # 0.x: a LegacyAPIResponse parses synchronously
    message = await parsed if inspect.isawaitable(parsed) else parsed
    assert message.content[0].text == TEXT
    async with client.messages.with_streaming_response.create(**REQUEST, stream=True) as response:
        stream = await response.parse()
        assert isinstance(stream, anthropic.AsyncStream)
        assert len([e async for e in stream]) == len(text_events()) - 1

    first, second = records_of(memory)
    assert [first["stream"], second["stream"]] == [False, True]
    assert [first["status"], second["status"]] == ["ok", "ok"]
    assert second["output"][0]["parts"] == [{"type": "text", "content": TEXT}]
