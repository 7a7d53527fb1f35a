"""Every Mistral cassette (the shared recordings and the project's FIM ones), replayed sync
and async through the real SDK, gives records equal to its truth file."""

from __future__ import annotations

import asyncio
import inspect
import json
from pathlib import Path
from typing import Any

import pytest

from support.cassettes import (
    PROJECT_CASSETTES,
    SHARED_CASSETTES,
    load_cassette,
    output_text,
    records_of,
    replay,
    request_body,
)
from support.fake_mistral import Mistral

SHARED = sorted((SHARED_CASSETTES / "mistral").glob("*.yaml"))
PROJECT = sorted((PROJECT_CASSETTES / "mistral").glob("*.yaml"))
CASSETTES = SHARED + PROJECT

# The SDK method for each endpoint, by whether the request streams.
METHODS = {
    "/v1/chat/completions": ("chat", "complete", "stream"),
    "/v1/fim/completions": ("fim", "complete", "stream"),
    "/v1/agents/completions": ("agents", "complete", "stream"),
    "/v1/embeddings": ("embeddings", "create", "create"),
}


def _method(client: Any, endpoint: str, stream: bool, is_async: bool) -> Any:
    resource, complete, streamed = METHODS[endpoint]
    name = streamed if stream else complete
    return getattr(getattr(client, resource), f"{name}_async" if is_async else name)


def _kwargs(method: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The recorded body as the SDK method's arguments (embeddings take `inputs=`)."""
    body = {k: v for k, v in body.items() if k != "stream"}
    if "input" in body:
        body["inputs"] = body.pop("input")
    accepted = inspect.signature(method).parameters
    return {k: v for k, v in body.items() if k in accepted}


def _call_all(path: Path, is_async: bool) -> None:
    """Make every call in the cassette as the recording did, reading streams to the end."""
    cassette, truth = load_cassette(path)
    calls = [
        (request_body(i), t["endpoint"])
        for i, t in zip(cassette["interactions"], truth["interactions"], strict=True)
    ]
    with replay(path):
        client = Mistral(api_key="mistral-test-key")
        if not is_async:
            for body, endpoint in calls:
                stream = bool(body.get("stream"))
                method = _method(client, endpoint, stream, is_async=False)
                result = method(**_kwargs(method, body))
                if stream:
                    for _ in result:
                        pass
            return

        async def run() -> None:
            for body, endpoint in calls:
                stream = bool(body.get("stream"))
                method = _method(client, endpoint, stream, is_async=True)
                result = await method(**_kwargs(method, body))
                if stream:
                    async for _ in result:
                        pass

        asyncio.run(run())


def _assert_record_matches(record: dict[str, Any], truth: dict[str, Any]) -> None:
    assert record["kind"] == "generation"
    assert record["operation"] == truth["operation"]
    assert record["provider"] == "mistral_ai"
    assert record["integration"] == "llmtap-mistralai"
    assert record["server_address"] == truth["host"]
    assert record["request_model"] == truth["request_model"]
    assert record["response_model"] == truth["response_model"]
    assert record["response_id"] == truth["response_id"]
    assert record["stream"] is truth["streaming"]
    assert record["status"] == "ok"
    assert record["error"] is None
    assert record["duration_s"] > 0
    usage = record["usage"]
    assert usage["input_tokens"] == truth["input_tokens"]
    assert usage["output_tokens"] == truth["output_tokens"]
    assert usage["total_tokens"] == truth["total_tokens"]
    assert usage["cached_input_tokens"] == truth.get("cached_tokens")
    assert usage["cache_creation_input_tokens"] is None
    assert usage["reasoning_tokens"] == truth.get("reasoning_tokens")
    assert record["provider_usage"]["prompt_tokens"] == truth["input_tokens"]
    if truth["operation"] == "embeddings":
        assert record["output"] is None
        assert record["metadata"]["embedding_count"] == truth["embedding_count"]
        assert record["metadata"]["embedding_dimensions"] == truth["embedding_dims"]
        return
    assert output_text(record) == (truth["output_text"] or None)
    assert [m["finish_reason"] for m in record["output"]] == truth["finish_reasons"]
    assert record["finish_reason"] == truth["finish_reasons"][0]
    assert [c["name"] for c in record["tool_calls"] or []] == truth.get("tool_calls", [])
    if truth["streaming"]:
        # Every data event but the [DONE] sentinel is one event the caller iterated.
        assert record["chunks"] == truth["sse_data_events"] - 1
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
        assert record["output_tokens_per_s"] > 0
    else:
        assert record["chunks"] is None
        assert record["time_to_first_token_s"] is None


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: f"{p.parent.parent.name}-{p.stem}")
def test_replayed_cassette_matches_truth(
    path: Path, is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(path)
    _call_all(path, is_async)

    records = records_of(memory)
    assert len(records) == truth["expected_llm_calls"] == len(truth["interactions"])
    for record, interaction in zip(records, truth["interactions"], strict=True):
        _assert_record_matches(record, interaction)


def test_the_shared_and_project_cassettes_are_all_here() -> None:
    names = [p.name for p in CASSETTES]
    assert names == [
        "chat_nonstream_mistral_tiny.yaml",
        "chat_nonstream_prompt_cache_cached_tokens.yaml",
        "chat_stream_magistral_thinking.yaml",
        "chat_stream_mistral_tiny.yaml",
        "chat_stream_tool_call.yaml",
        "embeddings_mistral_embed.yaml",
        "fim_complete_codestral.yaml",
        "fim_stream_codestral.yaml",
    ]


def _thinking_from_sse(path: Path) -> str:
    """Magistral's reasoning, read straight from the recorded events."""
    cassette, _ = load_cassette(path)
    text = []
    for line in cassette["interactions"][0]["response"]["body"]["string"].splitlines():
        if not line.startswith("data: {"):
            continue
        content = json.loads(line[6:])["choices"][0]["delta"].get("content")
        for item in content if isinstance(content, list) else ():
            text.extend(t["text"] for t in item["thinking"] if item["type"] == "thinking")
    return "".join(text)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_magistral_thinking_is_a_reasoning_part_before_the_answer(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    path = SHARED_CASSETTES / "mistral" / "chat_stream_magistral_thinking.yaml"
    _, truth = load_cassette(path)
    _call_all(path, is_async)

    (record,) = records_of(memory)
    (message,) = record["output"]
    thinking = _thinking_from_sse(path)
    assert thinking.startswith("Okay, the user is asking how to cross the street.")
    assert message["parts"] == [
        {"type": "reasoning", "content": thinking},
        {"type": "text", "content": truth["output_text"]},
    ]
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "How do I cross the street?"}]}
    ]


def test_cached_prompt_tokens_are_read_from_prompt_tokens_details(
    memory: Any, instrumented: None
) -> None:
    path = SHARED_CASSETTES / "mistral" / "chat_nonstream_prompt_cache_cached_tokens.yaml"
    _call_all(path, is_async=False)

    first, second = records_of(memory)
    assert [r["usage"]["cached_input_tokens"] for r in (first, second)] == [0, 224]
    assert second["provider_usage"] == {
        "prompt_tokens": 268,
        "completion_tokens": 5,
        "total_tokens": 273,
        "prompt_tokens_details": {"cached_tokens": 224},
    }
    # The second call sends the first answer back as list-form assistant content.
    assert [m["role"] for m in second["input"]] == ["system", "user", "assistant", "user"]
    assert second["input"][2]["parts"] == [{"type": "text", "content": "cache probe one."}]


def test_streamed_tool_call_keeps_its_id_and_arguments(memory: Any, instrumented: None) -> None:
    _call_all(SHARED_CASSETTES / "mistral" / "chat_stream_tool_call.yaml", is_async=False)

    (record,) = records_of(memory)
    call = {
        "type": "tool_call",
        "id": "EscTeQY62",
        "name": "get_weather",
        "arguments": {"city": "San Francisco"},
    }
    assert record["tool_calls"] == [call]
    assert record["output"] == [
        {"role": "assistant", "parts": [call], "finish_reason": "tool_calls"}
    ]
    assert record["tools"][0]["name"] == "get_weather"
    assert record["settings"] == {
        "temperature": 0.7,
        "top_p": 1.0,
        "tool_choice": "any",
        "safe_prompt": False,
    }


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("fim_complete_codestral", {"temperature": 0.0, "max_tokens": 64}),
        ("fim_stream_codestral", {"max_tokens": 96}),
    ],
)
def test_fim_input_is_the_prompt_and_the_suffix(
    name: str, settings: dict[str, Any], is_async: bool, memory: Any, instrumented: None
) -> None:
    path = PROJECT_CASSETTES / "mistral" / f"{name}.yaml"
    cassette, _ = load_cassette(path)
    body = request_body(cassette["interactions"][0])
    _call_all(path, is_async)

    (record,) = records_of(memory)
    assert record["name"] == f"fim {body['model']}"
    assert record["input"] == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": body["prompt"]},
                {"type": "suffix", "content": body["suffix"]},
            ],
        }
    ]
    assert record["settings"] == settings


def test_embeddings_record_the_input_not_the_vectors(memory: Any, instrumented: None) -> None:
    _call_all(SHARED_CASSETTES / "mistral" / "embeddings_mistral_embed.yaml", is_async=False)

    (record,) = records_of(memory)
    assert record["input"] == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "Tell me a joke about OpenTelemetry"}],
        }
    ]
    assert record["metadata"] == {"embedding_count": 1, "embedding_dimensions": 1024}
    assert record["usage"]["output_tokens"] == 0  # Mistral sends completion_tokens: 0
