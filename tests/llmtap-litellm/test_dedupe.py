"""Exactly one record per call, whatever LiteLLM fires: the same logger listed in
several places, a second llmtap logger, sync and async handlers both running."""

from __future__ import annotations

import asyncio
from typing import Any

import litellm
import pytest

import llmtap
from llmtap_litellm.calls import CALLS, Calls
from llmtap_litellm.logger import LlmtapLogger

OPENAI = {"api_key": "sk-test", "api_base": "https://api.openai.com/v1"}


def _everywhere(*loggers: Any) -> None:
    """Every list LiteLLM reads, each logger in each: the worst double firing."""
    for name in (
        "callbacks",
        "success_callback",
        "failure_callback",
        "_async_success_callback",
        "_async_failure_callback",
    ):
        setattr(litellm, name, list(loggers))


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
def test_one_record_with_every_style_at_once_sync(lite: Any, stream: bool) -> None:
    second = LlmtapLogger()  # an instance of its own: LiteLLM calls both
    _everywhere(llmtap.litellm_logger(), second)
    before = CALLS.repeats
    name = "chat_stream_include_usage_gpt4" if stream else "chat_nonstream_gpt4o_mini"
    model = "openai/gpt-4" if stream else "openai/gpt-4o-mini"
    with lite.replaying(lite.cassette("openai", name)):
        lite.run_sync(
            "completion", {**OPENAI, "model": model, "messages": lite.question, "stream": stream}
        )
    assert asyncio.run(lite.repeats_beyond(before)) >= 1  # LiteLLM did fire twice
    records = lite.records(1)
    assert len(records) == 1
    assert records[0]["usage"]["input_tokens"] == 12
    assert records[0]["stream"] is stream


@pytest.mark.parametrize("stream", [False, True], ids=["nonstream", "stream"])
async def test_one_record_with_every_style_at_once_async(lite: Any, stream: bool) -> None:
    _everywhere(llmtap.litellm_logger(), LlmtapLogger())
    before = CALLS.repeats
    name = "chat_stream_include_usage_gpt4" if stream else "chat_nonstream_gpt4o_mini"
    model = "openai/gpt-4" if stream else "openai/gpt-4o-mini"
    with lite.replaying(lite.cassette("openai", name)):
        await lite.run_async(
            "completion", {**OPENAI, "model": model, "messages": lite.question, "stream": stream}
        )
        assert await lite.repeats_beyond(before) >= 1
        records = await lite.arecords(1)
    assert len(records) == 1
    assert records[0]["usage"]["output_tokens"] == 5


def test_sync_and_async_success_handlers_both_firing_give_one_record(lite: Any) -> None:
    """LiteLLM's responses stream runs both handlers on some lines (1.74 does)."""
    _everywhere(llmtap.litellm_logger())
    before = CALLS.repeats
    with lite.replaying(lite.cassette("openai", "responses_stream_gpt41_nano")):
        lite.run_sync(
            "responses",
            {**OPENAI, "model": "openai/gpt-4.1-nano", "input": "A story", "stream": True},
        )
    assert asyncio.run(lite.repeats_beyond(before)) >= 1
    records = lite.records(1)
    assert len(records) == 1
    assert records[0]["usage"]["output_tokens"] == 80


def test_per_chunk_stream_events_make_no_records(lite: Any) -> None:
    _everywhere(llmtap.litellm_logger())
    with lite.replaying(lite.cassette("litellm", "completion_stream_anthropic_thinking")):
        lite.run_sync(
            "completion",
            {
                "model": "anthropic/claude-sonnet-4-5",
                "api_key": "sk-ant-test",
                "messages": lite.question,
                "max_tokens": 5120,
                "stream": True,
            },
        )
    records = lite.records(1)
    assert len(records) == 1
    assert records[0]["usage"]["output_tokens"] == 93


def test_remembered_call_ids_are_bounded() -> None:
    calls = Calls(ended_limit=3)
    for n in range(10):
        assert calls.end({"litellm_call_id": f"call-{n}"}) == (True, None)
    assert calls.ended_count == 3
    assert calls.end({"litellm_call_id": "call-9"}) == (False, None)  # still remembered
    assert calls.end({"litellm_call_id": "call-0"}) == (True, None)  # forgotten: oldest


def test_calls_that_never_end_are_evicted_as_incomplete(lite: Any) -> None:
    calls = Calls(limit=2)
    for n in range(5):
        calls.begin({"litellm_call_id": f"call-{n}", "call_type": "completion"})
    assert len(calls) == 2
    records = lite.records(3)
    assert [r["status"] for r in records] == ["incomplete"] * 3
    assert llmtap.stats()["evicted_runs"] >= 3
