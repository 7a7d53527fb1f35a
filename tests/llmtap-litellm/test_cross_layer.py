"""LiteLLM over the `openai` SDK with llmtap's OpenAI integration on: one generation
per call, recorded by the provider layer, under LiteLLM's step; off: LiteLLM's record
is the generation. Either way the tokens across all records equal the traffic's."""

from __future__ import annotations

from typing import Any

import pytest

import llmtap

OPENAI = {"api_key": "sk-test", "api_base": "https://api.openai.com/v1"}

# (cassette, LiteLLM function, arguments, input tokens, output tokens); the OpenAI SDK
# is under each of these on every supported LiteLLM line but embeddings (newer lines
# send those with their own HTTP client, and then LiteLLM's record is the generation).
CASES = [
    ("chat_nonstream_gpt4o_mini", "completion", {"model": "openai/gpt-4o-mini"}, 12, 5),
    (
        "chat_stream_include_usage_gpt4",
        "completion",
        {"model": "openai/gpt-4", "stream": True},
        12,
        5,
    ),
    (
        "completions_legacy_gpt35_instruct",
        "text_completion",
        {"model": "openai/gpt-3.5-turbo-instruct", "prompt": "What is four plus five?"},
        5,
        1,
    ),
    (
        "embeddings_text_embedding_3_small",
        "embedding",
        {"model": "openai/text-embedding-3-small", "input": "This is a test"},
        6,
        None,
    ),
]
IDS = [c[0] for c in CASES]


def _kwargs(function: str, arguments: dict[str, Any], lite: Any) -> dict[str, Any]:
    kwargs = {**OPENAI, **arguments}
    if function == "completion":
        kwargs["messages"] = lite.question
    return kwargs


def _check(records: list[dict[str, Any]], provider_on: bool, tokens: tuple[Any, Any]) -> None:
    generations = [r for r in records if r["kind"] == "generation"]
    assert len(generations) == 1
    (generation,) = generations
    assert (generation["usage"]["input_tokens"], generation["usage"]["output_tokens"]) == tokens
    assert sum(r["usage"]["input_tokens"] or 0 for r in records) == tokens[0]
    assert sum(r["usage"]["output_tokens"] or 0 for r in records) == (tokens[1] or 0)
    steps = [r for r in records if r["integration"] == "llmtap-litellm"]
    assert len(steps) == 1
    (step,) = steps
    if generation is step:
        assert len(records) == 1
        return
    assert provider_on
    assert generation["integration"] == "llmtap-openai"
    assert step["kind"] == "llm"
    assert generation["parent_id"] == step["id"]
    assert generation["trace_id"] == step["trace_id"]
    assert step["cost_usd"] is None
    assert step["usage"]["input_tokens"] is None
    assert step["request_model"] == generation["request_model"]
    assert step["metadata"]["litellm.provider"] in ("openai", "text-completion-openai")


@pytest.mark.parametrize("provider_on", [True, False], ids=["openai-on", "openai-off"])
@pytest.mark.parametrize(("name", "function", "arguments", "tin", "tout"), CASES, ids=IDS)
def test_sync(
    lite: Any,
    registered: None,
    provider_on: bool,
    name: str,
    function: str,
    arguments: Any,
    tin: int,
    tout: Any,
) -> None:
    if provider_on:
        llmtap.instrument_openai()
    with lite.replaying(lite.cassette("openai", name)):
        lite.run_sync(function, _kwargs(function, arguments, lite))
    records = lite.records(2 if provider_on else 1)
    _check(records, provider_on, (tin, tout))
    if provider_on and function != "embedding":
        assert len(records) == 2  # the provider layer was under LiteLLM


@pytest.mark.parametrize("provider_on", [True, False], ids=["openai-on", "openai-off"])
@pytest.mark.parametrize(("name", "function", "arguments", "tin", "tout"), CASES, ids=IDS)
async def test_async(
    lite: Any,
    registered: None,
    provider_on: bool,
    name: str,
    function: str,
    arguments: Any,
    tin: int,
    tout: Any,
) -> None:
    if provider_on:
        llmtap.instrument_openai()
    with lite.replaying(lite.cassette("openai", name)):
        await lite.run_async(function, _kwargs(function, arguments, lite))
        records = await lite.arecords(2 if provider_on and function != "embedding" else 1)
    _check(records, provider_on, (tin, tout))


def test_the_step_is_under_the_callers_span(lite: Any, registered: None) -> None:
    llmtap.instrument_openai()
    with (
        lite.replaying(lite.cassette("openai", "chat_nonstream_gpt4o_mini")),
        llmtap.span("agent") as outer,
    ):
        lite.run_sync("completion", _kwargs("completion", {"model": "openai/gpt-4o-mini"}, lite))
    records = {r["integration"]: r for r in lite.records(3)}
    assert records["llmtap-litellm"]["parent_id"] == outer.id


def test_a_later_direct_sdk_call_is_not_taken_for_litellms(lite: Any, registered: None) -> None:
    """The step stops adopting once LiteLLM has its provider response, so an SDK call
    the caller makes next is a generation of its own, not a child of the step."""
    import openai

    llmtap.instrument_openai()
    with lite.replaying(lite.cassette("openai", "chat_tool_calls_roundtrip")):
        lite.run_sync("completion", _kwargs("completion", {"model": "openai/gpt-4o-mini"}, lite))
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        client.chat.completions.create(model="gpt-4o-mini", messages=lite.question)
    records = lite.records(3)
    direct = [r for r in records if r["integration"] == "llmtap-openai" and r["parent_id"] is None]
    assert len(direct) == 1
    assert direct[0]["usage"]["input_tokens"] == 99
