"""Every shared LiteLLM cassette, and the OpenAI and Anthropic cassettes LiteLLM can
drive, replayed through real LiteLLM: one record per call, equal to the truth file."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from support.cassettes import SHARED_CASSETTES, load_cassette

# What LiteLLM can send: chat completions, embeddings, Responses, legacy completions
# and Anthropic messages. Error cassettes have their own tests.
_DRIVEN = {"chat", "embeddings", "responses", "completion", "messages"}


def _cassettes() -> list[Any]:
    paths = []
    for folder in ("litellm", "openai", "anthropic"):
        for path in sorted((SHARED_CASSETTES / folder).glob("*.yaml")):
            _, truth = load_cassette(path)
            if truth["operation"] in _DRIVEN and truth.get("status_code", 200) < 400:
                paths.append(pytest.param(path, id=f"{folder}/{path.stem}"))
    return paths


CASSETTES = _cassettes()
# LiteLLM 1.74 converts a Responses usage to the chat shape without its reasoning
# details, and re-counts the usage of an n>1 stream with its tokenizer.
_LITELLM_1_74 = version("litellm").startswith("1.74.")
pytestmark = pytest.mark.skipif(not CASSETTES, reason="shared cassettes not present")


def _expected_input(truth: dict[str, Any]) -> int | None:
    """llmtap's input counts every billed input token, Anthropic cache included."""
    tokens = truth.get("input_tokens")
    if tokens is not None and truth["provider"] == "anthropic":
        tokens += (truth.get("cache_read_input_tokens") or 0) + (
            truth.get("cache_creation_input_tokens") or 0
        )
    return tokens


def _check(record: dict[str, Any], truth: dict[str, Any], lite: Any) -> None:
    operation = {"messages": "chat", "completion": "completion"}.get(
        truth["operation"], truth["operation"]
    )
    assert record["kind"] == "generation"
    assert record["integration"] == "llmtap-litellm"
    assert record["operation"] == operation
    assert record["provider"] == truth["provider"]
    assert record["status"] == "ok"
    assert record["stream"] is bool(truth["streaming"])
    assert record["duration_s"] > 0
    usage = record["usage"]
    many_choices = len(truth.get("output_texts") or ()) > 1
    if truth.get("input_tokens") is None:
        # LiteLLM counts a stream that reported no usage with its tokenizer: flagged.
        assert usage["input_tokens"] is None or record["usage_estimated"]
        return
    if record["usage_estimated"]:
        assert _LITELLM_1_74, "only LiteLLM 1.74 re-counts a reported usage"
        assert many_choices
        return
    assert usage["input_tokens"] == _expected_input(truth)
    if operation == "embeddings":
        assert usage["output_tokens"] is None
        assert record["metadata"]["embedding_count"] == truth["embedding_count"]
        return
    if truth.get("output_tokens") is not None:
        assert usage["output_tokens"] == truth["output_tokens"]
    cached = truth.get("cached_tokens") or truth.get("cache_read_input_tokens")
    if cached:
        assert usage["cached_input_tokens"] == cached
    if truth.get("cache_creation_input_tokens"):
        assert usage["cache_creation_input_tokens"] == truth["cache_creation_input_tokens"]
    if truth.get("reasoning_tokens") and not (_LITELLM_1_74 and operation == "responses"):
        assert usage["reasoning_tokens"] == truth["reasoning_tokens"]
    assert record["cost_usd"] is None or record["cost_usd"] > 0
    want_text = truth.get("output_text") or truth.get("stream_output_text")
    if want_text and not many_choices:
        # LiteLLM's stream assembly merges the choices of an n>1 stream (its bug).
        assert lite.text(record).strip() == want_text.strip()
    if truth.get("tool_calls"):
        assert [c["name"] for c in record["tool_calls"]] == truth["tool_calls"]
    thinking = truth.get("thinking_text")
    if thinking:
        reasoning = [p for p in record["output"][0]["parts"] if p["type"] == "reasoning"]
        assert reasoning[0]["content"] == thinking
    if truth["streaming"] and want_text:
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]


def _calls(path: Path, lite: Any) -> tuple[list[tuple[str, dict[str, Any]]], list[Any]]:
    recorded, truth = load_cassette(path)
    calls = [i for i in truth["interactions"] if i.get("operation")]
    made = [
        lite.call_for(interaction, t["operation"])
        for interaction, t in zip(recorded["interactions"], calls, strict=True)
    ]
    return made, calls


@pytest.mark.parametrize("path", CASSETTES)
def test_replays_sync(path: Path, lite: Any, registered: None) -> None:
    made, truths = _calls(path, lite)
    with lite.replaying(path):
        for function, kwargs in made:
            lite.run_sync(function, kwargs)
    records = lite.records(len(made))
    assert len(records) == len(made)
    for record, truth in zip(records, truths, strict=True):
        _check(record, truth, lite)


@pytest.mark.parametrize("path", CASSETTES)
async def test_replays_async(path: Path, lite: Any, registered: None) -> None:
    made, truths = _calls(path, lite)
    with lite.replaying(path):
        for function, kwargs in made:
            await lite.run_async(function, kwargs)
        records = await lite.arecords(len(made))
    assert len(records) == len(made)
    for record, truth in zip(records, truths, strict=True):
        _check(record, truth, lite)
