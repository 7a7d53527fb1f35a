"""Every shared Anthropic cassette, replayed sync and async through the real SDK, gives
records equal to its truth file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anthropic
import pytest

from support.cassettes import SHARED_CASSETTES, load_cassette, records_of, replay, request_body
from support.fake_anthropic import fit

ANTHROPIC_CASSETTES = SHARED_CASSETTES / "anthropic"

if not ANTHROPIC_CASSETTES.is_dir():
    pytest.skip("../shared/cassettes is not present", allow_module_level=True)

CASSETTES = sorted(ANTHROPIC_CASSETTES.glob("*.yaml"))


def _resource(client: Any, uri: str) -> Any:
    """Cassettes recorded through the beta client have `?beta=true` in their URI."""
    return client.beta.messages if "beta=true" in uri else client.messages


def _call_all(path: Path, is_async: bool) -> list[BaseException]:
    """Make every call in the cassette as the recording did; return raised errors."""
    cassette, _ = load_cassette(path)
    calls = [(request_body(i), i["request"]["uri"]) for i in cassette["interactions"]]
    errors: list[BaseException] = []
    with replay(path):
        if not is_async:
            client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
            for body, uri in calls:
                try:
                    create = _resource(client, uri).create
                    result = create(**fit(create, body))
                    if body.get("stream"):
                        for _ in result:
                            pass
                except anthropic.APIError as error:
                    errors.append(error)
        else:

            async def run() -> None:
                client = anthropic.AsyncAnthropic(api_key="sk-ant-test", max_retries=0)
                for body, uri in calls:
                    try:
                        create = _resource(client, uri).create
                        result = await create(**fit(create, body))
                        if body.get("stream"):
                            async for _ in result:
                                pass
                    except anthropic.APIError as error:
                        errors.append(error)

            asyncio.run(run())
    return errors


def _parts(record: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [p for p in record["output"][0]["parts"] if p["type"] == kind]


def _assert_record_matches(record: dict[str, Any], truth: dict[str, Any]) -> None:
    assert record["kind"] == "generation"
    assert record["operation"] == "chat"
    assert record["provider"] == "anthropic"
    assert record["integration"] == "llmtap-anthropic"
    assert record["server_address"] == truth["host"]
    assert record["request_model"] == truth["request_model"]
    assert record["stream"] is truth["streaming"]
    assert record["duration_s"] > 0
    if truth["status_code"] >= 400:
        assert record["status"] == "error"
        assert record["error"]["status_code"] == truth["status_code"]
        assert truth["error_message"] in record["error"]["message"]
        assert truth["error_type"] in record["error"]["message"]
        assert record["usage"]["input_tokens"] is None
        assert record["output"] is None
        return
    assert record["status"] == "ok"
    assert record["response_id"] == truth["response_id"]
    assert record["response_model"] == truth["response_model"]
    usage = record["usage"]
    cache_read = truth.get("cache_read_input_tokens")
    cache_write = truth.get("cache_creation_input_tokens")
    # Anthropic's input_tokens excludes the cache; llmtap's counts every input token.
    assert usage["input_tokens"] == truth["input_tokens"] + (cache_read or 0) + (cache_write or 0)
    assert usage["output_tokens"] == truth["output_tokens"]
    assert usage["total_tokens"] == usage["input_tokens"] + truth["output_tokens"]
    assert usage["cached_input_tokens"] == cache_read
    assert usage["cache_creation_input_tokens"] == cache_write
    assert usage["reasoning_tokens"] is None
    provider_usage = record["provider_usage"]
    assert provider_usage["input_tokens"] == truth["input_tokens"]
    assert provider_usage["output_tokens"] == truth["output_tokens"]
    assert provider_usage.get("cache_read_input_tokens") == cache_read
    assert provider_usage.get("cache_creation_input_tokens") == cache_write
    text = "".join(p["content"] for p in _parts(record, "text"))
    assert text == truth["output_text"]
    thinking = "".join(p["content"] for p in _parts(record, "reasoning"))
    assert thinking == (truth.get("thinking_text") or "")
    assert record["finish_reason"] == truth["finish_reasons"][0]
    assert [m["finish_reason"] for m in record["output"]] == truth["finish_reasons"]
    names = [c["name"] for c in record["tool_calls"] or []]
    assert names == (truth.get("tool_calls") or [])
    if truth["streaming"]:
        assert record["chunks"] == truth["sse_data_events"] - truth["sse_event_types"].count("ping")
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
        assert record["output_tokens_per_s"] > 0


# Several recordings use models the SDK now warns about.
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.stem)
def test_replayed_cassette_matches_truth(
    path: Path, is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(path)
    errors = _call_all(path, is_async)

    records = records_of(memory)
    calls = truth["interactions"]
    assert len(records) == truth["expected_llm_calls"] == len(calls)
    for record, interaction in zip(records, calls, strict=True):
        _assert_record_matches(record, interaction)
    failed = [r for r in records if r["status"] == "error"]
    assert len(errors) == len(failed) == sum(1 for i in calls if i["status_code"] >= 400)
    for error, record in zip(errors, failed, strict=True):
        assert record["error"]["type"] == type(error).__name__


def test_tool_calls_keep_ids_and_parsed_arguments(memory: Any, instrumented: None) -> None:
    for name in ("messages_nonstream_tool_use_parallel", "messages_stream_tool_use_parallel"):
        _call_all(ANTHROPIC_CASSETTES / f"{name}.yaml", is_async=False)
    plain, streamed = records_of(memory)

    for record in (plain, streamed):
        calls = record["tool_calls"]
        assert [c["name"] for c in calls] == ["get_weather", "get_time"]
        assert all(c["id"].startswith("toolu_") for c in calls)
        assert [c["arguments"] for c in calls] == [
            {"location": "New York, NY"},
            {"timezone": "America/New_York"},
        ]
        assert [p["type"] for p in record["output"][0]["parts"]] == [
            "text",
            "tool_call",
            "tool_call",
        ]
        assert [t["name"] for t in record["tools"]] == ["get_weather", "get_time"]
        assert record["tools"][0]["type"] == "function"
        assert record["tools"][0]["parameters"]["type"] == "object"


def test_system_blocks_and_cache_writes_are_recorded(memory: Any, instrumented: None) -> None:
    _call_all(ANTHROPIC_CASSETTES / "messages_prompt_caching_create_then_read.yaml", False)
    write, read = records_of(memory)

    assert write["system_instructions"] == read["system_instructions"]
    assert write["input"][0] == {"role": "system", "parts": write["system_instructions"]}
    assert [p["type"] for p in write["system_instructions"]] == ["text"] * len(
        write["system_instructions"]
    )
    assert write["input"][1]["role"] == "user"
    assert write["usage"]["cache_creation_input_tokens"] == 1163
    assert write["usage"]["cached_input_tokens"] == 0
    assert read["usage"]["cached_input_tokens"] == 1163
    assert read["usage"]["input_tokens"] == 4 + 1163
    assert write["settings"] == {"max_tokens": 1024}


def test_thinking_settings_and_reasoning_parts(memory: Any, instrumented: None) -> None:
    _call_all(ANTHROPIC_CASSETTES / "messages_stream_extended_thinking.yaml", False)
    (record,) = records_of(memory)

    assert record["settings"] == {
        "max_tokens": 2048,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    reasoning, text = record["output"][0]["parts"]
    assert reasoning["type"] == "reasoning"
    assert reasoning["content"].startswith("Let me count the occurrences")
    assert text["type"] == "text"
