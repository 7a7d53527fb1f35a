"""`llmtap.messages`: OpenAI-format messages (dicts or SDK objects) in the GenAI shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmtap.messages import (
    chat_message,
    chat_messages,
    input_messages,
    output_messages,
    parse_arguments,
    tool_definitions,
)
from llmtap.messages import field as read_field

# -- SDK-like objects: attributes instead of keys ----------------------------------------------


@dataclass
class Function:
    name: str
    arguments: str


@dataclass
class ToolCall:
    id: str
    function: Function
    type: str = "function"


@dataclass
class Message:
    role: str
    content: Any = None
    tool_calls: list[ToolCall] | None = None
    refusal: str | None = None


@dataclass
class Model:
    """A pydantic-like part: model_dump gives its plain data."""

    type: str
    payload: dict[str, Any] = field(default_factory=dict)

    def model_dump(self, mode: str = "python", exclude_unset: bool = False) -> dict[str, Any]:
        return {"type": self.type, "payload": self.payload, "mode": mode}


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


# -- roles and text ----------------------------------------------------------------------------


def test_a_string_content_becomes_one_text_part() -> None:
    assert chat_message({"role": "user", "content": "Hi"}) == {
        "role": "user",
        "parts": [text("Hi")],
    }


def test_a_list_of_text_parts_and_strings_becomes_text_parts() -> None:
    message = {"role": "user", "content": [{"type": "text", "text": "a"}, "b"]}

    assert chat_message(message) == {"role": "user", "parts": [text("a"), text("b")]}


def test_responses_api_text_part_types_are_text() -> None:
    message = {
        "role": "assistant",
        "content": [{"type": "output_text", "text": "a"}, {"type": "input_text", "text": "b"}],
    }

    assert chat_message(message)["parts"] == [text("a"), text("b")]


def test_a_missing_role_is_user_and_a_name_is_kept() -> None:
    assert chat_message({"content": "Hi", "name": "alice"}) == {
        "role": "user",
        "parts": [text("Hi")],
        "name": "alice",
    }


def test_no_content_gives_no_parts() -> None:
    assert chat_message({"role": "assistant", "content": None}) == {
        "role": "assistant",
        "parts": [],
    }


def test_a_refusal_is_a_refusal_part() -> None:
    message = {"role": "assistant", "content": None, "refusal": "I can't help with that."}

    assert chat_message(message)["parts"] == [
        {"type": "refusal", "content": "I can't help with that."}
    ]


def test_a_refusal_content_part_is_a_refusal_part() -> None:
    message = {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]}

    assert chat_message(message)["parts"] == [{"type": "refusal", "content": "No."}]


# -- tool calls and results --------------------------------------------------------------------


def test_tool_calls_become_tool_call_parts_with_parsed_arguments() -> None:
    message = {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris", "days": 2}'},
            }
        ],
    }

    assert chat_message(message)["parts"] == [
        text("Let me check."),
        {
            "type": "tool_call",
            "id": "call_1",
            "name": "get_weather",
            "arguments": {"city": "Paris", "days": 2},
        },
    ]


def test_tool_call_arguments_that_are_not_json_are_kept_as_sent() -> None:
    assert parse_arguments('{"city": "Par') == '{"city": "Par'
    assert parse_arguments({"already": "parsed"}) == {"already": "parsed"}
    assert parse_arguments(None) is None


def test_a_legacy_function_call_becomes_a_tool_call_part() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "lookup", "arguments": '{"q": "x"}'},
    }

    assert chat_message(message)["parts"] == [
        {"type": "tool_call", "id": None, "name": "lookup", "arguments": {"q": "x"}}
    ]


def test_a_tool_result_becomes_a_tool_call_response() -> None:
    message = {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"}

    assert chat_message(message) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": "call_1", "response": "18C and sunny"}],
    }


def test_a_legacy_function_result_becomes_a_tool_call_response() -> None:
    message = {"role": "function", "name": "lookup", "content": "found"}

    assert chat_message(message) == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "name": "lookup", "response": "found"}],
    }


# -- media and unknown parts -------------------------------------------------------------------


def test_an_image_url_becomes_an_image_uri_part() -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ],
    }

    assert chat_message(message)["parts"] == [
        text("What is this?"),
        {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
    ]


def test_input_audio_becomes_an_audio_blob_part() -> None:
    part = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}

    assert chat_message({"role": "user", "content": [part]})["parts"] == [
        {
            "type": "blob",
            "modality": "audio",
            "mime_type": "audio/wav",
            "content": None,
            "size_bytes": 4,
        }
    ]


def test_an_inline_data_image_is_recorded_by_size_not_bytes() -> None:
    url = "data:image/png;base64," + "AAAA" * 1000 + "AA=="
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}

    assert chat_message(message)["parts"] == [
        {
            "type": "blob",
            "modality": "image",
            "mime_type": "image/png",
            "content": None,
            "size_bytes": 3001,
        }
    ]


def test_a_file_becomes_a_document_file_part() -> None:
    part = {"type": "file", "file": {"file_id": "file-abc"}}

    assert chat_message({"role": "user", "content": [part]})["parts"] == [
        {"type": "file", "modality": "document", "file_id": "file-abc"}
    ]


def test_an_unknown_part_type_is_kept_with_its_data() -> None:
    part = {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}}

    assert chat_message({"role": "user", "content": [part]})["parts"] == [
        {"type": "video_url", "content": part}
    ]


def test_an_unknown_sdk_part_is_kept_as_plain_data() -> None:
    part = Model("hologram", {"x": 1})

    assert chat_message({"role": "user", "content": [part]})["parts"] == [
        {"type": "hologram", "content": {"type": "hologram", "payload": {"x": 1}, "mode": "json"}}
    ]


def test_a_part_without_a_type_is_kept_as_unknown() -> None:
    assert chat_message({"role": "user", "content": [{"data": 1}]})["parts"] == [
        {"type": "unknown", "content": {"data": 1}}
    ]


# -- SDK objects -------------------------------------------------------------------------------


def test_sdk_objects_with_attributes_convert_like_dicts() -> None:
    message = Message(
        role="assistant",
        content="Checking.",
        tool_calls=[ToolCall("call_9", Function("search", '{"q": "llmtap"}'))],
    )

    assert chat_message(message) == {
        "role": "assistant",
        "parts": [
            text("Checking."),
            {"type": "tool_call", "id": "call_9", "name": "search", "arguments": {"q": "llmtap"}},
        ],
    }


def test_field_reads_mappings_and_objects_alike() -> None:
    assert read_field({"a": 1}, "a") == 1
    assert read_field(Function("f", "{}"), "name") == "f"
    assert read_field({"a": 1}, "b", "default") == "default"
    assert read_field(Function("f", "{}"), "missing") is None
    assert read_field(None, "anything") is None


def test_chat_messages_converts_each_and_keeps_none() -> None:
    assert chat_messages(None) is None
    assert chat_messages([{"role": "user", "content": "a"}, Message("assistant", "b")]) == [
        {"role": "user", "parts": [text("a")]},
        {"role": "assistant", "parts": [text("b")]},
    ]


# -- tool definitions --------------------------------------------------------------------------


def test_function_tools_become_tool_definitions() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather now",
                "parameters": {"type": "object"},
            },
        }
    ]

    assert tool_definitions(tools) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather now",
            "parameters": {"type": "object"},
        }
    ]


def test_other_tools_are_kept_whole() -> None:
    assert tool_definitions([{"type": "web_search"}]) == [
        {"type": "web_search", "definition": {"type": "web_search"}}
    ]
    assert tool_definitions(None) is None


# -- input and output helpers ------------------------------------------------------------------


def test_input_messages_take_a_prompt_string_as_a_user_message() -> None:
    assert input_messages("Hi") == [{"role": "user", "parts": [text("Hi")]}]
    assert input_messages(None) is None


def test_input_messages_keep_messages_already_in_genai_shape() -> None:
    genai = {"role": "user", "parts": [text("Hi")]}

    assert input_messages([genai, {"role": "assistant", "content": "Hello"}]) == [
        genai,
        {"role": "assistant", "parts": [text("Hello")]},
    ]


def test_input_messages_take_a_generator() -> None:
    assert input_messages(m for m in [{"role": "user", "content": "Hi"}]) == [
        {"role": "user", "parts": [text("Hi")]}
    ]


def test_output_messages_mark_each_message_with_the_finish_reason() -> None:
    assert output_messages("Done.", "stop") == [
        {"role": "assistant", "parts": [text("Done.")], "finish_reason": "stop"}
    ]
    assert output_messages([Message("assistant", "a")], "length") == [
        {"role": "assistant", "parts": [text("a")], "finish_reason": "length"}
    ]
    assert output_messages(None, "stop") is None


def test_output_messages_do_not_change_the_callers_messages() -> None:
    genai = {"role": "assistant", "parts": [text("a")]}
    output_messages([genai], "stop")

    assert genai == {"role": "assistant", "parts": [text("a")]}
