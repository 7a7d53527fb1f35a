"""Every shared OpenAI chat cassette, replayed sync and async through the real SDK,
gives records equal to its truth file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import openai
import pytest

from support.cassettes import (
    SHARED_CASSETTES,
    load_cassette,
    output_text,
    records_of,
    replay,
    request_body,
)

OPENAI_CASSETTES = SHARED_CASSETTES / "openai"

if not OPENAI_CASSETTES.is_dir():
    pytest.skip("../shared/cassettes is not present", allow_module_level=True)


def _chat_cassettes() -> list[Path]:
    paths = []
    for path in sorted(OPENAI_CASSETTES.glob("*.yaml")):
        _, truth = load_cassette(path)
        if {i.get("operation") for i in truth["interactions"]} == {"chat"}:
            paths.append(path)
    return paths


CHAT_CASSETTES = _chat_cassettes()


def _call_all(path: Path, is_async: bool) -> list[BaseException]:
    """Make every call in the cassette as the recording did; return raised errors."""
    cassette, _ = load_cassette(path)
    errors: list[BaseException] = []
    bodies = [request_body(i) for i in cassette["interactions"]]
    with replay(path):
        if not is_async:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            for body in bodies:
                try:
                    result = client.chat.completions.create(**body)
                    if body.get("stream"):
                        for _ in result:
                            pass
                except openai.APIError as error:
                    errors.append(error)
        else:

            async def run() -> None:
                client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
                for body in bodies:
                    try:
                        result = await client.chat.completions.create(**body)
                        if body.get("stream"):
                            async for _ in result:
                                pass
                    except openai.APIError as error:
                        errors.append(error)

            asyncio.run(run())
    return errors


def _assert_record_matches(record: dict[str, Any], truth: dict[str, Any]) -> None:
    assert record["kind"] == "generation"
    assert record["operation"] == "chat"
    assert record["provider"] == "openai"
    assert record["integration"] == "llmtap-openai"
    assert record["server_address"] == truth["host"]
    assert record["request_model"] == truth["request_model"]
    assert record["stream"] is truth["streaming"]
    assert record["duration_s"] > 0
    if truth["status_code"] >= 400:
        assert record["status"] == "error"
        assert record["error"]["status_code"] == truth["status_code"]
        assert truth["error_message"] in record["error"]["message"]
        assert record["usage"]["input_tokens"] is None
        return
    assert record["status"] == "ok"
    assert record["response_id"] == truth["response_id"]
    assert record["response_model"] == truth["response_model"]
    usage = record["usage"]
    assert usage["input_tokens"] == truth["input_tokens"]
    assert usage["output_tokens"] == truth["output_tokens"]
    assert usage["total_tokens"] == truth["total_tokens"]
    assert usage["cached_input_tokens"] == truth.get("cached_tokens")
    assert usage["reasoning_tokens"] == truth.get("reasoning_tokens")
    if truth["input_tokens"] is None:
        assert record["provider_usage"] is None
    else:
        assert record["provider_usage"]["prompt_tokens"] == truth["input_tokens"]
    texts = truth.get("output_texts") or [truth["output_text"]]
    for index, text in enumerate(texts):
        assert output_text(record, index) == (text or None)
    assert [m["finish_reason"] for m in record["output"]] == truth["finish_reasons"]
    assert record["finish_reason"] == truth["finish_reasons"][0]
    names = [c["name"] for c in record["tool_calls"] or []]
    assert names == truth.get("tool_calls", [])
    if truth["streaming"]:
        assert record["chunks"] >= 1
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
        if truth["output_tokens"]:
            assert record["output_tokens_per_s"] > 0


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("path", CHAT_CASSETTES, ids=lambda p: p.stem)
def test_replayed_cassette_matches_truth(
    path: Path, is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(path)
    errors = _call_all(path, is_async)

    records = records_of(memory)
    calls = [i for i in truth["interactions"] if i.get("operation")]
    assert len(records) == truth["expected_llm_calls"] == len(calls)
    for record, interaction in zip(records, calls, strict=True):
        _assert_record_matches(record, interaction)
    assert len(errors) == sum(1 for i in calls if i["status_code"] >= 400)
    failed = [r for r in records if r["status"] == "error"]
    for error, record in zip(errors, failed, strict=True):
        assert record["error"]["type"] == type(error).__name__


def test_input_messages_and_tool_results_are_recorded(memory: Any, instrumented: None) -> None:
    path = OPENAI_CASSETTES / "chat_tool_calls_roundtrip.yaml"
    _call_all(path, is_async=False)
    first, second = records_of(memory)
    call = first["tool_calls"][0]
    assert call["name"] == "get_current_weather"
    assert isinstance(call["arguments"], dict)
    assert [m["role"] for m in second["input"]] == ["system", "user", "assistant", "tool", "tool"]
    assistant, *results = second["input"][2:]
    calls = assistant["parts"]
    assert [c["type"] for c in calls] == ["tool_call", "tool_call"]
    assert [c["arguments"] for c in calls] == [
        {"location": "Seattle, WA"},
        {"location": "San Francisco, CA"},
    ]
    assert [r["parts"][0] for r in results] == [
        {"type": "tool_call_response", "id": calls[0]["id"], "response": "50 degrees and raining"},
        {"type": "tool_call_response", "id": calls[1]["id"], "response": "70 degrees and sunny"},
    ]
    assert first["tools"][0]["name"] == "get_current_weather"
