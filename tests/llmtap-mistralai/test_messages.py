"""Mistral content chunks as GenAI parts."""

from __future__ import annotations

import pytest

from llmtap_mistralai.fim import fim_input
from llmtap_mistralai.messages import content_part, message

AUDIO = "UklGRiQAAABXQVZF"  # 16 base64 characters: 12 bytes


@pytest.mark.parametrize(
    ("chunk", "part"),
    [
        ({"type": "text", "text": "hi"}, {"type": "text", "content": "hi"}),
        (
            {
                "type": "thinking",
                "thinking": [
                    {"type": "text", "text": "a"},
                    {"type": "reference", "reference_ids": [1]},
                    {"type": "text", "text": "b"},
                ],
            },
            {"type": "reasoning", "content": "ab"},
        ),
        (
            {"type": "image_url", "image_url": "https://example.com/cat.png"},
            {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
        ),
        (
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/dog.png", "detail": "low"},
            },
            {"type": "uri", "modality": "image", "uri": "https://example.com/dog.png"},
        ),
        (
            {"type": "image_url", "image_url": "data:image/png;base64,iVBORw0KGgo="},
            {
                "type": "blob",
                "modality": "image",
                "mime_type": "image/png",
                "content": None,
                "size_bytes": 8,
            },
        ),
        (
            {"type": "document_url", "document_url": "https://example.com/a.pdf"},
            {"type": "uri", "modality": "document", "uri": "https://example.com/a.pdf"},
        ),
        (
            {"type": "input_audio", "input_audio": AUDIO},
            {
                "type": "blob",
                "modality": "audio",
                "mime_type": None,
                "content": None,
                "size_bytes": 12,
            },
        ),
        (
            {"type": "input_audio", "input_audio": "https://example.com/a.wav"},
            {"type": "uri", "modality": "audio", "uri": "https://example.com/a.wav"},
        ),
        (
            {"type": "file", "file_id": "file-1"},
            {"type": "file", "modality": "document", "file_id": "file-1"},
        ),
        ("plain", {"type": "text", "content": "plain"}),
        (
            {"type": "reference", "reference_ids": [2]},
            {"type": "reference", "content": {"type": "reference", "reference_ids": [2]}},
        ),
        ({"kind": "odd"}, {"type": "unknown", "content": {"kind": "odd"}}),
    ],
)
def test_content_chunk(chunk: object, part: dict[str, object]) -> None:
    assert content_part(chunk) == part


def test_tool_result_with_chunked_content() -> None:
    tool = {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "42"}]}
    assert message(tool) == {
        "role": "tool",
        "parts": [
            {"type": "tool_call_response", "id": "c1", "response": [{"type": "text", "text": "42"}]}
        ],
    }


def test_empty_content_has_no_parts() -> None:
    assert message({"role": "assistant", "content": ""}) == {"role": "assistant", "parts": []}
    assert message({"content": None}) == {"role": "user", "parts": []}


def test_fim_input() -> None:
    assert fim_input("def f(", None) == [
        {"role": "user", "parts": [{"type": "text", "content": "def f("}]}
    ]
    assert fim_input(None, None) is None
