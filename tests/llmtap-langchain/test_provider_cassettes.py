"""The shared OpenAI chat and Anthropic messages cassettes, driven through ChatOpenAI and
ChatAnthropic (rebuilt from each recorded request), sync and async, with llmtap's
provider layer off and on: one generation record per call, equal to the truth file.

Where LangChain itself loses what the wire said, the LangChain-only record holds what
LangChain reported and the test says why; with the provider layer on, the provider
record holds the exact values."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import BaseMessage, SystemMessage, convert_to_messages
from langchain_openai import ChatOpenAI
from langchain_truth import assert_matches_truth, by_id, generations, response_tool_call_ids

from support.cassettes import SHARED_CASSETTES, load_cassette, replay, request_body

_OPENAI_OPTIONS = ("temperature", "top_p", "n", "seed", "reasoning_effort")
_ANTHROPIC_OPTIONS = ("temperature", "top_p", "top_k", "thinking")


def _cassettes(folder: str, operation: str) -> list[Path]:
    paths = []
    for path in sorted((SHARED_CASSETTES / folder).glob("*.yaml")):
        _, truth = load_cassette(path)
        if {i.get("operation") for i in truth["interactions"]} == {operation}:
            paths.append(path)
    return paths


CASSETTES = _cassettes("openai", "chat") + _cassettes("anthropic", "messages")


def _openai_call(body: dict[str, Any]) -> tuple[Any, list[BaseMessage]]:
    options = {key: body[key] for key in _OPENAI_OPTIONS if key in body}
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
    if max_tokens:
        options["max_tokens"] = max_tokens
    stream_options = body.get("stream_options") or {}
    llm: Any = ChatOpenAI(
        model=body["model"],
        api_key="sk-test",
        max_retries=0,
        stream_usage=bool(stream_options.get("include_usage")),
        **options,
    )
    if body.get("tools"):
        llm = llm.bind_tools(body["tools"], tool_choice=body.get("tool_choice"))
    messages = [{**m, "content": m.get("content") or ""} for m in body["messages"]]
    return llm, convert_to_messages(messages)


def _anthropic_call(body: dict[str, Any]) -> tuple[Any, list[BaseMessage]]:
    options = {key: body[key] for key in _ANTHROPIC_OPTIONS if key in body}
    llm: Any = ChatAnthropic(
        model=body["model"],
        max_tokens=body["max_tokens"],
        api_key="sk-test",
        max_retries=0,
        **options,
    )
    if body.get("tools"):
        llm = llm.bind_tools(body["tools"])
    messages = convert_to_messages(body["messages"])
    if body.get("system"):
        messages.insert(0, SystemMessage(body["system"]))
    return llm, messages


def _drive(path: Path, handler: Any, is_async: bool) -> tuple[list[Any], list[BaseException]]:
    """Make each recorded call through LangChain; return results and raised errors."""
    cassette, truth = load_cassette(path)
    build = _anthropic_call if truth["provider"] == "anthropic" else _openai_call
    results: list[Any] = []
    errors: list[BaseException] = []
    config = {"callbacks": [handler]}

    async def call_async(llm: Any, messages: Any, stream: bool) -> Any:
        if stream:
            chunks = [chunk async for chunk in llm.astream(messages, config=config)]
            return _joined(chunks)
        return await llm.ainvoke(messages, config=config)

    with replay(path):
        for interaction in cassette["interactions"]:
            body = request_body(interaction)
            llm, messages = build(body)
            stream = bool(body.get("stream"))
            try:
                if is_async:
                    results.append(asyncio.run(call_async(llm, messages, stream)))
                elif stream:
                    results.append(_joined(list(llm.stream(messages, config=config))))
                else:
                    results.append(llm.invoke(messages, config=config))
            except (openai.APIError, anthropic.APIError) as error:
                errors.append(error)
    return results, errors


def _joined(chunks: list[Any]) -> Any:
    message = chunks[0]
    for chunk in chunks[1:]:
        message = message + chunk
    return message


def _stream_drops_input_usage(interaction: dict[str, Any]) -> bool:
    """An Anthropic stream whose `message_delta` has no input count: langchain-anthropic
    reads usage only from that event (today's API repeats the counts there; older
    recordings did not), so LangChain never learns the input tokens."""
    body = interaction["response"]["body"]["string"]
    for line in body.splitlines():
        data = line.strip()
        if data.startswith("data:") and '"message_delta"' in data:
            return "input_tokens" not in json.loads(data[5:]).get("usage", {})
    return False


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cassette_through_langchain(
    path: Path, is_async: bool, layers: str, handler: Any, records: Any
) -> None:
    cassette, truth = load_cassette(path)
    results, errors = _drive(path, handler, is_async)
    all_records = records()
    calls = [i for i in truth["interactions"] if i.get("operation")]
    gens = generations(all_records)
    assert len(gens) == truth["expected_llm_calls"] == len(calls)
    steps = [r for r in all_records if r["integration"] == "llmtap-langchain"]
    assert len(steps) == len(calls)
    ids = by_id(all_records)

    for generation, step, call, interaction in zip(
        gens, steps, calls, cassette["interactions"], strict=True
    ):
        if layers == "langchain":
            assert generation is step
        else:
            assert step["kind"] == "llm"
            assert generation["parent_id"] == step["id"]
            assert ids[generation["parent_id"]]["integration"] == "llmtap-langchain"
            assert all(count is None for count in step["usage"].values())
        assert step["request_model"] == call["request_model"]
        assert step["provider"] == call["provider"]
        if call["status_code"] >= 400:
            assert generation["status"] == step["status"] == "error"
            assert generation["usage"]["input_tokens"] is None
            continue
        truth_for_record = dict(call)
        if layers == "langchain":
            truth_for_record.update(_what_langchain_reports(call, interaction, results))
        if len(call.get("output_texts") or []) > 1 and not call["streaming"]:
            texts = [
                "".join(p["content"] for p in m["parts"] if p["type"] == "text")
                for m in generation["output"]
            ]
            assert texts == call["output_texts"]
        assert_matches_truth(generation, truth_for_record, response_tool_call_ids(interaction))

    assert len(errors) == sum(1 for c in calls if c["status_code"] >= 400)
    failed = [r for r in steps if r["status"] == "error"]
    for error, record in zip(errors, failed, strict=True):
        assert record["error"]["type"] == type(error).__name__
        assert record["error"]["status_code"] == error.status_code  # type: ignore[attr-defined]


def _what_langchain_reports(
    call: dict[str, Any], interaction: dict[str, Any], results: list[Any]
) -> dict[str, Any]:
    """The truth, less what LangChain itself drops before any callback sees it."""
    changes: dict[str, Any] = {}
    anthropic_stream = call["provider"] == "anthropic" and call["streaming"]
    if anthropic_stream and _stream_drops_input_usage(interaction):
        changes.update(
            input_tokens=None, cache_read_input_tokens=None, cache_creation_input_tokens=None
        )
    if call["streaming"] and len(call.get("output_texts") or []) > 1:
        # ChatOpenAI streams one message: the n choices' deltas interleave in it, and
        # LangChain's merge concatenates their model names and finish reasons.
        (result,) = results
        choices = len(call["output_texts"])
        changes.update(
            output_text=result.content,
            response_model=call["response_model"] * choices,
            finish_reasons=["".join(call["finish_reasons"])],
        )
    return changes
