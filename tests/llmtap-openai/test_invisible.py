"""With llmtap on, the caller sees exactly what the SDK returns without it."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import openai
import pytest
from openai.resources.chat.completions import AsyncCompletions, Completions

import llmtap
from support.cassettes import output_text, records_of
from support.fake_openai import COMPLETION_TOKENS, PROMPT_TOKENS, WORDS, FakeOpenAI

MESSAGES = [{"role": "user", "content": "Is tracing on?"}]


def _chunk_payloads(chunks: list[Any]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude={"id"}) for c in chunks]


def _stream(client: openai.OpenAI, **extra: Any) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, **extra
    )


def test_caller_sees_the_same_chunks_and_usage_is_exact(memory: Any) -> None:
    plain_server = FakeOpenAI()
    plain = list(_stream(plain_server.client()))
    server = FakeOpenAI()
    llmtap.instrument_openai()
    try:
        seen = list(_stream(server.client()))
    finally:
        llmtap.uninstrument_openai()

    assert _chunk_payloads(seen) == _chunk_payloads(plain)
    assert "stream_options" not in plain_server.requests[0]
    assert server.requests[0]["stream_options"] == {"include_usage": True}
    (record,) = records_of(memory)
    assert record["usage"]["input_tokens"] == PROMPT_TOKENS
    assert record["usage"]["output_tokens"] == COMPLETION_TOKENS
    assert record["chunks"] == len(seen) + 1
    assert output_text(record) == "".join(WORDS)


def test_usage_chunk_stays_visible_when_the_caller_asked_for_it(
    memory: Any, instrumented: None
) -> None:
    server = FakeOpenAI()
    chunks = list(_stream(server.client(), stream_options={"include_usage": True}))

    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == PROMPT_TOKENS
    (record,) = records_of(memory)
    assert record["usage"]["input_tokens"] == PROMPT_TOKENS


def test_existing_stream_options_are_kept_when_usage_is_added(
    memory: Any, instrumented: None
) -> None:
    server = FakeOpenAI()
    list(_stream(server.client(), stream_options={"include_obfuscation": False}))

    assert server.requests[0]["stream_options"] == {
        "include_obfuscation": False,
        "include_usage": True,
    }


def test_unknown_servers_are_not_sent_stream_options_in_auto_mode(
    memory: Any, instrumented: None
) -> None:
    server = FakeOpenAI()
    list(_stream(server.client(base_url="http://localhost:11434/v1")))

    assert "stream_options" not in server.requests[0]
    (record,) = records_of(memory)
    assert record["server_address"] == "localhost"
    assert record["usage"]["output_tokens"] is None
    assert output_text(record) == "".join(WORDS)


@pytest.mark.parametrize(("mode", "sent"), [("never", False), ("always", True)])
def test_stream_usage_mode_is_configurable(mode: str, sent: bool, memory: Any) -> None:
    llmtap.instrument_openai(stream_usage=mode)  # type: ignore[arg-type]
    try:
        server = FakeOpenAI()
        list(_stream(server.client(base_url="http://localhost:11434/v1")))
    finally:
        llmtap.uninstrument_openai()

    assert ("stream_options" in server.requests[0]) is sent


def test_bad_stream_usage_mode_says_what_to_pass() -> None:
    with pytest.raises(ValueError, match="'auto', 'always' or 'never'"):
        llmtap.instrument_openai(stream_usage="sometimes")  # type: ignore[arg-type]


def test_stream_keeps_type_attributes_and_context_manager(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeOpenAI().client())

    assert isinstance(stream, openai.Stream)
    assert stream.response.status_code == 200
    with stream as entered:
        assert entered is stream
        first = next(entered)
    assert first.choices[0].delta.role == "assistant"
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["chunks"] == 1


@pytest.mark.parametrize(
    "leave",
    ["break_and_drop", "close", "exception_in_body", "gc_without_close"],
)
def test_every_early_exit_gives_exactly_one_incomplete_record(
    leave: str, memory: Any, instrumented: None
) -> None:
    client = FakeOpenAI().client()
    if leave == "break_and_drop":
        for _chunk in _stream(client):
            break
    elif leave == "close":
        stream = _stream(client)
        next(iter(stream))
        stream.close()
        assert stream.response.is_closed
    elif leave == "exception_in_body":

        def consume() -> None:
            for _chunk in _stream(client):
                raise KeyError("caller bug")

        with pytest.raises(KeyError):
            consume()
    else:
        stream = _stream(client)
        next(iter(stream))
        del stream
    gc.collect()

    records = records_of(memory)
    assert [r["status"] for r in records] == ["incomplete"]
    assert records[0]["chunks"] == 1
    assert records[0]["time_to_first_token_s"] is None  # only the role chunk arrived


def test_exhausted_stream_is_ok_once_even_if_closed_afterwards(
    memory: Any, instrumented: None
) -> None:
    stream = _stream(FakeOpenAI().client())
    list(stream)
    stream.close()
    with stream:
        pass

    assert [r["status"] for r in records_of(memory)] == ["ok"]


def test_resuming_after_break_keeps_recording(memory: Any, instrumented: None) -> None:
    stream = _stream(FakeOpenAI().client())
    for _chunk in stream:
        break
    rest = list(stream)

    assert len(rest) == len(WORDS) + 1
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert output_text(record) == "".join(WORDS)


def test_async_stream_keeps_type_and_records_once(memory: Any, instrumented: None) -> None:
    async def run() -> list[Any]:
        client = FakeOpenAI().async_client()
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        assert isinstance(stream, openai.AsyncStream)
        async with stream as entered:
            assert entered is stream
            return [chunk async for chunk in entered]

    chunks = asyncio.run(run())

    assert len(chunks) == len(WORDS) + 2
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["usage"]["output_tokens"] == COMPLETION_TOKENS


def test_async_close_before_the_end_is_incomplete(memory: Any, instrumented: None) -> None:
    async def run() -> None:
        client = FakeOpenAI().async_client()
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        await stream.__anext__()
        await stream.close()

    asyncio.run(run())

    assert [r["status"] for r in records_of(memory)] == ["incomplete"]


def test_stream_helper_keeps_working_and_records_once(memory: Any, instrumented: None) -> None:
    client = FakeOpenAI().client()
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()

    assert "content.delta" in events
    assert final.choices[0].message.content == "".join(WORDS)
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert output_text(record) == "".join(WORDS)


def test_raw_response_parses_and_records_usage(memory: Any, instrumented: None) -> None:
    client = FakeOpenAI().client()
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)

    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.status_code == 200
    completion = raw.parse()
    assert completion.choices[0].message.content == "".join(WORDS)
    (record,) = records_of(memory)
    assert record["usage"]["input_tokens"] == PROMPT_TOKENS
    assert record["response_id"] == "chatcmpl-fake0"


def test_raw_stream_is_recorded_through_parse_and_never_sent_stream_options(
    memory: Any, instrumented: None
) -> None:
    server = FakeOpenAI()
    raw = server.client().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    stream = raw.parse()
    chunks = list(stream)

    assert isinstance(stream, openai.Stream)
    assert raw.parse() is stream  # the SDK caches parse(); so does llmtap's proxy
    assert "stream_options" not in server.requests[0]
    assert len(chunks) == len(WORDS) + 2
    (record,) = records_of(memory)
    assert record["stream"] is True
    assert output_text(record) == "".join(WORDS)
    assert record["usage"]["output_tokens"] is None


def test_streaming_response_parse_records_the_completion(memory: Any, instrumented: None) -> None:
    client = FakeOpenAI().client()
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        assert response.headers["content-type"] == "application/json"
        completion = response.parse()

    assert completion.choices[0].message.content == "".join(WORDS)
    (record,) = records_of(memory)
    assert record["usage"]["input_tokens"] == PROMPT_TOKENS
    assert record["response_id"] == "chatcmpl-fake0"


def test_streaming_response_read_without_parse_is_recorded_once(
    memory: Any, instrumented: None
) -> None:
    client = FakeOpenAI().client()
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        body = b"".join(response.iter_bytes())
    del response
    gc.collect()

    assert b"chatcmpl-fake0" in body
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["metadata"]["openai.response_mode"] == "streaming_response"
    assert record["input"][0]["parts"][0]["content"] == "Is tracing on?"


def test_instrument_is_idempotent_and_uninstrument_restores_the_sdk(memory: Any) -> None:
    originals = (Completions.__dict__["create"], AsyncCompletions.__dict__["create"])
    client = FakeOpenAI().client()  # created before instrumenting
    llmtap.instrument_openai()
    llmtap.instrument_openai()
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        llmtap.uninstrument_openai()
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert (Completions.__dict__["create"], AsyncCompletions.__dict__["create"]) == originals
    assert len(records_of(memory)) == 1


def test_disabled_records_nothing(memory: Any, instrumented: None) -> None:
    llmtap.configure(exporters=[memory], disabled=True)
    try:
        FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        llmtap.configure(exporters=[memory])

    assert records_of(memory) == []


def test_records_nest_under_spans_and_carry_context(memory: Any, instrumented: None) -> None:
    client = FakeOpenAI().client()
    with (
        llmtap.context(thread_id="conv-7", user_id="u-1", tags=["beta"]),
        llmtap.span("answer", kind="chain") as span,
    ):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    chain, generation = sorted(records_of(memory), key=lambda r: r["kind"])
    assert generation["parent_id"] == chain["id"] == span.id
    assert generation["trace_id"] == chain["trace_id"]
    assert (generation["thread_id"], generation["user_id"], generation["tags"]) == (
        "conv-7",
        "u-1",
        ["beta"],
    )


def test_capture_content_off_keeps_numbers_not_text(memory: Any, instrumented: None) -> None:
    llmtap.configure(exporters=[memory], capture_content=False)
    try:
        FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        llmtap.configure(exporters=[memory])

    (record,) = records_of(memory)
    assert record["input"] is None
    assert record["output"] is None
    assert record["usage"]["total_tokens"] == PROMPT_TOKENS + COMPLETION_TOKENS


def test_instrument_all_finds_the_installed_openai_integration(memory: Any) -> None:
    enabled = llmtap.instrument()
    try:
        assert "openai" in enabled
        FakeOpenAI().client().chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        for name in enabled:
            getattr(llmtap, f"uninstrument_{name}")()

    assert len(records_of(memory)) == 1


def test_messages_given_as_a_generator_reach_the_sdk_and_the_record(
    memory: Any, instrumented: None
) -> None:
    server = FakeOpenAI()
    server.client().chat.completions.create(model="gpt-4o-mini", messages=(m for m in MESSAGES))

    assert server.requests[0]["messages"] == MESSAGES
    (record,) = records_of(memory)
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Is tracing on?"}]}
    ]


def test_async_break_then_drop_is_incomplete_not_an_error(memory: Any, instrumented: None) -> None:
    async def run() -> None:
        client = FakeOpenAI().async_client()
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        async for _chunk in stream:
            break
        del stream

    asyncio.run(run())
    gc.collect()

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["error"] is None
