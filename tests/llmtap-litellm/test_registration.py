"""The three ways to register llmtap each record every call exactly once: sync and
async, streamed or not, for completion, embedding, responses and text_completion."""

from __future__ import annotations

from typing import Any

import litellm
import pytest

import llmtap
import llmtap_litellm
from llmtap_litellm.logger import LlmtapLogger

OPENAI = {"api_key": "sk-test", "api_base": "https://api.openai.com/v1"}

# (cassette, LiteLLM function, arguments, operation, input tokens, output tokens)
CALLS = [
    ("chat_nonstream_gpt4o_mini", "completion", {"model": "openai/gpt-4o-mini"}, "chat", 12, 5),
    (
        "chat_stream_include_usage_gpt4",
        "completion",
        {"model": "openai/gpt-4", "stream": True},
        "chat",
        12,
        5,
    ),
    (
        "embeddings_text_embedding_3_small",
        "embedding",
        {"model": "openai/text-embedding-3-small", "input": "This is a test for embeddings"},
        "embeddings",
        6,
        None,
    ),
    (
        "responses_nonstream_gpt41_nano",
        "responses",
        {"model": "openai/gpt-4.1-nano", "input": "What is the capital of France?"},
        "responses",
        14,
        8,
    ),
    (
        "responses_stream_gpt41_nano",
        "responses",
        {"model": "openai/gpt-4.1-nano", "input": "A story", "stream": True},
        "responses",
        18,
        80,
    ),
    (
        "completions_legacy_gpt35_instruct",
        "text_completion",
        {"model": "openai/gpt-3.5-turbo-instruct", "prompt": "What is four plus five?"},
        "completion",
        5,
        1,
    ),
]
IDS = [f"{c[1]}-{c[0]}" for c in CALLS]


def _kwargs(function: str, arguments: dict[str, Any], lite: Any) -> dict[str, Any]:
    kwargs = {**OPENAI, **arguments}
    if function == "completion":
        kwargs["messages"] = lite.question
    return kwargs


def _assert_one(records: list[dict[str, Any]], operation: str, tokens: tuple[Any, Any]) -> None:
    assert len(records) == 1
    (record,) = records
    assert record["operation"] == operation
    assert record["provider"] == "openai"
    assert (record["usage"]["input_tokens"], record["usage"]["output_tokens"]) == tokens


@pytest.mark.parametrize(
    ("name", "function", "arguments", "operation", "tin", "tout"), CALLS, ids=IDS
)
def test_sync(
    style: str,
    lite: Any,
    name: str,
    function: str,
    arguments: Any,
    operation: str,
    tin: int,
    tout: Any,
) -> None:
    with lite.replaying(lite.cassette("openai", name)):
        lite.run_sync(function, _kwargs(function, arguments, lite))
    _assert_one(lite.records(1), operation, (tin, tout))


@pytest.mark.parametrize(
    ("name", "function", "arguments", "operation", "tin", "tout"), CALLS, ids=IDS
)
async def test_async(
    style: str,
    lite: Any,
    name: str,
    function: str,
    arguments: Any,
    operation: str,
    tin: int,
    tout: Any,
) -> None:
    with lite.replaying(lite.cassette("openai", name)):
        await lite.run_async(function, _kwargs(function, arguments, lite))
        records = await lite.arecords(1)
    _assert_one(records, operation, (tin, tout))


def test_every_style_hands_out_the_same_logger() -> None:
    shared = llmtap.litellm_logger()
    assert isinstance(shared, LlmtapLogger)
    assert llmtap.litellm_success_callback is shared
    assert llmtap.litellm_failure_callback is shared
    assert llmtap_litellm.SUCCESS_CALLBACK is shared


def test_handing_out_the_callback_registers_it_for_async_calls() -> None:
    assert not llmtap_litellm.is_instrumented()
    litellm.success_callback = [llmtap.litellm_success_callback]
    assert litellm.callbacks == [llmtap.litellm_logger()]


def test_instrument_is_idempotent_and_uninstrument_removes_it_everywhere(lite: Any) -> None:
    llmtap.instrument_litellm()
    llmtap.instrument_litellm()
    assert litellm.callbacks.count(llmtap.litellm_logger()) == 1
    with lite.replaying(lite.cassette("openai", "chat_nonstream_gpt4o_mini")):
        lite.run_sync(
            "completion", {**OPENAI, "model": "openai/gpt-4o-mini", "messages": lite.question}
        )
    assert len(lite.records(1)) == 1
    assert llmtap.litellm_logger() in litellm.success_callback  # copied there by LiteLLM

    llmtap.uninstrument_litellm()
    for name in ("callbacks", "input_callback", "success_callback", "failure_callback"):
        assert not any(isinstance(c, LlmtapLogger) for c in getattr(litellm, name))
    assert not any(isinstance(c, LlmtapLogger) for c in litellm._async_success_callback)
    with lite.replaying(lite.cassette("openai", "chat_nonstream_gpt4o_mini")):
        lite.run_sync(
            "completion", {**OPENAI, "model": "openai/gpt-4o-mini", "messages": lite.question}
        )
    assert llmtap_litellm.flush()
    assert len(lite.memory.records) == 1


def test_logger_takes_no_options() -> None:
    with pytest.raises(TypeError):
        llmtap.litellm_logger(capture=False)
