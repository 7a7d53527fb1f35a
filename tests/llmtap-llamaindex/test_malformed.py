"""Property tests: malformed provider replies and unexpected spans and events never make
llmtap raise, change what the caller sees, lose a record or leave state behind.

Real LlamaIndex LLMs (llama-index-llms-openai and -anthropic) run on a mock transport
serving broken JSON bodies and SSE streams, with and without llmtap, and the caller
must see the same result or the same error. The span and event handlers are also fed
spans and events in any order (ends without starts, unknown span ids, parents that
never entered) carrying odd payloads.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, CompletionResponse
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.embedding import (
    EmbeddingEndEvent,
    EmbeddingStartEvent,
)
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionInProgressEvent,
    LLMCompletionStartEvent,
)
from llama_index.llms.anthropic import Anthropic
from llama_index.llms.openai import OpenAI

import llmtap
import llmtap_llamaindex.calls
import llmtap_llamaindex.steps
from llmtap.exporters import MemoryExporter
from llmtap.faults import reset_faults
from llmtap.generation import Generation
from llmtap_llamaindex.handlers import LlmtapEventHandler, LlmtapSpanHandler
from llmtap_llamaindex.tracker import Tracker
from support.fuzz_frameworks import (
    Reply,
    anthropic_message_reply,
    anthropic_stream_reply,
    mutated,
    odd_values,
    openai_completion_reply,
    openai_stream_reply,
    outcome_of,
    responder,
    without_keys,
)

# Derandomized: CI runs the same examples every time, in well under a minute.
FUZZ = settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
QUESTION = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Hi")]
MODES = ("chat", "stream_chat", "achat", "astream_chat")
# The SDK's parsed reply, kept by LlamaIndex as `raw`: compared through the rest.
PER_CALL_KEYS = frozenset({"raw"})


@pytest.fixture
def exporter() -> Iterator[MemoryExporter]:
    memory = MemoryExporter()
    llmtap.configure(exporters=[memory])
    yield memory
    llmtap.flush()
    llmtap.configure(exporters=[MemoryExporter()])


def _fresh(exporter: MemoryExporter) -> None:
    assert llmtap.flush(timeout=10)
    exporter.clear()
    reset_faults()


def _records(exporter: MemoryExporter) -> list[dict[str, Any]]:
    assert llmtap.flush(timeout=10)
    return [r.to_dict() for r in exporter.records if r.integration == "llmtap-llamaindex"]


def _tracker() -> Tracker:
    (handler,) = [h for h in get_dispatcher().span_handlers if isinstance(h, LlmtapSpanHandler)]
    return handler._tracker


# -- real LLMs on broken replies ------------------------------------------------------------


def _llm(provider: str, reply: Reply) -> Any:
    transport = httpx.MockTransport(responder(httpx, reply))
    if provider == "openai":
        return OpenAI(
            model="gpt-4o-mini",
            api_key="sk-test",
            api_base="http://fuzz.invalid/v1",
            max_retries=0,
            http_client=httpx.Client(transport=transport),
            async_http_client=httpx.AsyncClient(transport=transport),
        )
    llm = Anthropic(model="claude-3-5-haiku-20241022", api_key="sk-ant-test", max_retries=0)
    common = {"api_key": "sk-ant-test", "base_url": "http://fuzz.invalid", "max_retries": 0}
    # LlamaIndex's Anthropic LLM takes no http client: its own SDK clients are rebuilt
    # on the mock transport.
    llm._client = anthropic.Anthropic(**common, http_client=httpx.Client(transport=transport))
    llm._aclient = anthropic.AsyncAnthropic(
        **common, http_client=httpx.AsyncClient(transport=transport)
    )
    return llm


def _run(provider: str, mode: str, reply: Reply) -> Any:
    llm = _llm(provider, reply)
    if mode == "chat":
        return llm.chat(QUESTION)
    if mode == "stream_chat":
        return list(llm.stream_chat(QUESTION))

    async def run() -> Any:
        if mode == "achat":
            return await llm.achat(QUESTION)
        return [chunk async for chunk in await llm.astream_chat(QUESTION)]

    return asyncio.run(run())


def _normalise(result: Any) -> Any:
    items = result if isinstance(result, list) else [result]
    return without_keys([item.model_dump() for item in items], PER_CALL_KEYS)


@st.composite
def chat_scenarios(draw: st.DrawFn) -> tuple[str, str, Reply]:
    provider = draw(st.sampled_from(["openai", "anthropic"]))
    mode = draw(st.sampled_from(MODES))
    streamed = "stream" in mode
    if provider == "openai":
        reply = draw(openai_stream_reply if streamed else openai_completion_reply)
    else:
        reply = draw(anthropic_stream_reply if streamed else anthropic_message_reply)
    return provider, mode, reply


@FUZZ
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@given(scenario=chat_scenarios(), provider_layer=st.booleans())
def test_an_llm_on_a_broken_reply_behaves_as_without_llmtap(
    exporter: MemoryExporter, scenario: tuple[str, str, Reply], provider_layer: bool
) -> None:
    provider, mode, reply = scenario
    bare = outcome_of(lambda: _run(provider, mode, reply), _normalise)

    _fresh(exporter)
    llmtap.instrument_llamaindex()
    if provider_layer:
        llmtap.instrument_openai()
        llmtap.instrument_anthropic()
    try:
        traced = outcome_of(lambda: _run(provider, mode, reply), _normalise)
        gc.collect()  # a stream dropped by the failed call is finished by its finalizer
        tracker = _tracker()
        open_state = (len(tracker.spans), len(tracker.calls))
    finally:
        llmtap.uninstrument_anthropic()
        llmtap.uninstrument_openai()
        llmtap.uninstrument_llamaindex()

    event(f"{provider} {mode}: " + (bare.error[0] if bare.error else "ok"))
    assert traced == bare
    assert open_state == (0, 0)
    records = _records(exporter)
    event(f"faults: {sorted(llmtap.stats()['faults'])}")
    (call,) = [r for r in records if r["operation"] == "chat"]
    if bare.error is None:
        assert call["status"] == "ok"
    else:
        assert call["status"] in ("error", "incomplete")


# -- spans and events fed directly, in any order ----------------------------------------------

CLASSES = ("OpenAI", "Anthropic", "QueryEngine", "FunctionTool", "Unknown")
METHODS = ("chat", "stream_chat", "astream_complete", "complete", "get_query_embedding", "x")


def _bound(**arguments: Any) -> inspect.BoundArguments:
    def signature(**kwargs: Any) -> None: ...

    return inspect.signature(signature).bind(**arguments)


responses = st.one_of(
    st.builds(
        lambda message, raw, delta, extra: ChatResponse.model_construct(
            message=message, raw=raw, delta=delta, additional_kwargs=extra
        ),
        st.sampled_from([ChatMessage(role="assistant", content="Hi"), None]) | odd_values,
        mutated(
            {
                "id": "r1",
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 2, "completion_tokens": 1},
            },
            odd_values,
        )
        | odd_values,
        odd_values,
        mutated({"prompt_tokens": 1, "completion_tokens": 2}, odd_values) | odd_values,
    ),
    st.builds(
        lambda text, raw: CompletionResponse.model_construct(text=text, raw=raw),
        odd_values,
        mutated({"usage": {"input_tokens": 1, "output_tokens": 2}, "stop_reason": "x"}, odd_values)
        | odd_values,
    ),
    odd_values,
)


@st.composite
def steps(draw: st.DrawFn, span_ids: list[str]) -> tuple[str, Any]:
    """One span callback or event, on a span id from a small pool."""
    span_id = draw(st.sampled_from(span_ids))
    kind = draw(
        st.sampled_from(["enter", "enter", "exit", "drop", "start", "chunk", "end", "event"])
    )
    if kind == "enter":
        parent = draw(st.sampled_from([*span_ids, None, "Nowhere.x-0"]))
        instance = draw(st.sampled_from(["llm", "none", "odd"]))
        return kind, (
            span_id,
            instance,
            parent,
            draw(st.dictionaries(st.text(max_size=4), odd_values, max_size=2)),
        )
    if kind == "exit":
        return kind, (span_id, draw(st.sampled_from(["stream", "value"])), draw(odd_values))
    if kind == "drop":
        error = draw(
            st.sampled_from([ValueError("x"), GeneratorExit(), asyncio.CancelledError(), None])
        )
        return kind, (span_id, error)
    model = draw(mutated({"model": "gpt-4o-mini", "class_name": "OpenAI"}, odd_values) | odd_values)
    if kind == "start":
        completion = draw(st.booleans())
        cls = LLMCompletionStartEvent if completion else LLMChatStartEvent
        fields: dict[str, Any] = {
            "span_id": span_id,
            "model_dict": model,
            "additional_kwargs": draw(
                mutated({"tools": [{"type": "function"}]}, odd_values) | odd_values
            ),
        }
        fields["prompt" if completion else "messages"] = draw(
            st.sampled_from([QUESTION, "prompt"]) | odd_values
        )
        return kind, cls.model_construct(**fields)
    if kind in ("chunk", "end"):
        completion = draw(st.booleans())
        cls = {
            ("chunk", False): LLMChatInProgressEvent,
            ("chunk", True): LLMCompletionInProgressEvent,
            ("end", False): LLMChatEndEvent,
            ("end", True): LLMCompletionEndEvent,
        }[(kind, completion)]
        return kind, cls.model_construct(span_id=span_id, response=draw(responses))
    which = draw(st.sampled_from(["embed_start", "embed_end", "exception"]))
    if which == "embed_start":
        return kind, EmbeddingStartEvent.model_construct(span_id=span_id, model_dict=model)
    if which == "embed_end":
        return kind, EmbeddingEndEvent.model_construct(
            span_id=span_id, chunks=draw(odd_values), embeddings=draw(odd_values)
        )
    error = draw(st.sampled_from([ValueError("x"), GeneratorExit()]) | odd_values)
    return kind, ExceptionEvent.model_construct(span_id=span_id, exception=error)


@st.composite
def step_sequences(draw: st.DrawFn) -> tuple[int, list[str], list[tuple[str, Any]]]:
    suffixes = draw(st.lists(st.uuids(), min_size=4, max_size=4, unique=True))
    span_ids = [
        f"{draw(st.sampled_from(CLASSES))}.{draw(st.sampled_from(METHODS))}-{suffix}"
        for suffix in suffixes
    ]
    limit = draw(st.integers(1, 6))
    return limit, span_ids, draw(st.lists(steps(span_ids), max_size=25))


class _Tracked(Generation):
    """llmtap's Generation, remembered as it is made, to check each is finished."""

    made: list[Generation] = []

    def __init__(self, record: Any) -> None:
        super().__init__(record)
        _Tracked.made.append(self)


def _stream() -> Iterator[Any]:
    yield ChatResponse(message=ChatMessage(role="assistant", content="x"))


@FUZZ
@given(sequence=step_sequences())
def test_spans_and_events_in_any_order_never_raise_and_every_record_is_finished(
    exporter: MemoryExporter,
    monkeypatch: pytest.MonkeyPatch,
    sequence: tuple[int, list[str], list[tuple[str, Any]]],
) -> None:
    limit, span_ids, calls = sequence
    _fresh(exporter)
    monkeypatch.setattr(llmtap_llamaindex.calls, "Generation", _Tracked)
    monkeypatch.setattr(llmtap_llamaindex.steps, "Generation", _Tracked)
    _Tracked.made = []
    tracker = Tracker(limit, provider_taps=False)
    spans, events = LlmtapSpanHandler(tracker), LlmtapEventHandler(tracker)
    instances = {
        "llm": OpenAI(model="gpt-4o-mini", api_key="sk-test"),
        "none": None,
        "odd": object(),
    }
    streams = []
    for kind, step in calls:
        if kind == "enter":
            span_id, instance, parent, arguments = step
            result = spans.new_span(
                span_id, _bound(**arguments), instance=instances[instance], parent_span_id=parent
            )
        elif kind == "exit":
            span_id, shape, value = step
            if shape == "stream":
                value = _stream()
                streams.append(value)
            result = spans.prepare_to_exit_span(span_id, _bound(), result=value)
        elif kind == "drop":
            span_id, error = step
            result = spans.prepare_to_drop_span(span_id, _bound(), err=error)
        else:
            result = events.handle(step)
        assert result is None
        assert len(tracker.spans) <= limit
        assert len(tracker.calls) <= limit

    # Streams read to their end or dropped, then every span dropped: nothing stays.
    for stream in streams[::2]:
        list(stream)
    streams.clear()
    gc.collect()
    for span_id in span_ids:
        assert spans.prepare_to_drop_span(span_id, _bound(), err=None) is None
    assert (len(tracker.spans), len(tracker.calls)) == (0, 0)
    spans.close()

    unfinished = [g.record.name for g in _Tracked.made if not g.finished]
    assert unfinished == []
    records = _records(exporter)
    event(f"faults: {sorted(llmtap.stats()['faults'])}")
    assert len(records) == len(_Tracked.made)
