"""API errors are recorded with the SDK's exception type and status, and reach the
caller exactly as they would without llmtap."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import pytest

import llmtap
from support.cassettes import records_of
from support.fake_anthropic import OVERLOADED_ERROR, FakeAnthropic

ERRORS = [
    (400, "invalid_request_error", "BadRequestError"),
    (404, "not_found_error", "NotFoundError"),
    (429, "rate_limit_error", "RateLimitError"),
    (529, "overloaded_error", OVERLOADED_ERROR.__name__),
]
REQUEST: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": "Hi"}],
}


def _raise(status: int, kind: str, stream: bool, is_async: bool) -> anthropic.APIStatusError:
    server = FakeAnthropic(status=status, error=(kind, f"{kind} happened"))
    try:
        if is_async:

            async def run() -> None:
                await server.async_client().messages.create(**REQUEST, stream=stream)

            asyncio.run(run())
        else:
            server.client().messages.create(**REQUEST, stream=stream)
    except anthropic.APIStatusError as error:
        return error
    raise AssertionError("no error raised")


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize(("status", "kind", "name"), ERRORS, ids=[e[2] for e in ERRORS])
def test_error_is_recorded_and_propagates_unchanged(
    status: int, kind: str, name: str, stream: bool, is_async: bool, memory: Any
) -> None:
    plain = _raise(status, kind, stream, is_async)
    llmtap.instrument_anthropic()
    try:
        traced = _raise(status, kind, stream, is_async)
    finally:
        llmtap.uninstrument_anthropic()

    assert type(traced) is type(plain)
    assert type(traced).__name__ == name
    assert str(traced) == str(plain)
    assert traced.status_code == status
    assert traced.body == plain.body
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["stream"] is stream
    assert record["error"] == {"type": name, "message": str(plain), "status_code": status}
    assert record["usage"]["input_tokens"] is None
    assert record["output"] is None
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
    assert record["settings"] == {"max_tokens": 16}
    assert record["server_address"] == "api.anthropic.com"


def test_bad_arguments_raise_the_sdks_error_and_are_recorded(
    memory: Any, instrumented: None
) -> None:
    server = FakeAnthropic()
    with pytest.raises(TypeError):
        server.client().messages.create(model="claude-sonnet-4-6", messages=[])  # type: ignore[call-overload]

    assert server.requests == []
    (record,) = records_of(memory)
    assert record["status"] == "error"
    assert record["error"]["type"] == "TypeError"
