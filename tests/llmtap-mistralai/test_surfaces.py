"""What is hooked on each SDK line, and what each surface's record holds."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from pydantic import BaseModel

import llmtap
import llmtap_mistralai
import llmtap_mistralai.surfaces
from llmtap_mistralai.surfaces import sdk_package
from support.cassettes import output_text, records_of
from support.fake_mistral import (
    SDK_MAJOR,
    FakeMistral,
    Mistral,
    completion_body,
    http,
    run,
    usage_body,
)

MESSAGES = [{"role": "user", "content": "Is tracing on?"}]
PACKAGE = "mistralai" if SDK_MAJOR == 1 else "mistralai.client"
CLASSES = {"chat": "Chat", "agents": "Agents", "fim": "Fim", "embeddings": "Embeddings"}


def _class(resource: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.{resource}"), CLASSES[resource])


def _m(resource: Any, name: str, is_async: bool) -> Any:
    return getattr(resource, f"{name}_async" if is_async else name)


def test_the_installed_sdk_layout_is_found() -> None:
    assert sdk_package() == PACKAGE


def test_no_sdk_is_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        llmtap_mistralai.surfaces, "PACKAGES", ("no_such_sdk.client", "no_such_sdk")
    )
    with pytest.raises(ImportError, match="pip install mistralai"):
        llmtap_mistralai.instrument()
    assert not llmtap_mistralai.is_instrumented()


def test_instrument_wraps_every_method_and_uninstrument_restores_it() -> None:
    names = {
        "chat": ("complete", "complete_async", "stream", "stream_async"),
        "agents": ("complete", "complete_async", "stream", "stream_async"),
        "fim": ("complete", "complete_async", "stream", "stream_async"),
        "embeddings": ("create", "create_async"),
    }
    originals = {(r, n): _class(r).__dict__[n] for r, methods in names.items() for n in methods}
    llmtap.instrument_mistralai()
    llmtap.instrument_mistralai()  # a second call changes nothing
    try:
        assert llmtap_mistralai.is_instrumented()
        for (resource, name), original in originals.items():
            assert _class(resource).__dict__[name].__wrapped__ is original
    finally:
        llmtap.uninstrument_mistralai()
    assert not llmtap_mistralai.is_instrumented()
    for (resource, name), original in originals.items():
        assert _class(resource).__dict__[name] is original


def test_a_client_made_before_instrumenting_is_recorded_once(memory: Any) -> None:
    client = FakeMistral().client()
    llmtap.instrument_mistralai()
    llmtap.instrument_mistralai()
    try:
        client.chat.complete(model="mistral-small-latest", messages=MESSAGES)
    finally:
        llmtap.uninstrument_mistralai()
    client.chat.complete(model="mistral-small-latest", messages=MESSAGES)
    assert len(records_of(memory)) == 1


SURFACES = [
    (
        "chat",
        "complete",
        "/v1/chat/completions",
        {"model": "mistral-small-latest", "messages": MESSAGES},
    ),
    (
        "chat",
        "stream",
        "/v1/chat/completions",
        {"model": "mistral-small-latest", "messages": MESSAGES},
    ),
    ("agents", "complete", "/v1/agents/completions", {"agent_id": "ag-42", "messages": MESSAGES}),
    ("agents", "stream", "/v1/agents/completions", {"agent_id": "ag-42", "messages": MESSAGES}),
    (
        "fim",
        "complete",
        "/v1/fim/completions",
        {"model": "codestral-latest", "prompt": "def f(", "suffix": "f()"},
    ),
    (
        "fim",
        "stream",
        "/v1/fim/completions",
        {"model": "codestral-latest", "prompt": "def f(", "suffix": "f()"},
    ),
]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("resource", "method", "path", "kwargs"), SURFACES, ids=[f"{s[0]}.{s[1]}" for s in SURFACES]
)
def test_every_completion_surface_gives_one_record(
    resource: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    is_async: bool,
    memory: Any,
    instrumented: None,
) -> None:
    server = FakeMistral()
    run(
        is_async,
        lambda c: _m(getattr(c, resource), method, is_async)(**kwargs),
        server.client(is_async),
    )

    assert [p for p, _ in server.requests] == [path]
    (record,) = records_of(memory)
    model = kwargs.get("model")
    assert record["operation"] == ("fim" if resource == "fim" else "chat")
    assert record["name"] == (f"{record['operation']} {model}" if model else "chat")
    assert record["request_model"] == model
    assert record["response_model"] == "mistral-small-latest"
    assert record["provider"] == "mistral_ai"
    assert record["stream"] is (method == "stream")
    assert record["status"] == "ok"
    assert output_text(record) == "Tracing is on."
    assert record["usage"]["total_tokens"] == 13
    if resource == "agents":
        assert record["metadata"] == {"mistral.agent_id": "ag-42"}
    else:
        assert record["metadata"] == {}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embeddings(is_async: bool, memory: Any, instrumented: None) -> None:
    inputs = ["first text", "second text"]
    response = run(
        is_async,
        lambda c: _m(c.embeddings, "create", is_async)(
            model="mistral-embed", inputs=inputs, output_dimension=3
        ),
        FakeMistral().client(is_async),
    )
    assert len(response.data) == 2
    (record,) = records_of(memory)
    assert record["operation"] == "embeddings"
    assert record["name"] == "embeddings mistral-embed"
    assert record["response_id"] == "emb-fake0"
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "first text"}]},
        {"role": "user", "parts": [{"type": "text", "content": "second text"}]},
    ]
    assert record["settings"] == {"output_dimension": 3}
    assert record["metadata"] == {"embedding_count": 2, "embedding_dimensions": 3}
    assert record["usage"]["input_tokens"] == 6
    assert record["usage"]["output_tokens"] == 0


class Answer(BaseModel):
    answer: str


def test_parse_is_recorded_through_complete(memory: Any, instrumented: None) -> None:
    server = FakeMistral(completion=completion_body('{"answer": "yes"}'))
    parsed = server.client().chat.parse(Answer, model="mistral-small-latest", messages=MESSAGES)
    assert parsed.choices[0].message.parsed == Answer(answer="yes")
    (record,) = records_of(memory)
    assert record["settings"]["response_format"]["type"] == "json_schema"
    assert output_text(record) == '{"answer": "yes"}'


def test_settings_are_the_ones_the_caller_gave(memory: Any, instrumented: None) -> None:
    FakeMistral().client().chat.complete(
        model="mistral-small-latest",
        messages=MESSAGES,
        temperature=0.2,
        max_tokens=50,
        random_seed=7,
        stop=["\n"],
        top_p=None,
        safe_prompt=True,
    )
    (record,) = records_of(memory)
    assert record["settings"] == {
        "temperature": 0.2,
        "max_tokens": 50,
        "random_seed": 7,
        "stop": ["\n"],
        "safe_prompt": True,
    }


def test_server_address_follows_the_client_and_the_method_override(
    memory: Any, instrumented: None
) -> None:
    server = FakeMistral()
    transport = http.MockTransport(server.handle)
    client = Mistral(
        api_key="mistral-test-key",
        server_url="http://127.0.0.1:8080",
        client=http.Client(transport=transport),
    )
    client.chat.complete(model="m", messages=MESSAGES)
    client.chat.complete(model="m", messages=MESSAGES, server_url="https://eu.example.com")
    first, second = records_of(memory)
    assert first["server_address"] == "127.0.0.1"
    assert second["server_address"] == "eu.example.com"


def test_a_generator_of_messages_reaches_both_the_sdk_and_the_record(
    memory: Any, instrumented: None
) -> None:
    server = FakeMistral()
    server.client().chat.complete(model="m", messages=(m for m in MESSAGES * 2))
    assert server.requests[0][1]["messages"] == MESSAGES * 2
    (record,) = records_of(memory)
    assert len(record["input"]) == 2


def test_messages_changed_after_the_call_are_recorded_as_sent(
    memory: Any, instrumented: None
) -> None:
    messages = list(MESSAGES)
    stream = FakeMistral().client().chat.stream(model="m", messages=messages)
    messages.append({"role": "assistant", "content": "appended later"})
    list(stream)
    (record,) = records_of(memory)
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Is tracing on?"}]}
    ]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_disabled_llmtap_records_nothing(
    is_async: bool, memory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_DISABLED", "1")
    llmtap.configure(exporters=[memory])
    llmtap.instrument_mistralai()
    try:
        events = run(
            is_async,
            lambda c: _m(c.chat, "stream", is_async)(model="m", messages=MESSAGES),
            FakeMistral().client(is_async),
        )
        assert len(events) == 6
    finally:
        llmtap.uninstrument_mistralai()
    assert records_of(memory) == []


def test_sdk_message_models_and_their_unset_fields(memory: Any, instrumented: None) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    messages = [
        models.SystemMessage(content="Be brief."),
        models.UserMessage(content=[models.TextChunk(text="Weather in Paris?")]),
        models.AssistantMessage(
            tool_calls=[
                models.ToolCall(
                    id="call_1",
                    function=models.FunctionCall(name="weather", arguments={"city": "Paris"}),
                )
            ]
        ),
        models.ToolMessage(content="18C, sunny", tool_call_id="call_1"),
    ]
    FakeMistral().client().chat.complete(model="m", messages=messages)
    (record,) = records_of(memory)
    assert record["input"] == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "weather",
                    "arguments": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C, sunny"}],
        },
    ]


def test_a_thinking_answer_and_a_tool_call_in_one_response(memory: Any, instrumented: None) -> None:
    content = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Need the weather."}]},
        {"type": "text", "text": "Checking."},
    ]
    tool_calls = [
        {
            "id": "call_9",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
        }
    ]
    server = FakeMistral(completion=completion_body(content, tool_calls=tool_calls))
    server.client().chat.complete(model="magistral-small-latest", messages=MESSAGES)
    (record,) = records_of(memory)
    call = {"type": "tool_call", "id": "call_9", "name": "weather", "arguments": {"city": "Oslo"}}
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Need the weather."},
                {"type": "text", "content": "Checking."},
                call,
            ],
            "finish_reason": "stop",
        }
    ]
    assert record["tool_calls"] == [call]


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        # A count the server left out stays None, although the SDK's model reads it as 0.
        ({"prompt_tokens": 9, "total_tokens": 9}, (9, None, None)),
        (usage_body(prompt_tokens_details={"cached_tokens": 5}), (9, 4, 5)),
        (usage_body(prompt_token_details={"cached_tokens": 6}), (9, 4, 6)),
        (usage_body(num_cached_tokens=7), (9, 4, 7)),
        (usage_body(completion_tokens_details={"reasoning_tokens": 3}), (9, 4, None)),
    ],
)
def test_usage_holds_what_the_server_sent(
    usage: dict[str, Any], expected: tuple[Any, ...], memory: Any, instrumented: None
) -> None:
    body = {**completion_body(), "usage": usage}
    FakeMistral(completion=body).client().chat.complete(model="m", messages=MESSAGES)
    (record,) = records_of(memory)
    got = record["usage"]
    assert (got["input_tokens"], got["output_tokens"], got["cached_input_tokens"]) == expected
    assert record["provider_usage"] == usage
    reasoning = usage.get("completion_tokens_details", {}).get("reasoning_tokens")
    assert got["reasoning_tokens"] == reasoning
