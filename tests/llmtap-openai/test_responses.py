"""The Responses API: every shared recording replays to its truth file, and the
shapes recordings lack (helpers, parse, cut streams, error events, built-in tools)
are recorded exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import openai
import pydantic
import pytest

import llmtap
from support.cassettes import (
    SHARED_CASSETTES,
    load_cassette,
    output_text,
    records_of,
    replay,
    request_body,
)
from support.fake_responses import (
    CACHE_WRITE_TOKENS,
    CACHED_TOKENS,
    INPUT_TOKENS,
    MODEL,
    OUTPUT_TOKENS,
    REASONING_TOKENS,
    RESPONSE_ID,
    TEXT,
    WORDS,
    FakeResponses,
    completed_event,
    error_event,
    message_item,
    response_body,
    text_events,
    usage_body,
)

OPENAI_CASSETTES = SHARED_CASSETTES / "openai"

USAGE = {
    "input_tokens": INPUT_TOKENS,
    "output_tokens": OUTPUT_TOKENS,
    "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
    "cached_input_tokens": CACHED_TOKENS,
    "cache_creation_input_tokens": CACHE_WRITE_TOKENS,
    "reasoning_tokens": REASONING_TOKENS,
}
NO_USAGE = dict.fromkeys(USAGE)
EVENTS = len(text_events()) + 1  # the text events and response.completed

FUNCTION_CALL = {
    "id": "fc_1",
    "type": "function_call",
    "status": "completed",
    "call_id": "call_1",
    "name": "lookup",
    "arguments": '{"q": "cat"}',
}

modes = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])


def _responses_cassettes() -> list[Path]:
    if not OPENAI_CASSETTES.is_dir():
        return []
    paths = []
    for path in sorted(OPENAI_CASSETTES.glob("*.yaml")):
        _, truth = load_cassette(path)
        if {i.get("operation") for i in truth["interactions"]} == {"responses"}:
            paths.append(path)
    return paths


RESPONSES_CASSETTES = _responses_cassettes()
needs_shared = pytest.mark.skipif(
    not RESPONSES_CASSETTES, reason="../shared/cassettes is not present"
)


def _run(is_async: bool, client: Any, call: Callable[[Any], Any]) -> list[Any]:
    """Make one call and read it to the end: the events of a stream, else [the result]."""
    if not is_async:
        result = call(client)
        return list(result) if isinstance(result, openai.Stream) else [result]

    async def run() -> list[Any]:
        result = await call(client)
        if isinstance(result, openai.AsyncStream):
            return [event async for event in result]
        return [result]

    return asyncio.run(run())


def _create(server: FakeResponses, is_async: bool, **kwargs: Any) -> list[Any]:
    client = server.async_client() if is_async else server.client()
    body = {"model": "gpt-4.1-mini", "input": "Is tracing on?", **kwargs}
    return _run(is_async, client, partial(_create_from, body))


def _create_from(body: dict[str, Any], client: Any) -> Any:
    return client.responses.create(**body)


def _replay_all(path: Path, is_async: bool) -> list[BaseException]:
    """Make every call in the cassette as it was recorded; return the errors raised."""
    cassette, _ = load_cassette(path)
    errors: list[BaseException] = []
    with replay(path):
        for interaction in cassette["interactions"]:
            body = request_body(interaction)
            client = (openai.AsyncOpenAI if is_async else openai.OpenAI)(
                api_key="sk-test", max_retries=0
            )
            try:
                _run(is_async, client, partial(_create_from, body))
            except openai.APIError as error:
                errors.append(error)
    return errors


def _replay_one(name: str) -> None:
    _replay_all(OPENAI_CASSETTES / f"{name}.yaml", is_async=False)


# -- shared recordings -----------------------------------------------------------------


def _assert_matches_truth(
    record: dict[str, Any], truth: dict[str, Any], error: BaseException | None
) -> None:
    assert record["kind"] == "generation"
    assert record["operation"] == "responses"
    assert record["name"] == f"responses {truth['request_model']}"
    assert record["provider"] == "openai"
    assert record["integration"] == "llmtap-openai"
    assert record["server_address"] == truth["host"]
    assert record["request_model"] == truth["request_model"]
    assert record["stream"] is truth["streaming"]
    assert record["duration_s"] > 0
    if truth["status_code"] >= 400:
        assert error is not None
        assert record["status"] == "error"
        assert record["error"] == {
            "type": type(error).__name__,
            "message": str(error),
            "status_code": truth["status_code"],
        }
        assert truth["error_message"] in record["error"]["message"]
        assert record["response_id"] is truth["response_id"] is None
        assert record["output"] is None
        assert record["usage"] == NO_USAGE
        assert record["provider_usage"] is None
        return
    assert error is None
    assert record["status"] == "ok"
    assert record["error"] is None
    assert record["response_id"] == truth["response_id"]
    assert record["response_model"] == truth["response_model"]
    assert record["usage"] == {
        "input_tokens": truth["input_tokens"],
        "output_tokens": truth["output_tokens"],
        "total_tokens": truth["total_tokens"],
        "cached_input_tokens": truth["cached_tokens"],
        "cache_creation_input_tokens": None,  # these recordings predate cache_write_tokens
        "reasoning_tokens": truth["reasoning_tokens"],
    }
    assert record["provider_usage"] == {
        "input_tokens": truth["input_tokens"],
        "input_tokens_details": {"cached_tokens": truth["cached_tokens"]},
        "output_tokens": truth["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": truth["reasoning_tokens"]},
        "total_tokens": truth["total_tokens"],
    }
    assert output_text(record) == (truth["output_text"] or None)
    assert [m["finish_reason"] for m in record["output"]] == truth["finish_reasons"]
    assert record["finish_reason"] == truth["finish_reasons"][0]
    assert [c["name"] for c in record["tool_calls"] or []] == truth.get("tool_calls", [])
    if truth["streaming"]:
        assert truth["stream_output_text"] == truth["output_text"]
        assert record["chunks"] == truth["sse_data_events"]
        assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
        assert record["output_tokens_per_s"] > 0
    else:
        assert record["chunks"] is None
        assert record["time_to_first_token_s"] is None


@needs_shared
@modes
@pytest.mark.parametrize("path", RESPONSES_CASSETTES, ids=lambda p: p.stem)
def test_replayed_cassette_matches_truth(
    path: Path, is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(path)
    errors = _replay_all(path, is_async)

    records = records_of(memory)
    calls = [i for i in truth["interactions"] if i.get("operation")]
    assert len(records) == truth["expected_llm_calls"] == len(calls)
    failed = iter(errors)
    for record, interaction in zip(records, calls, strict=True):
        error = next(failed) if interaction["status_code"] >= 400 else None
        _assert_matches_truth(record, interaction, error)
    assert next(failed, None) is None


@needs_shared
def test_function_call_is_a_tool_call_with_parsed_arguments(
    memory: Any, instrumented: None
) -> None:
    _replay_one("responses_nonstream_function_call")

    (record,) = records_of(memory)
    call = {
        "type": "tool_call",
        "id": "call_90uO5LcGP5vTBTCrjyhYtWsA",
        "name": "get_current_weather",
        "arguments": {"location": "Seattle, WA"},
    }
    assert record["output"] == [
        {"role": "assistant", "parts": [call], "finish_reason": "completed"}
    ]
    assert record["tool_calls"] == [call]
    assert record["input"] == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "What's the weather in Seattle right now?"}],
        }
    ]
    assert record["tools"] == [
        {
            "type": "function",
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. Boston, MA",
                    }
                },
                "required": ["location"],
                "additionalProperties": False,
            },
        }
    ]
    assert record["settings"] == {
        "tool_choice": {"type": "function", "name": "get_current_weather"}
    }
    assert record["metadata"] == {"openai.service_tier": "default"}


@needs_shared
def test_reasoning_item_comes_before_the_text(memory: Any, instrumented: None) -> None:
    _replay_one("responses_nonstream_gpt5_nano_reasoning")

    (record,) = records_of(memory)
    # The model sent no summary: the part says it reasoned, the usage says how much.
    assert record["output"][0]["parts"] == [
        {"type": "reasoning", "content": ""},
        {"type": "text", "content": "3"},
    ]
    assert record["settings"] == {"reasoning": {"effort": "low", "summary": None}}
    assert record["usage"]["reasoning_tokens"] == 320


@needs_shared
def test_instructions_are_the_system_message(memory: Any, instrumented: None) -> None:
    _replay_one("responses_stream_gpt4o_mini_short")

    (record,) = records_of(memory)
    assert record["system_instructions"] == [
        {"type": "text", "content": "You are a helpful assistant."}
    ]
    assert record["input"] == [
        {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Say hi."}]},
    ]


@needs_shared
def test_failed_request_keeps_its_input_and_settings(memory: Any, instrumented: None) -> None:
    _replay_one("error_responses_400_invalid_model_gpt52")

    (record,) = records_of(memory)
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]
    assert record["settings"] == {"include": ["reasoning.encrypted_content"]}


# -- the stream helper, parse and raw responses -------------------------------------------


def _assert_fake_record(record: dict[str, Any], stream: bool) -> None:
    assert record["status"] == "ok"
    assert record["stream"] is stream
    assert record["response_id"] == RESPONSE_ID
    assert record["response_model"] == MODEL
    assert record["usage"] == USAGE
    assert record["provider_usage"] == usage_body()
    assert record["finish_reason"] == "completed"
    assert output_text(record) == TEXT


@pytest.mark.parametrize("read", ["events", "until_done", "get_final_response"])
def test_stream_helper_keeps_working_and_records_once(
    read: str, memory: Any, instrumented: None
) -> None:
    client = FakeResponses().client()
    with client.responses.stream(model="gpt-4.1-mini", input="Is tracing on?") as stream:
        if read == "events":
            deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
            assert deltas == WORDS
        elif read == "until_done":
            assert stream.until_done() is stream
        final = stream.get_final_response()

    assert final.id == RESPONSE_ID
    assert final.output_text == TEXT
    assert final.usage is not None
    assert final.usage.input_tokens == INPUT_TOKENS
    (record,) = records_of(memory)
    _assert_fake_record(record, stream=True)
    assert record["chunks"] == EVENTS
    assert record["time_to_first_token_s"] is not None


def test_async_stream_helper_keeps_working_and_records_once(
    memory: Any, instrumented: None
) -> None:
    async def run() -> tuple[list[str], Any]:
        client = FakeResponses().async_client()
        async with client.responses.stream(model="gpt-4.1-mini", input="Go") as stream:
            deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
            return deltas, await stream.get_final_response()

    deltas, final = asyncio.run(run())

    assert deltas == WORDS
    assert final.output_text == TEXT
    (record,) = records_of(memory)
    _assert_fake_record(record, stream=True)
    assert record["chunks"] == EVENTS


@modes
def test_caller_sees_exactly_the_events_the_sdk_returns(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    seen = _create(FakeResponses(), is_async, stream=True)
    llmtap.uninstrument_openai()
    plain = _create(FakeResponses(), is_async, stream=True)
    llmtap.instrument_openai()

    assert [e.model_dump() for e in seen] == [e.model_dump() for e in plain]
    assert len(records_of(memory)) == 1


class Answer(pydantic.BaseModel):
    city: str
    population: int


@modes
def test_parse_with_a_text_format_records_once_with_the_text(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    text = '{"city":"Paris","population":2102650}'
    server = FakeResponses(output=[message_item(text)])
    client = server.async_client() if is_async else server.client()

    (parsed,) = _run(
        is_async,
        client,
        lambda c: c.responses.parse(model="gpt-4.1-mini", input="Capital?", text_format=Answer),
    )

    assert parsed.output_parsed == Answer(city="Paris", population=2102650)
    assert server.requests[0]["text"]["format"]["name"] == "Answer"
    (record,) = records_of(memory)
    assert record["operation"] == "responses"
    assert record["stream"] is False
    assert output_text(record) == text
    assert record["usage"] == USAGE


def test_raw_response_records_once_with_usage(memory: Any, instrumented: None) -> None:
    client = FakeResponses().client()
    raw = client.responses.with_raw_response.create(model="gpt-4.1-mini", input="Go")

    assert raw.http_response.status_code == 200
    assert raw.parse().output_text == TEXT
    (record,) = records_of(memory)
    _assert_fake_record(record, stream=False)


def test_raw_stream_is_recorded_through_parse(memory: Any, instrumented: None) -> None:
    client = FakeResponses().client()
    raw = client.responses.with_raw_response.create(model="gpt-4.1-mini", input="Go", stream=True)
    stream = raw.parse()
    events = list(stream)

    assert isinstance(stream, openai.Stream)
    assert len(events) == EVENTS
    (record,) = records_of(memory)
    _assert_fake_record(record, stream=True)
    assert record["chunks"] == EVENTS


def test_plain_retrieve_is_not_a_generation(memory: Any, instrumented: None) -> None:
    response = FakeResponses().client().responses.retrieve(RESPONSE_ID)

    assert response.id == RESPONSE_ID
    assert records_of(memory) == []


# -- the request ---------------------------------------------------------------------------


def test_instructions_settings_and_previous_response_id(memory: Any, instrumented: None) -> None:
    _create(
        FakeResponses(),
        is_async=False,
        instructions="Answer in one word.",
        previous_response_id="resp_previous",
        temperature=0.2,
        max_output_tokens=64,
        store=False,
        metadata={"ticket": "42"},
        reasoning={"effort": "low"},
    )

    (record,) = records_of(memory)
    assert record["system_instructions"] == [{"type": "text", "content": "Answer in one word."}]
    assert record["input"] == [
        {"role": "system", "parts": [{"type": "text", "content": "Answer in one word."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Is tracing on?"}]},
    ]
    assert record["settings"] == {
        "previous_response_id": "resp_previous",
        "temperature": 0.2,
        "max_output_tokens": 64,
        "store": False,
        "metadata": {"ticket": "42"},
        "reasoning": {"effort": "low"},
    }


def test_input_list_mutated_after_the_call_does_not_change_the_record(
    memory: Any, instrumented: None
) -> None:
    server = FakeResponses()
    items: list[Any] = [{"role": "user", "content": "First"}]
    _create(server, is_async=False, input=items)
    items.append({"role": "user", "content": "Second"})

    assert server.requests[0]["input"] == [{"role": "user", "content": "First"}]
    (record,) = records_of(memory)
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "First"}]}]


def test_input_items_become_messages(memory: Any, instrumented: None) -> None:
    items = [
        {"role": "developer", "content": "Use tools."},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is this?"},
                {
                    "type": "input_image",
                    "image_url": "https://example.com/cat.png",
                    "detail": "low",
                },
                {"type": "input_image", "file_id": "file-img", "detail": "auto"},
                {"type": "input_file", "file_id": "file-doc"},
                {"type": "input_file", "file_url": "https://example.com/a.pdf"},
            ],
        },
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Look."}]},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": '{"q": "cat"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "A cat."},
        {"type": "item_reference", "id": "msg_0"},
    ]
    _create(FakeResponses(), is_async=False, input=items)

    (record,) = records_of(memory)
    assert record["input"] == [
        {"role": "developer", "parts": [{"type": "text", "content": "Use tools."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is this?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
                {"type": "file", "modality": "image", "file_id": "file-img"},
                {"type": "file", "modality": "document", "file_id": "file-doc"},
                {"type": "uri", "modality": "document", "uri": "https://example.com/a.pdf"},
            ],
        },
        {"role": "assistant", "parts": [{"type": "reasoning", "content": "Look."}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "cat"}}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "A cat."}],
        },
        {
            "role": "user",
            "parts": [
                {"type": "item_reference", "content": {"type": "item_reference", "id": "msg_0"}}
            ],
        },
    ]


def test_output_objects_fed_back_as_input_are_read(memory: Any, instrumented: None) -> None:
    client = FakeResponses(output=[FUNCTION_CALL]).client()
    first = client.responses.create(model="gpt-4.1-mini", input="Look up cat.")
    result = {"type": "function_call_output", "call_id": "call_1", "output": "A cat."}
    client.responses.create(model="gpt-4.1-mini", input=[*first.output, result])

    _, second = records_of(memory)
    assert second["input"] == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "cat"}}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "A cat."}],
        },
    ]


# -- the response --------------------------------------------------------------------------


def test_built_in_tool_calls_are_named_by_their_item_type(memory: Any, instrumented: None) -> None:
    output: list[dict[str, Any]] = [
        {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "Hmm."}]},
        {
            "id": "ws_1",
            "type": "web_search_call",
            "status": "completed",
            "action": {"type": "search", "query": "llmtap"},
        },
        {
            "id": "ci_1",
            "type": "code_interpreter_call",
            "status": "completed",
            "code": "print(1 + 1)",
            "container_id": "cntr_1",
            "outputs": [{"type": "logs", "logs": "2"}],
        },
        message_item(),
    ]
    tools = [
        {"type": "web_search", "search_context_size": "low"},
        {"type": "code_interpreter", "container": {"type": "auto"}},
    ]
    _create(FakeResponses(output=output), is_async=False, tools=tools)

    (record,) = records_of(memory)
    web_search = {
        "type": "tool_call",
        "id": "ws_1",
        "name": "web_search_call",
        "arguments": {"action": {"type": "search", "query": "llmtap"}},
    }
    code = {
        "type": "tool_call",
        "id": "ci_1",
        "name": "code_interpreter_call",
        "arguments": {"code": "print(1 + 1)", "container_id": "cntr_1"},
    }
    assert record["output"][0]["parts"] == [
        {"type": "reasoning", "content": "Hmm."},
        web_search,
        code,
        {
            "type": "tool_call_response",
            "id": "ci_1",
            "response": {"outputs": [{"type": "logs", "logs": "2"}]},
        },
        {"type": "text", "content": TEXT},
    ]
    assert record["tool_calls"] == [web_search, code]
    assert record["tools"] == [
        {"type": "web_search", "name": "web_search", "definition": tools[0]},
        {"type": "code_interpreter", "name": "code_interpreter", "definition": tools[1]},
    ]


def test_failed_response_is_an_error(memory: Any, instrumented: None) -> None:
    failed = response_body(
        [], "failed", error={"code": "server_error", "message": "The model broke."}
    )
    _create(
        FakeResponses(events=[*text_events()[:5], completed_event(failed)]),
        is_async=False,
        stream=True,
    )

    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"] == {
        "type": "server_error",
        "message": "The model broke.",
        "status_code": None,
    }
    assert record["finish_reason"] == "failed"
    assert record["output"] == [{"role": "assistant", "parts": [], "finish_reason": "failed"}]
    assert record["usage"] == NO_USAGE


@modes
def test_incomplete_response_says_why(is_async: bool, memory: Any, instrumented: None) -> None:
    incomplete = response_body(
        [message_item(status="incomplete")],
        "incomplete",
        usage_body(),
        incomplete_details={"reason": "max_output_tokens"},
    )
    _create(
        FakeResponses(events=[*text_events(), completed_event(incomplete)]), is_async, stream=True
    )

    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["finish_reason"] == "incomplete:max_output_tokens"
    assert record["output"][0]["finish_reason"] == "incomplete:max_output_tokens"
    assert output_text(record) == TEXT
    assert record["usage"] == USAGE


# -- streams that end early ----------------------------------------------------------------


@modes
def test_stream_cut_before_the_terminal_event_keeps_the_partial_text(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    events = _create(FakeResponses(events=text_events()[:6]), is_async, stream=True)

    assert [e.type for e in events][-1] == "response.output_text.delta"
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["response_id"] == RESPONSE_ID
    assert record["response_model"] == MODEL
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Tracing is"}],
            "finish_reason": None,
        }
    ]
    assert record["finish_reason"] is None
    assert record["usage"] == NO_USAGE
    assert record["chunks"] == 6
    assert record["time_to_first_token_s"] is not None


def test_cut_stream_keeps_finished_items_and_the_text_in_progress(
    memory: Any, instrumented: None
) -> None:
    created, _, *message = text_events()
    events = [
        created,
        {"type": "response.output_item.done", "output_index": 0, "item": FUNCTION_CALL},
    ]
    events += message[:4]  # the message starts: item and part added, two deltas
    _create(FakeResponses(events=events), is_async=False, stream=True)

    (record,) = records_of(memory)
    tool_call = {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "cat"}}
    assert record["output"][0]["parts"] == [tool_call, {"type": "text", "content": "Tracing is"}]
    assert record["tool_calls"] == [tool_call]


def test_stream_that_never_started_has_no_first_token(memory: Any, instrumented: None) -> None:
    _create(FakeResponses(events=text_events()[:2]), is_async=False, stream=True)

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["output"] is None
    assert record["time_to_first_token_s"] is None


def test_leaving_after_the_terminal_event_is_ok(memory: Any, instrumented: None) -> None:
    stream = (
        FakeResponses().client().responses.create(model="gpt-4.1-mini", input="Go", stream=True)
    )
    for event in stream:
        if event.type == "response.completed":
            break
    stream.close()

    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["usage"] == USAGE


def test_first_token_may_be_tool_arguments(memory: Any, instrumented: None) -> None:
    created = {"type": "response.created", "response": response_body([], "in_progress")}
    delta = {
        "type": "response.function_call_arguments.delta",
        "item_id": "fc_1",
        "output_index": 0,
        "delta": '{"q": "cat"}',
    }
    done = {"type": "response.output_item.done", "output_index": 0, "item": FUNCTION_CALL}
    final = completed_event(response_body([FUNCTION_CALL], usage=usage_body()))
    _create(FakeResponses(events=[created, delta, done, final]), is_async=False, stream=True)

    (record,) = records_of(memory)
    assert record["time_to_first_token_s"] is not None
    assert [c["arguments"] for c in record["tool_calls"]] == [{"q": "cat"}]


@modes
def test_error_event_raised_by_the_sdk_propagates_unchanged(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    events = [*text_events()[:6], error_event(nested=True)]
    with pytest.raises(openai.APIError) as raised:
        _create(FakeResponses(events=events), is_async, stream=True)

    assert type(raised.value) is openai.APIError
    assert str(raised.value) == "The model broke."
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"] == {
        "type": "APIError",
        "message": "The model broke.",
        "status_code": None,
    }
    assert output_text(record) == "Tracing is"
    assert record["chunks"] == 6


def test_error_event_yielded_by_the_sdk_is_an_error(memory: Any, instrumented: None) -> None:
    events = _create(
        FakeResponses(events=[*text_events()[:6], error_event(nested=False)]),
        is_async=False,
        stream=True,
    )

    assert events[-1].type == "error"
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"] == {
        "type": "server_error",
        "message": "The model broke.",
        "status_code": None,
    }
    assert output_text(record) == "Tracing is"
    assert record["chunks"] == 7
