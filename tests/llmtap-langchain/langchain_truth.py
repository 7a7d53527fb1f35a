"""What a cassette says a LangChain call's records must hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.cassettes import load_cassette


def generations(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "generation"]


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


def calls_of(path: Path) -> list[dict[str, Any]]:
    """The truth of each LLM call in a cassette, in order."""
    _, truth = load_cassette(path)
    return [i for i in truth["interactions"] if i.get("operation")]


def response_tool_call_ids(interaction: dict[str, Any]) -> list[str]:
    """Tool call ids in a recorded response, JSON or SSE, OpenAI or Anthropic."""
    body = interaction["response"]["body"]["string"]
    ids: list[str] = []
    payloads = []
    if body.lstrip().startswith("{"):
        payloads.append(json.loads(body))
    else:
        for line in body.splitlines():
            data = line.strip()
            if data.startswith("data:") and data[5:].strip() not in ("", "[DONE]"):
                payloads.append(json.loads(data[5:]))
    for payload in payloads:
        for choice in payload.get("choices") or ():
            message = choice.get("message") or choice.get("delta") or {}
            ids.extend(c["id"] for c in message.get("tool_calls") or () if c.get("id"))
        blocks = list(payload.get("content") or ())
        if payload.get("content_block"):
            blocks.append(payload["content_block"])
        ids.extend(b["id"] for b in blocks if b.get("type") == "tool_use")
    return ids


def wanted_input_tokens(truth: dict[str, Any]) -> int | None:
    """llmtap's input count: every billed input token, Anthropic's cache included."""
    tokens = truth.get("input_tokens")
    if tokens is None or truth["provider"] != "anthropic":
        return tokens
    cache = (truth.get("cache_read_input_tokens") or 0) + (
        truth.get("cache_creation_input_tokens") or 0
    )
    return int(tokens) + cache


def assert_matches_truth(
    record: dict[str, Any], truth: dict[str, Any], tool_call_ids: list[str]
) -> None:
    """A generation record equals its call's truth: model, tokens, text, tool calls."""
    assert record["kind"] == "generation"
    assert record["status"] == "ok"
    assert record["response_model"] == truth["response_model"]
    assert record["stream"] is truth["streaming"]
    usage = record["usage"]
    assert usage["input_tokens"] == wanted_input_tokens(truth)
    assert usage["output_tokens"] == truth["output_tokens"]
    if truth.get("cached_tokens") or truth.get("cache_read_input_tokens"):
        wanted = truth.get("cached_tokens") or truth.get("cache_read_input_tokens")
        assert usage["cached_input_tokens"] == wanted
    if truth.get("cache_creation_input_tokens"):
        assert usage["cache_creation_input_tokens"] == truth["cache_creation_input_tokens"]
    if truth.get("reasoning_tokens"):
        assert usage["reasoning_tokens"] == truth["reasoning_tokens"]
    text = "".join(p["content"] for p in record["output"][0]["parts"] if p["type"] == "text")
    assert text == (truth.get("output_text") or "")
    assert record["finish_reason"] == truth["finish_reasons"][0]
    calls = record["tool_calls"] or []
    assert [c["name"] for c in calls] == truth.get("tool_calls", [])
    assert [c["id"] for c in calls] == tool_call_ids
    assert record["duration_s"] > 0
    if truth["streaming"] and truth.get("output_text"):
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
