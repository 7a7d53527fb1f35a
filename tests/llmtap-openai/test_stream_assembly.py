"""Streams are reassembled exactly, whichever chunks take the fast path."""

from __future__ import annotations

import json
from typing import Any

import llmtap
from llmtap.exporters import MemoryExporter
from support.cassettes import output_text, records_of
from support.fake_openai import FakeOpenAI

MESSAGES = [{"role": "user", "content": "Go"}]


def sse(*chunks: dict[str, Any]) -> list[bytes]:
    events = [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks]
    return [*events, b"data: [DONE]\n\n"]


def chunk(choices: list[dict[str, Any]], chunk_id: str = "chatcmpl-x") -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": choices,
    }


class ScriptedServer(FakeOpenAI):
    def __init__(self, events: list[bytes]) -> None:
        super().__init__()
        self.events = events

    def stream_events(self, body: dict[str, Any]) -> list[bytes]:
        return self.events


def record_for(events: list[bytes], **request: Any) -> dict[str, Any]:
    memory = MemoryExporter()
    llmtap.configure(exporters=[memory])
    llmtap.instrument_openai(stream_usage="never")
    try:
        client = ScriptedServer(events).client()
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, **request
        )
        list(stream)
    finally:
        llmtap.uninstrument_openai()
    (record,) = records_of(memory)
    return record


def test_last_text_arriving_with_the_finish_reason_is_kept(memory: Any) -> None:
    record = record_for(
        sse(
            chunk([{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]),
            chunk([{"index": 0, "delta": {"content": "lo"}}]),
            chunk([{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}]),
        )
    )

    assert output_text(record) == "Hello!"
    assert record["finish_reason"] == "stop"
    assert record["chunks"] == 3
    assert record["status"] == "ok"


def test_text_and_tool_call_in_one_chunk_are_both_kept(memory: Any) -> None:
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"q": "x"}'},
    }
    record = record_for(
        sse(
            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
            chunk([{"index": 0, "delta": {"content": "Checking. "}}]),
            chunk([{"index": 0, "delta": {"content": "One sec.", "tool_calls": [call]}}]),
            chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]),
        ),
        tools=[{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
    )

    assert output_text(record) == "Checking. One sec."
    assert record["tool_calls"] == [
        {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": {"q": "x"}}
    ]


def test_response_id_is_taken_from_the_first_chunk_that_has_one(memory: Any) -> None:
    record = record_for(
        sse(
            chunk([], chunk_id=""),
            chunk([{"index": 0, "delta": {"content": "A"}}], chunk_id="chatcmpl-late"),
            chunk([{"index": 0, "delta": {"content": "B"}}], chunk_id="chatcmpl-late"),
            chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}], chunk_id="chatcmpl-late"),
        )
    )

    assert record["response_id"] == "chatcmpl-late"
    assert output_text(record) == "AB"
    assert record["chunks"] == 4


def test_interleaved_choices_of_an_n2_request_stay_apart(memory: Any) -> None:
    record = record_for(
        sse(
            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
            chunk([{"index": 0, "delta": {"content": "left"}}]),
            chunk([{"index": 1, "delta": {"content": "right"}}]),
            chunk([{"index": 0, "delta": {"content": "-0"}}]),
            chunk([{"index": 1, "delta": {"content": "-1"}}]),
            chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
            chunk([{"index": 1, "delta": {}, "finish_reason": "length"}]),
        ),
        n=2,
    )

    assert output_text(record, 0) == "left-0"
    assert output_text(record, 1) == "right-1"
    assert [m["finish_reason"] for m in record["output"]] == ["stop", "length"]


def test_a_chunk_without_choices_never_breaks_the_stream(memory: Any) -> None:
    odd = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    record = record_for(
        sse(
            chunk([{"index": 0, "delta": {"content": "ok"}}]),
            odd,
            chunk([{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}]),
        )
    )

    assert output_text(record) == "ok!"
    assert record["chunks"] == 3
    assert llmtap.stats()["faults"] == {}
