"""Errors: recorded with the SDK's exception type and HTTP status, and propagated to the
caller unchanged; a fault inside llmtap never reaches the caller."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import llmtap
import llmtap_mistralai.chat
import llmtap_mistralai.streams
import llmtap_mistralai.wrappers
from llmtap.faults import fault_counts
from support.cassettes import output_text, records_of
from support.fake_mistral import FakeMistral, Mistral, errors, http, run

MESSAGES = [{"role": "user", "content": "Is tracing on?"}]

# Every surface, as (name, operation, stream, call taking a client).
CALLS: list[tuple[str, str, bool, Any]] = [
    ("chat", "chat", False, lambda c, a: _m(c.chat, "complete", a)(model="m", messages=MESSAGES)),
    (
        "chat-stream",
        "chat",
        True,
        lambda c, a: _m(c.chat, "stream", a)(model="m", messages=MESSAGES),
    ),
    (
        "agents",
        "chat",
        False,
        lambda c, a: _m(c.agents, "complete", a)(agent_id="ag-1", messages=MESSAGES),
    ),
    (
        "agents-stream",
        "chat",
        True,
        lambda c, a: _m(c.agents, "stream", a)(agent_id="ag-1", messages=MESSAGES),
    ),
    ("fim", "fim", False, lambda c, a: _m(c.fim, "complete", a)(model="m", prompt="def f(")),
    ("fim-stream", "fim", True, lambda c, a: _m(c.fim, "stream", a)(model="m", prompt="def f(")),
    (
        "embeddings",
        "embeddings",
        False,
        lambda c, a: _m(c.embeddings, "create", a)(model="m", inputs="x"),
    ),
]


def _m(resource: Any, name: str, is_async: bool) -> Any:
    return getattr(resource, f"{name}_async" if is_async else name)


def _outcome(server: FakeMistral, make_call: Any, is_async: bool) -> tuple[type, str, int]:
    with pytest.raises(errors.SDKError) as caught:
        run(is_async, lambda c: make_call(c, is_async), server.client(is_async))
    return type(caught.value), str(caught.value), caught.value.status_code


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("status", [400, 404, 500])
@pytest.mark.parametrize(
    ("name", "operation", "stream", "make_call"), CALLS, ids=[c[0] for c in CALLS]
)
def test_http_error_is_recorded_and_propagates_unchanged(
    name: str,
    operation: str,
    stream: bool,
    make_call: Any,
    status: int,
    is_async: bool,
    memory: Any,
) -> None:
    bare = _outcome(FakeMistral(status=status), make_call, is_async)
    llmtap.instrument_mistralai()
    try:
        seen = _outcome(FakeMistral(status=status), make_call, is_async)
    finally:
        llmtap.uninstrument_mistralai()

    assert seen == bare
    (record,) = records_of(memory)
    assert record["operation"] == operation
    assert record["stream"] is stream
    assert record["status"] == "error"
    assert record["error"] == {"type": "SDKError", "message": bare[1], "status_code": status}
    assert "Invalid model: nope" in record["error"]["message"]
    assert record["usage"]["input_tokens"] is None
    assert record["output"] is None
    assert record["server_address"] == "api.mistral.ai"
    assert record["input"] is not None  # what was asked is kept


def test_validation_error_keeps_its_own_type(memory: Any, instrumented: None) -> None:
    server = FakeMistral(status=422)
    with pytest.raises(errors.HTTPValidationError):
        server.client().chat.complete(model="m", messages=MESSAGES)
    (record,) = records_of(memory)
    assert record["error"]["type"] == "HTTPValidationError"
    assert record["error"]["status_code"] == 422


def test_a_transport_error_is_recorded(memory: Any, instrumented: None) -> None:
    def refuse(request: Any) -> Any:
        raise http.ConnectError("connection refused")

    client = Mistral(
        api_key="mistral-test-key", client=http.Client(transport=http.MockTransport(refuse))
    )
    with pytest.raises(http.ConnectError, match="connection refused"):
        client.chat.complete(model="m", messages=MESSAGES)
    (record,) = records_of(memory)
    assert record["error"] == {
        "type": "ConnectError",
        "message": "connection refused",
        "status_code": None,
    }


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_fault_starting_the_record_leaves_the_call_alone(
    is_async: bool, memory: Any, instrumented: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("llmtap bug")

    monkeypatch.setattr(llmtap_mistralai.chat.ChatRequest, "__init__", broken)
    response = run(
        is_async,
        lambda c: _m(c.chat, "complete", is_async)(model="m", messages=MESSAGES),
        FakeMistral().client(is_async),
    )
    assert response.choices[0].message.content == "Tracing is on."
    assert records_of(memory) == []
    assert fault_counts() == {"mistralai.chat.start": 1}


def test_a_fault_mapping_the_response_still_exports_the_record(
    memory: Any, instrumented: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("llmtap bug")

    monkeypatch.setattr(llmtap_mistralai.chat, "normalise", broken)
    response = FakeMistral().client().chat.complete(model="m", messages=MESSAGES)
    assert response.usage.total_tokens == 13
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert output_text(record) == "Tracing is on."
    assert fault_counts() == {"resolve.llmtap-mistralai": 1}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_fault_reading_a_chunk_never_hides_it(
    is_async: bool, memory: Any, instrumented: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, event: Any) -> bool:
        raise RuntimeError("llmtap bug")

    monkeypatch.setattr(llmtap_mistralai.streams.ChatStreamRecorder, "observe", broken)
    client = FakeMistral().client(is_async)
    events = run(
        is_async, lambda c: _m(c.chat, "stream", is_async)(model="m", messages=MESSAGES), client
    )
    assert len(events) == 6
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"  # nothing was read, so no finish reason
    assert fault_counts() == {"stream.observe.llmtap-mistralai": 6}


def test_a_fault_making_the_proxy_returns_the_sdk_stream(
    memory: Any, instrumented: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("llmtap bug")

    monkeypatch.setattr(llmtap_mistralai.wrappers, "ChatStreamRecorder", broken)
    stream = FakeMistral().client().chat.stream(model="m", messages=MESSAGES)
    assert type(stream).__name__ == "EventStream"
    assert len(list(stream)) == 6
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Is tracing on?"}]}
    ]
    assert fault_counts() == {"mistralai.chat.stream": 1}


def test_an_async_error_propagates_from_the_awaited_call(memory: Any, instrumented: None) -> None:
    async def call() -> None:
        await (
            FakeMistral(status=503)
            .client(is_async=True)
            .chat.complete_async(model="m", messages=MESSAGES)
        )

    with pytest.raises(errors.SDKError) as caught:
        asyncio.run(call())
    assert caught.value.status_code == 503
    (record,) = records_of(memory)
    assert record["error"]["status_code"] == 503
