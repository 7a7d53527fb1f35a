"""`llmtap.log_generation()`: recording a call made with any client."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.record import Record, Usage

UTC = dt.timezone.utc
START = dt.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
END = START + dt.timedelta(seconds=1, microseconds=500000)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def exported(memory: MemoryExporter) -> Record:
    llmtap.flush()
    [record] = memory.records
    return record


def test_a_string_prompt_and_completion_make_the_documented_record(
    memory: MemoryExporter,
) -> None:
    returned = llmtap.log_generation(
        model="gpt-4o-mini",
        provider="openai",
        input="What is 2+2?",
        output="4",
        usage={"input_tokens": 12, "output_tokens": 3},
        start_time=START,
        end_time=END,
        finish_reason="stop",
    )
    record = exported(memory)
    data = record.to_dict()

    assert record is returned
    assert re.fullmatch(r"[0-9a-f]{16}", data.pop("id"))
    assert re.fullmatch(r"[0-9a-f]{32}", data.pop("trace_id"))
    assert data.pop("duration_s") == pytest.approx(1.5, abs=1e-6)
    assert data.pop("output_tokens_per_s") == pytest.approx(2.0, abs=1e-5)
    # gpt-4o-mini lists at 0.15 / 0.60 USD per million input / output tokens.
    assert data.pop("cost_usd") == pytest.approx((12 * 0.15 + 3 * 0.60) / 1e6)
    assert data == {
        "parent_id": None,
        "name": "chat gpt-4o-mini",
        "kind": "generation",
        "operation": "chat",
        "provider": "openai",
        "integration": "manual",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini",
        "response_id": None,
        "input": [{"role": "user", "parts": [{"type": "text", "content": "What is 2+2?"}]}],
        "output": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "4"}],
                "finish_reason": "stop",
            }
        ],
        "system_instructions": None,
        "settings": {},
        "tools": None,
        "tool_calls": None,
        "finish_reason": "stop",
        "usage": {
            "input_tokens": 12,
            "output_tokens": 3,
            "total_tokens": 15,
            "cached_input_tokens": None,
            "cache_creation_input_tokens": None,
            "reasoning_tokens": None,
        },
        "stream": False,
        "chunks": None,
        "start_time": "2025-03-04T05:06:07.123456+00:00",
        "end_time": "2025-03-04T05:06:08.623456+00:00",
        "time_to_first_token_s": None,
        "status": "ok",
        "error": None,
        "tags": [],
        "metadata": {},
        "thread_id": None,
        "user_id": None,
        "server_address": None,
        "provider_usage": None,
        "usage_estimated": False,
        "environment": None,
        "release": None,
    }


def test_without_times_the_call_ends_now_with_zero_duration(memory: MemoryExporter) -> None:
    before = dt.datetime.now(UTC)
    llmtap.log_generation(model="m", provider="test")
    after = dt.datetime.now(UTC)
    data = exported(memory).to_dict()

    assert ISO.match(data["start_time"])
    assert data["start_time"] == data["end_time"]
    assert before <= dt.datetime.fromisoformat(data["end_time"]) <= after
    assert data["duration_s"] == 0.0


def test_times_may_be_epoch_seconds(memory: MemoryExporter) -> None:
    llmtap.log_generation(
        model="m", provider="test", start_time=1_700_000_000, end_time=1_700_000_002.25
    )
    data = exported(memory).to_dict()

    assert data["start_time"] == "2023-11-14T22:13:20.000000+00:00"
    assert data["end_time"] == "2023-11-14T22:13:22.250000+00:00"
    assert data["duration_s"] == 2.25


def test_times_in_other_timezones_are_rendered_in_utc(memory: MemoryExporter) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    llmtap.log_generation(
        model="m", provider="test", end_time=dt.datetime(2025, 1, 1, 13, 0, tzinfo=paris)
    )

    assert exported(memory).to_dict()["end_time"] == "2025-01-01T12:00:00.000000+00:00"


def test_every_optional_field_is_recorded(memory: MemoryExporter) -> None:
    llmtap.log_generation(
        model="claude-x",
        provider="anthropic",
        operation="chat",
        name="summarise",
        response_model="claude-x-2025",
        response_id="msg_1",
        settings={"temperature": 0.2, "max_tokens": 100},
        usage=Usage(input_tokens=10, output_tokens=5, cached_input_tokens=4),
        time_to_first_token_s=0.25,
        stream=True,
        cost_usd=0.0012,
        provider_usage={"input_tokens": 6, "cache_read_input_tokens": 4},
        server_address="api.anthropic.com",
        tags=["nightly"],
        metadata={"job": 7},
    )
    record = exported(memory)

    assert record.name == "summarise"
    assert (record.response_model, record.response_id) == ("claude-x-2025", "msg_1")
    assert record.settings == {"temperature": 0.2, "max_tokens": 100}
    assert record.usage.to_dict()["cached_input_tokens"] == 4
    assert (record.time_to_first_token_s, record.stream) == (0.25, True)
    assert record.cost_usd == 0.0012
    assert record.provider_usage == {"input_tokens": 6, "cache_read_input_tokens": 4}
    assert record.server_address == "api.anthropic.com"
    assert (record.tags, record.metadata) == (["nightly"], {"job": 7})


def test_a_given_total_tokens_is_accepted_and_the_total_is_input_plus_output(
    memory: MemoryExporter,
) -> None:
    llmtap.log_generation(
        model="m",
        provider="test",
        usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
    )

    assert exported(memory).usage.total_tokens == 15


def test_tags_and_metadata_add_to_the_surrounding_context(memory: MemoryExporter) -> None:
    with llmtap.context(tags=["beta"], metadata={"tenant": "acme"}), llmtap.span("work") as span:
        llmtap.log_generation(model="m", provider="test", tags=["nightly"], metadata={"job": 7})
    llmtap.flush()

    record = next(r for r in memory.records if r.kind == "generation")
    assert record.parent_id == span.id
    assert record.tags == ["beta", "nightly"]
    assert record.metadata == {"tenant": "acme", "job": 7}


def test_an_exception_as_error_makes_an_error_record(memory: MemoryExporter) -> None:
    llmtap.log_generation(model="m", provider="test", error=TimeoutError("read timed out"))
    record = exported(memory)

    assert record.status == "error"
    assert record.to_dict()["error"] == {
        "type": "TimeoutError",
        "message": "read timed out",
        "status_code": None,
    }


def test_a_mapping_as_error_makes_an_error_record(memory: MemoryExporter) -> None:
    llmtap.log_generation(
        model="m", provider="test", error={"type": "RateLimit", "message": "slow down"}
    )
    record = exported(memory)

    assert record.status == "error"
    assert record.error is not None
    assert (record.error.type, record.error.message) == ("RateLimit", "slow down")


def test_openai_messages_with_tool_calls_become_tool_call_parts(memory: MemoryExporter) -> None:
    llmtap.log_generation(
        model="gpt-4o",
        provider="openai",
        input=[
            {"role": "system", "content": "You answer about weather."},
            {"role": "user", "content": "Weather in Paris?"},
        ],
        output={
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        finish_reason="tool_calls",
    )
    record = exported(memory)

    assert record.input == [
        {"role": "system", "parts": [{"type": "text", "content": "You answer about weather."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
    ]
    assert record.output == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]


def test_openai_tool_declarations_become_tool_definitions(memory: MemoryExporter) -> None:
    parameters = {"type": "object", "properties": {"city": {"type": "string"}}}
    llmtap.log_generation(
        model="m",
        provider="openai",
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Current weather",
                    "parameters": parameters,
                },
            }
        ],
    )

    assert exported(memory).tools == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather",
            "parameters": parameters,
        }
    ]


def test_a_single_input_message_is_taken_as_one_message(memory: MemoryExporter) -> None:
    llmtap.log_generation(model="m", provider="test", input={"role": "user", "content": "Hi"})

    assert exported(memory).input == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]


def test_messages_already_in_genai_shape_are_kept_and_not_modified(
    memory: MemoryExporter,
) -> None:
    message: dict[str, Any] = {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}
    llmtap.log_generation(model="m", provider="test", output=[message], finish_reason="stop")
    record = exported(memory)

    assert record.output == [
        {"role": "assistant", "parts": [{"type": "text", "content": "ok"}], "finish_reason": "stop"}
    ]
    assert message == {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"usage": {"prompt_tokens": 3}},
            "log_generation(usage=...) has unknown keys ['prompt_tokens']; use "
            "['cache_creation_input_tokens', 'cached_input_tokens', 'input_tokens', "
            "'output_tokens', 'reasoning_tokens']",
        ),
        (
            {"usage": {"input_tokens": -1}},
            "log_generation(usage={'input_tokens': -1}) must be an int >= 0",
        ),
        (
            {"usage": {"output_tokens": 2.5}},
            "log_generation(usage={'output_tokens': 2.5}) must be an int >= 0",
        ),
        (
            {"usage": {"output_tokens": True}},
            "log_generation(usage={'output_tokens': True}) must be an int >= 0",
        ),
        (
            {"start_time": dt.datetime(2025, 1, 1)},
            "log_generation(start_time=...) needs a timezone-aware datetime",
        ),
        (
            {"end_time": "2025-01-01T00:00:00Z"},
            "log_generation(end_time=...) takes epoch seconds or an aware datetime",
        ),
        (
            {"status": "done"},
            "log_generation(status='done') must be 'ok', 'error' or 'incomplete'",
        ),
        (
            {"start_time": END, "end_time": START},
            "log_generation(start_time=...) is after end_time",
        ),
        (
            {"input": 42},
            "log_generation(input=...) takes a prompt string or a list of messages, got int",
        ),
        (
            {"output": 42},
            "log_generation(output=...) takes a completion string or assistant message(s), got int",
        ),
    ],
)
def test_bad_input_raises_a_value_error_that_says_what_to_do(
    memory: MemoryExporter, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        llmtap.log_generation(model="m", provider="test", **kwargs)
    llmtap.flush()

    assert str(raised.value) == message
    assert memory.records == []
