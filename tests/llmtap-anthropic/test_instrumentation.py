"""Turning the integration on and off, and the clients it covers."""

from __future__ import annotations

import asyncio
import inspect
from importlib.metadata import entry_points
from typing import Any

import anthropic
import pytest
from anthropic.resources.beta.messages import Messages as BetaMessages
from anthropic.resources.messages import AsyncMessages, Messages

import llmtap
import llmtap_anthropic
from llmtap.exporters import MemoryExporter
from support.cassettes import records_of
from support.fake_anthropic import TEXT, FakeAnthropic

REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}
METHODS = [
    (Messages, "create"),
    (AsyncMessages, "create"),
    (Messages, "stream"),
    (BetaMessages, "create"),
]


def test_registered_under_the_integrations_entry_point() -> None:
    (entry,) = [e for e in entry_points(group="llmtap.integrations") if e.name == "anthropic"]
    assert entry.load() is llmtap_anthropic


def test_uninstrument_restores_the_very_same_functions() -> None:
    before = [owner.__dict__[name] for owner, name in METHODS]
    llmtap.instrument_anthropic()
    llmtap.instrument_anthropic()  # a second call changes nothing
    try:
        assert llmtap_anthropic.is_instrumented()
        wrapped = [owner.__dict__[name] for owner, name in METHODS]
        assert all(w.__wrapped__ is b for w, b in zip(wrapped, before, strict=True))
    finally:
        llmtap.uninstrument_anthropic()
    assert [owner.__dict__[name] for owner, name in METHODS] == before
    assert not llmtap_anthropic.is_instrumented()


def test_nothing_is_recorded_after_uninstrument(memory: Any) -> None:
    llmtap.instrument_anthropic()
    llmtap.uninstrument_anthropic()
    FakeAnthropic().client().messages.create(**REQUEST)

    assert records_of(memory) == []


def test_disabled_calls_straight_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_DISABLED", "1")
    exporter = MemoryExporter()
    llmtap.configure(exporters=[exporter])
    llmtap.instrument_anthropic()
    try:
        with FakeAnthropic().client().messages.stream(**REQUEST) as stream:
            assert stream.get_final_text() == TEXT
        message = FakeAnthropic().client().messages.create(**REQUEST)
    finally:
        llmtap.uninstrument_anthropic()
        monkeypatch.delenv("LLMTAP_DISABLED")
        llmtap.configure(exporters=[MemoryExporter()])

    assert message.content[0].text == TEXT
    assert exporter.records == []


def test_clients_created_before_instrumenting_are_recorded(memory: Any) -> None:
    client = FakeAnthropic().client()
    llmtap.instrument_anthropic()
    try:
        client.messages.create(**REQUEST)
    finally:
        llmtap.uninstrument_anthropic()

    assert len(records_of(memory)) == 1


def _bedrock(server: FakeAnthropic, is_async: bool) -> Any:
    cls = anthropic.AsyncAnthropicBedrock if is_async else anthropic.AnthropicBedrock
    return cls(
        api_key="sk-ant-test", aws_region="us-east-1", max_retries=0, **server.options(is_async)
    )


def _vertex(server: FakeAnthropic, is_async: bool) -> Any:
    cls = anthropic.AsyncAnthropicVertex if is_async else anthropic.AnthropicVertex
    return cls(
        region="us-east5",
        project_id="p",
        access_token="t",
        max_retries=0,
        **server.options(is_async),
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(
    ("make", "provider", "host"),
    [
        pytest.param(
            _bedrock,
            "aws.bedrock",
            "bedrock-runtime.us-east-1.amazonaws.com",
            marks=pytest.mark.skipif(
                "api_key" not in inspect.signature(anthropic.AnthropicBedrock).parameters,
                reason="Bedrock API keys (no AWS signing) are newer than this SDK",
            ),
        ),
        (_vertex, "gcp.vertex_ai", "us-east5-aiplatform.googleapis.com"),
    ],
    ids=["bedrock", "vertex"],
)
def test_cloud_clients_name_their_provider(
    make: Any, provider: str, host: str, is_async: bool, memory: Any, instrumented: None
) -> None:
    server = FakeAnthropic()
    client = make(server, is_async)

    async def run() -> None:
        await client.messages.create(**REQUEST)
        await client.beta.messages.create(**REQUEST)

    if is_async:
        asyncio.run(run())
    else:
        client.messages.create(**REQUEST)
        client.beta.messages.create(**REQUEST)

    assert len(server.requests) == 2
    records = records_of(memory)
    assert [(r["provider"], r["server_address"], r["status"]) for r in records] == [
        (provider, host, "ok"),
        (provider, host, "ok"),
    ]
    assert [r["output"][0]["parts"][0]["content"] for r in records] == [TEXT, TEXT]


def test_vertex_streams_through_the_helper(memory: Any, instrumented: None) -> None:
    with _vertex(FakeAnthropic(), False).messages.stream(**REQUEST) as stream:
        assert stream.get_final_text() == TEXT

    (record,) = records_of(memory)
    assert (record["provider"], record["status"], record["stream"]) == ("gcp.vertex_ai", "ok", True)
