"""Legacy completions (`client.completions.create`): recorded traffic replayed sync and
async gives records equal to its truth file; prompts, choices and streams are exact."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
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
from support.fake_openai import http

SHARED = sorted((SHARED_CASSETTES / "openai").glob("completions_*.yaml"))
PROJECT = PROJECT_CASSETTES / "openai" / "completions_stream_include_usage.yaml"
modes = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


def _consume(result: Any) -> list[Any]:
    return list(result) if isinstance(result, openai.Stream) else [result]


async def _aconsume(result: Any) -> list[Any]:
    if isinstance(result, openai.AsyncStream):
        return [chunk async for chunk in result]
    return [result]


def _call(is_async: bool, make_call: Callable[[Any], Any], **client_options: Any) -> list[Any]:
    """Make one call through a fresh client and read it to the end."""
    options = {"api_key": "sk-test", "max_retries": 0, **client_options}
    if not is_async:
        return _consume(make_call(openai.OpenAI(**options)))

    async def run() -> list[Any]:
        return await _aconsume(await make_call(openai.AsyncOpenAI(**options)))

    return asyncio.run(run())


def _replay(path: Path, is_async: bool, drop: str = "") -> tuple[list[Any], list[Any]]:
    """Replay a one-call cassette, without the `drop` argument if named; return what the
    caller saw and the requests sent."""
    cassette, _ = load_cassette(path)
    body = {k: v for k, v in request_body(cassette["interactions"][0]).items() if k != drop}
    with replay(path) as recorded:
        seen = _call(is_async, lambda client: client.completions.create(**body))
        sent = [json.loads(r.body) for r in recorded.requests]
    return seen, sent


def _served(handler: Callable[[dict[str, Any]], Any], is_async: bool) -> dict[str, Any]:
    """Client options for an in-process server that answers `handler(request_json)`."""

    def respond(request: Any) -> Any:
        return handler(json.loads(request.content))

    if not is_async:
        return {"http_client": http.Client(transport=http.MockTransport(respond))}

    async def arespond(request: Any) -> Any:
        return respond(request)

    return {"http_client": http.AsyncClient(transport=http.MockTransport(arespond))}


def _sse(*events: dict[str, Any]) -> Any:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return http.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def _chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 1763780000,
        "model": "gpt-3.5-turbo-instruct",
        "choices": choices,
        "usage": usage,
    }


def _choice(index: int, text: str, finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": index, "text": text, "logprobs": None, "finish_reason": finish_reason}


@modes
@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.stem)
def test_shared_cassette_matches_truth(
    path: Path, is_async: bool, memory: Any, instrumented: None
) -> None:
    cassette, truth = load_cassette(path)
    body = request_body(cassette["interactions"][0])
    seen, _ = _replay(path, is_async)

    (record,) = records_of(memory)
    assert truth["expected_llm_calls"] == 1
    assert record["operation"] == truth["operation"] == "completion"
    assert record["name"] == f"completion {truth['request_model']}"
    assert (record["provider"], record["integration"]) == ("openai", "llmtap-openai")
    assert record["server_address"] == truth["interactions"][0]["host"]
    assert record["status"] == "ok"
    assert record["stream"] is truth["streaming"]
    assert record["request_model"] == truth["request_model"]
    assert record["response_model"] == truth["response_model"]
    assert record["response_id"] == truth["response_id"]
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": body["prompt"]}]}
    ]
    assert output_text(record) == truth["output_text"]
    assert [m["finish_reason"] for m in record["output"]] == truth["finish_reasons"]
    assert record["finish_reason"] == truth["finish_reasons"][0]
    assert record["usage"] == {
        "input_tokens": truth["input_tokens"],
        "output_tokens": truth["output_tokens"],
        "total_tokens": truth["total_tokens"],
        "cached_input_tokens": None,
        "cache_creation_input_tokens": None,
        "reasoning_tokens": None,
    }
    if truth["input_tokens"] is None:
        assert record["provider_usage"] is None
    else:
        assert record["provider_usage"] == {
            "prompt_tokens": truth["input_tokens"],
            "completion_tokens": truth["output_tokens"],
            "total_tokens": truth["total_tokens"],
        }
    assert record["settings"] == {k: v for k, v in body.items() if k == "max_tokens"}
    if truth["streaming"]:
        assert len(seen) == record["chunks"] == truth["sse_data_events"] - 1
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
    else:
        assert record["chunks"] is None
        assert seen[0].choices[0].text == truth["output_text"]


@modes
def test_stream_usage_is_added_and_its_chunk_hidden(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(PROJECT)
    seen, sent = _replay(PROJECT, is_async, drop="stream_options")

    assert sent[0]["stream_options"] == {"include_usage": True}
    assert [c.choices[0].text for c in seen] == ["\n\n", "This", " is", " a", " test", "."]
    (record,) = records_of(memory)
    assert record["chunks"] == len(seen) + 1 == truth["sse_data_events"] - 1
    assert output_text(record) == truth["output_text"] == "\n\nThis is a test."
    assert record["finish_reason"] == "stop"
    assert record["response_id"] == truth["response_id"]
    assert record["usage"]["input_tokens"] == truth["input_tokens"] == 5
    assert record["usage"]["output_tokens"] == truth["output_tokens"] == 6
    assert record["usage"]["total_tokens"] == truth["total_tokens"] == 11
    assert record["settings"] == {"max_tokens": 7}


@modes
def test_usage_chunk_the_caller_asked_for_stays_visible(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    seen, sent = _replay(PROJECT, is_async)

    assert sent[0]["stream_options"] == {"include_usage": True}
    assert len(seen) == 7
    assert seen[-1].choices == []
    assert seen[-1].usage.total_tokens == 11
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["usage"]["total_tokens"] == 11


@modes
def test_list_prompt_and_token_arrays_are_messages(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    def answer(body: dict[str, Any]) -> Any:
        choices = [_choice(i, f"answer {i}", "stop") for i in range(3)]
        return http.Response(200, json={**_chunk(choices), "usage": None})

    prompts: list[Any] = ["first", [15339, 1917], "third"]
    _call(
        is_async,
        lambda client: client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompts),
        **_served(answer, is_async),
    )
    prompts.append("added after the call")

    (record,) = records_of(memory)
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "first"}]},
        {"role": "user", "parts": [{"type": "tokens", "count": 2}]},
        {"role": "user", "parts": [{"type": "text", "content": "third"}]},
    ]
    assert [output_text(record, i) for i in range(3)] == ["answer 0", "answer 1", "answer 2"]
    assert record["usage"]["total_tokens"] is None


def test_a_single_token_array_is_one_message_with_its_count(
    memory: Any, instrumented: None
) -> None:
    def answer(body: dict[str, Any]) -> Any:
        assert body["prompt"] == [1, 2, 3, 4]
        return http.Response(200, json=_chunk([_choice(0, "ok", "stop")]))

    _call(
        False,
        lambda client: client.completions.create(model="davinci-002", prompt=[1, 2, 3, 4]),
        **_served(answer, False),
    )

    (record,) = records_of(memory)
    assert record["input"] == [{"role": "user", "parts": [{"type": "tokens", "count": 4}]}]


@modes
def test_interleaved_stream_choices_stay_apart(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    def answer(body: dict[str, Any]) -> Any:
        return _sse(
            _chunk([_choice(0, "Hel")]),
            _chunk([_choice(1, "Goo")]),
            _chunk([_choice(1, "d", "length")]),
            _chunk([_choice(0, "lo", "stop")]),
        )

    seen = _call(
        is_async,
        lambda client: client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Say hi", n=2, stream=True
        ),
        **_served(answer, is_async),
        base_url="http://localhost:8000/v1",  # a host not sent stream_options in auto mode
    )

    assert len(seen) == 4
    (record,) = records_of(memory)
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello"}],
            "finish_reason": "stop",
        },
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Good"}],
            "finish_reason": "length",
        },
    ]
    assert record["finish_reason"] == "stop"
    assert record["settings"] == {"n": 2}


def test_stream_cut_before_any_finish_reason_is_incomplete(memory: Any, instrumented: None) -> None:
    def answer(body: dict[str, Any]) -> Any:
        return _sse(_chunk([_choice(0, "Half")]), _chunk([_choice(0, " an answer")]))

    seen = _call(
        False,
        lambda client: client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Go", stream=True
        ),
        **_served(answer, False),
    )

    assert len(seen) == 2
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert output_text(record) == "Half an answer"
    assert record["finish_reason"] is None


@modes
def test_raw_response_records_exactly_one_record(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    path = SHARED_CASSETTES / "openai" / "completions_legacy_gpt35_instruct.yaml"
    cassette, truth = load_cassette(path)
    body = request_body(cassette["interactions"][0])

    async def araw() -> tuple[Any, Any]:
        client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
        raw = await client.completions.with_raw_response.create(**body)
        return raw, raw.parse()

    with replay(path):
        if is_async:
            raw, completion = asyncio.run(araw())
        else:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            raw = client.completions.with_raw_response.create(**body)
            completion = raw.parse()

    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.status_code == 200
    assert completion.choices[0].text == truth["output_text"]
    (record,) = records_of(memory)
    assert record["response_id"] == truth["response_id"]
    assert output_text(record) == truth["output_text"]
    assert record["usage"]["total_tokens"] == truth["total_tokens"]
