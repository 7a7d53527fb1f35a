"""Streams that end early, failures, parenting under llmtap spans, concurrent runs,
the memory bound, and turning the integration on and off."""

from __future__ import annotations

import asyncio
import gc
import importlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai
import pytest
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.llms import ChatMessage
from llamaindex_support import generations, openai_llm, text_of

import llmtap
import llmtap_llamaindex
from llmtap_llamaindex.handlers import LlmtapSpanHandler
from llmtap_llamaindex.tracker import Tracker
from support.cassettes import SHARED_CASSETTES, load_cassette, records_of, replay

if not SHARED_CASSETTES.is_dir():
    pytest.skip("../shared/cassettes is not present", allow_module_level=True)

OPENAI = SHARED_CASSETTES / "openai"
STREAM = OPENAI / "chat_stream_include_usage_gpt4.yaml"
TWO_CALLS = OPENAI / "chat_prompt_caching_cached_tokens.yaml"
QUESTION = [ChatMessage(role="user", content="Say this is a test")]


def _ours() -> list[LlmtapSpanHandler]:
    return [h for h in get_dispatcher().span_handlers if isinstance(h, LlmtapSpanHandler)]


def _tracker() -> Tracker:
    (handler,) = _ours()
    return handler._tracker


@pytest.fixture
def stream_llm() -> Any:
    return openai_llm("gpt-4", additional_kwargs={"stream_options": {"include_usage": True}})


def test_stream_breaks_early_is_incomplete(
    memory: Any, instrumented: None, stream_llm: Any
) -> None:
    with replay(STREAM):
        stream = stream_llm.stream_chat(QUESTION)
        for _ in stream:
            break
        stream.close()
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["error"] is None
    assert record["stream"] is True
    assert record["time_to_first_token_s"] is not None
    assert len(_tracker().calls) == 0


def test_stream_never_read_is_incomplete_when_dropped(
    memory: Any, instrumented: None, stream_llm: Any
) -> None:
    stream = stream_llm.stream_chat(QUESTION)  # the request is made on first read
    del stream
    gc.collect()
    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert len(_tracker().calls) == 0


async def test_async_stream_measures_first_token(
    memory: Any, instrumented: None, stream_llm: Any
) -> None:
    _, truth = load_cassette(STREAM)
    with replay(STREAM):
        stream = await stream_llm.astream_chat(QUESTION)
        # The span has already exited: LlamaIndex returned the generator.
        assert len(_tracker().spans) == 0
        assert len(_tracker().calls) == 1
        async for _ in stream:
            pass
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["chunks"] == truth["sse_data_events"] - 1  # minus [DONE]
    assert 0 < record["time_to_first_token_s"] < record["duration_s"]
    assert record["usage"]["input_tokens"] == truth["input_tokens"]
    assert record["usage"]["output_tokens"] == truth["output_tokens"]
    assert text_of(record) == truth["output_text"]


def test_status_error_is_an_error_record(memory: Any, instrumented: None) -> None:
    with (
        replay(OPENAI / "error_chat_404_model_not_found.yaml"),
        pytest.raises(openai.NotFoundError),
    ):
        openai_llm("gpt-4o-mini").chat(QUESTION)
    (record,) = records_of(memory)
    assert record["kind"] == "generation"
    assert record["status"] == "error"
    assert record["error"]["type"] == "NotFoundError"
    assert record["error"]["status_code"] == 404
    assert record["usage"]["input_tokens"] is None


def test_model_refused_before_any_request_is_one_error_record(
    memory: Any, instrumented: None
) -> None:
    llm = openai_llm("no-such-model")
    with pytest.raises(ValueError, match="Unknown model"):
        llm.complete("hello")
    (record,) = records_of(memory)
    assert record["kind"] == "generation"
    assert record["operation"] == "text_completion"
    assert record["request_model"] == "no-such-model"
    assert record["status"] == "error"
    assert record["error"]["type"] == "ValueError"


def test_runs_nest_under_the_current_llmtap_span(
    memory: Any, instrumented: None, stream_llm: Any
) -> None:
    with replay(STREAM), llmtap.span("handle request") as outer:
        for _ in stream_llm.stream_chat(QUESTION):
            pass
    (chat,) = generations(records_of(memory))
    assert chat["parent_id"] == outer.id
    assert chat["trace_id"] == outer.trace_id


def test_concurrent_threads_keep_their_trees(memory: Any, instrumented: None) -> None:
    _, truth = load_cassette(TWO_CALLS)
    llm = openai_llm("gpt-4o-mini")

    def ask(name: str) -> None:
        with llmtap.span(name):
            llm.chat(QUESTION)

    with replay(TWO_CALLS), ThreadPoolExecutor(2) as pool:
        list(pool.map(ask, ["first", "second"]))
    records = records_of(memory)
    spans = {r["id"]: r["name"] for r in records if r["kind"] == "chain"}
    gens = generations(records)
    assert sorted(spans[g["parent_id"]] for g in gens) == ["first", "second"]
    assert sorted(g["usage"]["input_tokens"] for g in gens) == sorted(
        i["input_tokens"] for i in truth["interactions"]
    )
    assert len(_tracker().spans) == len(_tracker().calls) == 0


async def test_concurrent_tasks_keep_their_trees(memory: Any, instrumented: None) -> None:
    llm = openai_llm("gpt-4o-mini")

    async def ask(name: str) -> None:
        with llmtap.span(name):
            await llm.achat(QUESTION)

    with replay(TWO_CALLS):
        await asyncio.gather(ask("first"), ask("second"))
    records = records_of(memory)
    spans = {r["id"]: r["name"] for r in records if r["kind"] == "chain"}
    assert sorted(spans[g["parent_id"]] for g in generations(records)) == ["first", "second"]


@pytest.fixture
def bounded() -> Iterator[None]:
    llmtap.instrument_llamaindex(max_open_spans=3)
    yield
    llmtap.uninstrument_llamaindex()


def test_runs_that_never_end_are_evicted(memory: Any, bounded: None, stream_llm: Any) -> None:
    before = llmtap.stats()["evicted_runs"]
    streams = [stream_llm.stream_chat(QUESTION) for _ in range(5)]
    assert len(_tracker().calls) == 3
    assert llmtap.stats()["evicted_runs"] - before == 2
    del streams
    gc.collect()
    records = records_of(memory)
    assert len(records) == 5
    assert {r["status"] for r in records} == {"incomplete"}
    assert len(_tracker().calls) == 0


def test_instrument_is_idempotent_even_after_a_reload(memory: Any) -> None:
    llmtap.instrument_llamaindex()
    llmtap.instrument_llamaindex()
    assert len(_ours()) == 1
    reloaded = importlib.reload(llmtap_llamaindex)
    try:
        reloaded.instrument()
        handlers = [h.class_name() for h in get_dispatcher().span_handlers]
        events = [h.class_name() for h in get_dispatcher().event_handlers]
        assert handlers.count("LlmtapSpanHandler") == 1
        assert events.count("LlmtapEventHandler") == 1
    finally:
        reloaded.uninstrument()
    assert "LlmtapSpanHandler" not in [h.class_name() for h in get_dispatcher().span_handlers]


def test_uninstrument_removes_handlers_and_taps(memory: Any, stream_llm: Any) -> None:
    create = openai.resources.embeddings.Embeddings.__dict__["create"]
    llmtap.instrument_llamaindex()
    assert llmtap_llamaindex.is_instrumented()
    assert openai.resources.embeddings.Embeddings.__dict__["create"] is not create
    pending = stream_llm.stream_chat(QUESTION)
    llmtap.uninstrument_llamaindex()
    assert not llmtap_llamaindex.is_instrumented()
    assert openai.resources.embeddings.Embeddings.__dict__["create"] is create
    (record,) = records_of(memory)  # the call in flight was finished, not lost
    assert record["status"] == "incomplete"
    del pending
    with replay(STREAM):
        for _ in stream_llm.stream_chat(QUESTION):
            pass
    assert len(records_of(memory)) == 1


def test_no_faults_in_a_normal_run(memory: Any, instrumented: None, stream_llm: Any) -> None:
    with replay(STREAM):
        for _ in stream_llm.stream_chat(QUESTION):
            pass
    records_of(memory)
    assert llmtap.stats()["faults"] == {}
