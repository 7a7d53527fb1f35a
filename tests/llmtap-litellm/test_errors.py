"""Failed calls are recorded as errors, with LiteLLM's exception type and status."""

from __future__ import annotations

from typing import Any

import litellm
import pytest

OPENAI = {"api_key": "sk-test", "api_base": "https://api.openai.com/v1"}
CHAT = {**OPENAI, "model": "openai/gpt-4o-mini"}


def _check(records: list[dict[str, Any]]) -> None:
    assert len(records) == 1
    (record,) = records
    assert record["status"] == "error"
    assert record["error"]["type"] == "NotFoundError"
    assert record["error"]["status_code"] == 404
    assert "does not exist" in record["error"]["message"]
    assert record["usage"]["input_tokens"] is None
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Say this is a test"}]}
    ]


def test_sync_failure(style: str, lite: Any) -> None:
    with (
        lite.replaying(lite.cassette("openai", "error_chat_404_model_not_found")),
        pytest.raises(litellm.NotFoundError),
    ):
        litellm.completion(messages=lite.question, **CHAT)
    _check(lite.records(1))


async def test_async_failure(style: str, lite: Any) -> None:
    with lite.replaying(lite.cassette("openai", "error_chat_404_model_not_found")):
        with pytest.raises(litellm.NotFoundError):
            await litellm.acompletion(messages=lite.question, **CHAT)
        records = await lite.arecords(1)
    _check(records)


def test_anthropic_failure(registered: None, lite: Any) -> None:
    with (
        lite.replaying(lite.cassette("anthropic", "error_messages_404_model_not_found")),
        pytest.raises(litellm.NotFoundError),
    ):
        litellm.completion(
            model="anthropic/claude-sonet-4-5",
            api_key="sk-ant-test",
            api_base="https://api.anthropic.com/v1/messages?beta=true",
            messages=lite.question,
            max_tokens=100,
        )
    (record,) = lite.records(1)
    assert record["status"] == "error"
    assert record["provider"] == "anthropic"
    assert record["error"]["type"] == "NotFoundError"
