"""LangChain messages and usage in llmtap's shapes: the content-block dialects LangChain
carries (OpenAI, Anthropic, its own standard blocks) and its usage details."""

from __future__ import annotations

from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from llmtap_langchain.messages import input_messages, to_genai
from llmtap_langchain.usage import from_llm_output, from_usage_metadata

PNG = "iVBORw0KGgo="  # 8 bytes of base64


def test_system_messages_become_system_instructions() -> None:
    conversation, instructions = input_messages(
        [
            SystemMessage("Be brief."),
            SystemMessage("Use metric units.", additional_kwargs={"__openai_role__": "developer"}),
            HumanMessage("Hi"),
        ]
    )
    assert instructions == [
        {"type": "text", "content": "Be brief."},
        {"type": "text", "content": "Use metric units."},
    ]
    assert conversation == [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]


def test_media_blocks_of_every_dialect_are_described_not_copied() -> None:
    message = HumanMessage(
        [
            {"type": "text", "text": "What is in these?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source_type": "url", "url": "https://example.com/b.png"},
            {"type": "image", "base64": PNG, "mime_type": "image/png"},
            {"type": "file", "file_id": "file-1", "mime_type": "application/pdf"},
        ]
    )
    blob = {"type": "blob", "modality": "image", "mime_type": "image/png", "content": None}
    assert to_genai(message)["parts"] == [
        {"type": "text", "content": "What is in these?"},
        {"type": "uri", "modality": "image", "uri": "https://example.com/a.png"},
        {**blob, "size_bytes": 8},
        {**blob, "size_bytes": 8},
        {"type": "uri", "modality": "image", "uri": "https://example.com/b.png"},
        {**blob, "size_bytes": 8},
        {
            "type": "file",
            "modality": "document",
            "file_id": "file-1",
            "mime_type": "application/pdf",
        },
    ]


def test_assistant_reasoning_text_and_tool_calls() -> None:
    message = AIMessage(
        [
            {"type": "thinking", "thinking": "Count the r's.", "signature": "sig"},
            {"type": "redacted_thinking", "data": "xyz"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "count", "input": {"word": "berry"}},
        ],
        tool_calls=[{"name": "count", "args": {"word": "berry"}, "id": "toolu_1"}],
        invalid_tool_calls=[{"name": "count", "args": "{oops", "id": "toolu_2", "error": None}],
    )
    assert to_genai(message) == {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "Count the r's."},
            {"type": "reasoning", "content": None, "redacted": True},
            {"type": "text", "content": "Let me check."},
            {"type": "tool_call", "id": "toolu_1", "name": "count", "arguments": {"word": "berry"}},
            {
                "type": "tool_call",
                "id": "toolu_2",
                "name": "count",
                "arguments": "{oops",
                "invalid": True,
            },
        ],
    }


def test_tool_results_in_both_dialects() -> None:
    assert to_genai(ToolMessage("42", tool_call_id="call_1", name="count")) == {
        "role": "tool",
        "parts": [
            {"type": "tool_call_response", "response": "42", "id": "call_1", "name": "count"}
        ],
    }
    anthropic_style = HumanMessage(
        [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "3"}]
    )
    assert to_genai(anthropic_style)["parts"] == [
        {"type": "tool_call_response", "id": "toolu_1", "response": "3"}
    ]


def test_chat_message_keeps_its_role() -> None:
    assert to_genai(ChatMessage("hello", role="critic"))["role"] == "critic"


def test_usage_metadata_details() -> None:
    usage = from_usage_metadata(
        {
            "input_tokens": 1200,
            "output_tokens": 300,
            "total_tokens": 1500,
            "input_token_details": {"cache_read": 1000, "cache_creation": 150},
            "output_token_details": {"reasoning": 120},
        }
    )
    assert (usage.input_tokens, usage.output_tokens) == (1200, 300)
    assert (usage.cached_input_tokens, usage.cache_creation_input_tokens) == (1000, 150)
    assert usage.reasoning_tokens == 120


def test_cache_writes_split_by_lifetime_are_summed() -> None:
    # langchain-anthropic 1.x zeroes `cache_creation` when it reports writes by TTL.
    usage = from_usage_metadata(
        {
            "input_tokens": 500,
            "output_tokens": 10,
            "total_tokens": 510,
            "input_token_details": {
                "cache_read": 0,
                "cache_creation": 0,
                "ephemeral_5m_input_tokens": 300,
                "ephemeral_1h_input_tokens": 100,
            },
        }
    )
    assert usage.cache_creation_input_tokens == 400


def test_an_input_count_of_zero_beside_output_is_unknown() -> None:
    usage = from_usage_metadata({"input_tokens": 0, "output_tokens": 171, "total_tokens": 171})
    assert (usage.input_tokens, usage.output_tokens) == (None, 171)


def test_llm_output_fallbacks() -> None:
    usage, raw = from_llm_output(
        {"token_usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}
    )
    assert (usage.input_tokens, usage.output_tokens, raw) == (
        5,
        7,
        {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    )
    usage, raw = from_llm_output(
        {
            "usage": {
                "input_tokens": 10,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 20,
                "output_tokens": 4,
            }
        }
    )
    assert (usage.input_tokens, usage.cached_input_tokens) == (1030, 1000)
    assert raw == {
        "input_tokens": 10,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 20,
        "output_tokens": 4,
    }
    assert from_llm_output(None)[0].input_tokens is None
