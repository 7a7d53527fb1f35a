"""The project's own cassettes: the failure shapes real traffic lacks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

import llmtap
from support.cassettes import PROJECT_CASSETTES, load_cassette, records_of, replay, request_body

CASSETTES = PROJECT_CASSETTES / "openai"


def _body(name: str, index: int = -1) -> dict[str, Any]:
    cassette, _ = load_cassette(CASSETTES / f"{name}.yaml")
    return request_body(cassette["interactions"][index])


def _client(is_async: bool, **options: Any) -> Any:
    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    return cls(api_key="sk-test", max_retries=0, **options)


def _consume(is_async: bool, make_call: Callable[[], Any]) -> list[Any]:
    """Run one call (and iterate it when it is a stream); return the chunks seen."""
    if not is_async:
        result = make_call()
        return list(result) if isinstance(result, openai.Stream) else [result]

    async def run() -> list[Any]:
        result = await make_call()
        if isinstance(result, openai.AsyncStream):
            return [chunk async for chunk in result]
        return [result]

    return asyncio.run(run())


def _replay(name: str, is_async: bool, **client_options: Any) -> list[Any]:
    path: Path = CASSETTES / f"{name}.yaml"
    body = _body(name)
    with replay(path):
        client = _client(is_async, **client_options)
        return _consume(is_async, lambda: client.chat.completions.create(**body))


modes = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


@modes
def test_stream_cut_midway_is_incomplete_with_partial_output(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    chunks = _replay("chat_stream_cut_midway", is_async)

    assert len(chunks) == 4
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["response_id"] == "chatcmpl-S9qP410xR8kzzRpbj1ItGDbM6jGdl"
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Hello there,"}]
    assert record["finish_reason"] is None
    assert record["usage"]["input_tokens"] is None
    assert record["usage"]["output_tokens"] is None
    assert record["time_to_first_token_s"] is not None


@modes
def test_error_midway_propagates_and_records_partial_output(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    with pytest.raises(openai.APIError) as raised:
        _replay("chat_stream_error_midway", is_async)

    assert "The server had an error while processing your request" in str(raised.value)
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == "APIError"
    assert record["error"]["message"] == str(raised.value)
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Silent spans"}]
    assert record["chunks"] == 3


@modes
@pytest.mark.parametrize(
    ("name", "error", "status"),
    [
        ("error_chat_429_rate_limited", openai.RateLimitError, 429),
        ("error_chat_500_server_error", openai.InternalServerError, 500),
    ],
)
def test_http_errors_propagate_unchanged_and_are_recorded(
    name: str, error: type[Exception], status: int, is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(CASSETTES / f"{name}.yaml")
    with pytest.raises(error) as raised:
        _replay(name, is_async)

    assert type(raised.value) is error
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    assert raised.value.body["message"] == truth["error_message"]  # type: ignore[attr-defined]
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"] == {
        "type": error.__name__,
        "message": str(raised.value),
        "status_code": status,
    }
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Say this is a test"}]}
    ]
    assert record["response_id"] is None
    assert record["usage"]["total_tokens"] is None


@modes
def test_unexpected_body_shape_is_recorded_with_what_is_known(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    (completion,) = _replay("chat_nonstream_unexpected_shape", is_async)

    assert completion.choices[0].message.content == "Fine."
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["response_id"] == "chatcmpl-vWFvYvJxPWHdS1oeqo1dIMydpmCwB"
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Fine."}]
    assert record["usage"] == {
        "input_tokens": None,
        "output_tokens": None,
        "total_tokens": None,
        "cached_input_tokens": None,
        "cache_creation_input_tokens": None,
        "reasoning_tokens": None,
    }
    assert record["provider_usage"] is None
    assert llmtap.stats()["faults"] == {}


@modes
def test_azure_stream_with_prompt_filter_chunk(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    path = CASSETTES / "chat_stream_azure_prompt_filter.yaml"
    body = _body("chat_stream_azure_prompt_filter")
    cls = openai.AsyncAzureOpenAI if is_async else openai.AzureOpenAI
    with replay(path):
        client = cls(
            api_key="sk-test",
            azure_endpoint="https://llmtap-demo.openai.azure.com",
            api_version="2024-10-21",
            max_retries=0,
        )
        chunks = _consume(is_async, lambda: client.chat.completions.create(**body))

    # The caller asked for usage itself, so it sees the usage chunk too.
    assert chunks[-1].usage.total_tokens == 18
    (record,) = records_of(memory)
    assert record["provider"] == "azure.ai.openai"
    assert record["server_address"] == "llmtap-demo.openai.azure.com"
    assert record["response_id"] == "chatcmpl-e9BMWbLZPXOCUMK8wRjjf6Mdrehl4"
    assert record["response_model"] == "gpt-4o-mini-2024-07-18"
    assert record["output"][0]["parts"] == [{"type": "text", "content": "This is a test."}]
    assert record["usage"]["input_tokens"] == 14
    assert record["usage"]["output_tokens"] == 4
    assert record["usage"]["cached_input_tokens"] == 0
    assert record["time_to_first_token_s"] is not None


@modes
def test_server_rejecting_stream_options_is_retried_without_them_once(
    is_async: bool, memory: Any
) -> None:
    llmtap.instrument_openai(stream_usage_hosts=["127.0.0.1"])
    try:
        body = _body("chat_stream_options_rejected")
        assert "stream_options" not in body
        with replay(CASSETTES / "chat_stream_options_rejected.yaml") as cassette:
            client = _client(is_async, base_url="http://127.0.0.1:8000/v1")
            chunks = _consume(is_async, lambda: client.chat.completions.create(**body))
            sent = [request_body({"request": {"body": r.body}}) for r in cassette.requests]
    finally:
        llmtap.uninstrument_openai()

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hi!"
    assert sent[0]["stream_options"] == {"include_usage": True}
    assert "stream_options" not in sent[1]
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["server_address"] == "127.0.0.1"
    assert record["response_model"] == "llama3.1:8b"
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Hi!"}]
    assert record["usage"]["output_tokens"] is None
