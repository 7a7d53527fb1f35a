"""Requests and messages mapped to GenAI messages, tools and settings, exactly."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic.resources.messages import Messages

from support.cassettes import records_of
from support.fake_anthropic import BASE_URL, FakeAnthropic, fit, http, message_body

# A 1x1 PNG (70 bytes) and a tiny PDF (54 bytes), base64.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGA"
    "WjR9awAAAABJRU5ErkJggg=="
)
PDF = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"


def _create(client: anthropic.Anthropic, **request: Any) -> Any:
    create = client.messages.create
    return create(**fit(create, {"model": "claude-sonnet-4-6", "max_tokens": 256, **request}))


def test_system_blocks_media_and_tool_history(memory: Any, instrumented: None) -> None:
    messages: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
                {
                    "type": "document",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
                },
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "héllo"},
                },
                {"type": "image", "source": {"type": "file", "file_id": "file_1"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Look it up.", "signature": "sig"},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "a"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [
                        {"type": "text", "text": "chart"},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                        },
                    ],
                    "is_error": False,
                },
            ],
        },
    ]
    system = [
        {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Use tools."},
    ]
    _create(FakeAnthropic().client(), messages=messages, system=system)

    (record,) = records_of(memory)
    instructions = [
        {"type": "text", "content": "Be brief."},
        {"type": "text", "content": "Use tools."},
    ]
    assert record["system_instructions"] == instructions
    image = {
        "type": "blob",
        "modality": "image",
        "mime_type": "image/png",
        "content": None,
        "size_bytes": 70,
    }
    assert record["input"] == [
        {"role": "system", "parts": instructions},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is in these?"},
                image,
                {"type": "uri", "modality": "image", "uri": "https://example.com/a.jpg"},
                {
                    "type": "blob",
                    "modality": "document",
                    "mime_type": "application/pdf",
                    "content": None,
                    "size_bytes": 54,
                },
                {
                    "type": "blob",
                    "modality": "document",
                    "mime_type": "text/plain",
                    "content": None,
                    "size_bytes": 6,
                },
                {"type": "file", "modality": "image", "file_id": "file_1"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Look it up."},
                {"type": "reasoning", "content": None, "redacted": True},
                {"type": "tool_call", "id": "toolu_1", "name": "lookup", "arguments": {"q": "a"}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "toolu_1", "response": "42"},
                {
                    "type": "tool_call_response",
                    "id": "toolu_2",
                    "response": [{"type": "text", "content": "chart"}, image],
                },
            ],
        },
    ]
    assert PNG not in str(record)
    assert PDF not in str(record)


def test_sdk_objects_passed_back_as_history_are_mapped(memory: Any, instrumented: None) -> None:
    content = [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_9", "name": "clock", "input": {}},
    ]
    server = FakeAnthropic(message=message_body(content, "tool_use"))
    client = server.client()
    messages: list[Any] = [{"role": "user", "content": "Time?"}]
    first = _create(client, messages=messages)
    messages.append({"role": "assistant", "content": first.content})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "noon"}],
        }
    )
    _create(client, messages=messages)

    one, two = records_of(memory)
    assert len(one["input"]) == 1  # the list appended to later is copied at call time
    assert two["input"][1] == {
        "role": "assistant",
        "parts": [
            {"type": "text", "content": "Checking."},
            {"type": "tool_call", "id": "toolu_9", "name": "clock", "arguments": {}},
        ],
    }
    assert one["finish_reason"] == "tool_use"
    assert one["tool_calls"] == [
        {"type": "tool_call", "id": "toolu_9", "name": "clock", "arguments": {}}
    ]


def test_settings_tools_and_stop_sequence(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic(message=message_body(stop_reason="stop_sequence", stop_sequence="END"))
    tools: list[Any] = [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
    ]
    _create(
        server.client(),
        messages=[{"role": "user", "content": "Hi"}],
        system="Be brief.",
        # anthropic 2.x takes sampling parameters only through extra_body.
        extra_body={"temperature": 0.2, "top_p": 0.9, "top_k": 5, "unrelated": 1},
        stop_sequences=["END"],
        tool_choice={"type": "auto"},
        tools=tools,
        metadata={"user_id": "u-1"},
        service_tier="auto",
    )

    (record,) = records_of(memory)
    assert record["settings"] == {
        "max_tokens": 256,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 5,
        "stop_sequences": ["END"],
        "tool_choice": {"type": "auto"},
        "metadata": {"user_id": "u-1"},
        "service_tier": "auto",
    }
    assert record["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
        {"type": "web_search_20250305", "name": "web_search", "definition": tools[1]},
    ]
    assert record["finish_reason"] == "stop_sequence"
    assert record["metadata"] == {"anthropic.stop_sequence": "END"}
    assert record["system_instructions"] == [{"type": "text", "content": "Be brief."}]


def test_one_shot_iterables_are_sent_and_recorded_whole(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic()
    messages = ({"role": "user", "content": word} for word in ("a", "b"))
    _create(server.client(), messages=messages)

    assert [m["content"] for m in server.requests[0]["messages"]] == ["a", "b"]
    (record,) = records_of(memory)
    assert [m["parts"][0]["content"] for m in record["input"]] == ["a", "b"]


def test_thinking_output_and_reasoning_tokens(memory: Any, instrumented: None) -> None:
    content = [
        {"type": "thinking", "thinking": "Count the rs.", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Three."},
    ]
    usage = {
        "input_tokens": 10,
        "output_tokens": 50,
        "output_tokens_details": {"thinking_tokens": 40},
    }
    server = FakeAnthropic(message=message_body(content, usage=usage))
    _create(
        server.client(),
        messages=[{"role": "user", "content": "?"}],
        thinking={"type": "enabled", "budget_tokens": 1024},
    )

    (record,) = records_of(memory)
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Count the rs."},
                {"type": "reasoning", "content": None, "redacted": True},
                {"type": "text", "content": "Three."},
            ],
            "finish_reason": "end_turn",
        }
    ]
    assert record["usage"] == {
        "input_tokens": 10,
        "output_tokens": 50,
        "total_tokens": 60,
        "cached_input_tokens": None,
        "cache_creation_input_tokens": None,
        "reasoning_tokens": 40,
    }
    assert record["settings"]["thinking"] == {"type": "enabled", "budget_tokens": 1024}


@pytest.mark.skipif(not hasattr(Messages, "parse"), reason="parse() is newer than this SDK")
def test_parse_is_recorded_once(memory: Any, instrumented: None) -> None:
    server = FakeAnthropic()
    parsed = server.client().messages.parse(
        model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )

    assert parsed.content[0].text == "Tracing is on."
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Tracing is on."}]


@pytest.mark.skipif(
    not hasattr(Messages, "count_tokens"), reason="count_tokens() is newer than this SDK"
)
def test_count_tokens_is_not_a_generation(memory: Any, instrumented: None) -> None:
    def handle(request: Any) -> Any:
        return http.Response(200, json={"input_tokens": 7})

    client = anthropic.Anthropic(
        api_key="sk-ant-test",
        base_url=BASE_URL,
        http_client=http.Client(transport=http.MockTransport(handle)),
    )
    count = client.messages.count_tokens(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "Hi"}]
    )

    assert count.input_tokens == 7
    assert records_of(memory) == []
