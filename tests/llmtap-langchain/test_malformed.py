"""Property tests: malformed provider replies and unexpected callback values never make
llmtap raise, change what the caller sees, or leave a run open.

Two layers are fuzzed. Real chat models (ChatOpenAI, ChatAnthropic) run on a mock
transport serving broken JSON bodies and SSE streams, with and without llmtap, and the
caller must see the same result or the same error. The handler's callbacks are also
called directly, in any order, with odd values (LangChain swallows callback errors, so
only calling the handler shows that llmtap itself never raises).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from langchain_anthropic import ChatAnthropic
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, Generation, LLMResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.faults import reset_faults
from llmtap_langchain import state
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

if int(openai.__version__.split(".")[0]) >= 3:
    import httpx2 as openai_http
else:
    import httpx as openai_http  # type: ignore[no-redef]
if int(anthropic.__version__.split(".")[0]) >= 1:
    import httpx2 as anthropic_http
else:
    import httpx as anthropic_http  # type: ignore[no-redef]

# Derandomized: CI runs the same examples every time, in well under a minute.
FUZZ = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROMPT = [SystemMessage("Be brief."), HumanMessage("Say hi")]
MODES = ("invoke", "stream", "ainvoke", "astream")
# Differ between two identical calls: LangChain's run-based message ids.
PER_CALL_KEYS = frozenset({"id"})


@pytest.fixture
def exporter() -> Iterator[MemoryExporter]:
    """llmtap exporting to memory for the whole property run (cleared per example)."""
    memory = MemoryExporter()
    llmtap.configure(exporters=[memory])
    yield memory
    llmtap.flush()
    llmtap.configure(exporters=[MemoryExporter()])


def _fresh(exporter: MemoryExporter) -> None:
    """Start an example with no records and no faults counted."""
    assert llmtap.flush(timeout=10)
    exporter.clear()
    reset_faults()


def _langchain_records(exporter: MemoryExporter) -> list[dict[str, Any]]:
    assert llmtap.flush(timeout=10)
    return [r.to_dict() for r in exporter.records if r.integration == "llmtap-langchain"]


# -- real chat models on broken replies -------------------------------------------------


def _openai_model(reply: Reply, streaming: bool) -> ChatOpenAI:
    handle = responder(openai_http, reply)
    transport = openai_http.MockTransport(handle)
    return ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",  # type: ignore[arg-type]
        base_url="http://fuzz.invalid/v1",
        max_retries=0,
        stream_usage=True,
        streaming=streaming,
        http_client=openai_http.Client(transport=transport),
        http_async_client=openai_http.AsyncClient(transport=transport),
    )


def _anthropic_model(reply: Reply, streaming: bool) -> ChatAnthropic:
    model = ChatAnthropic(  # type: ignore[call-arg]
        model="claude-sonnet-4-5",
        api_key="sk-ant-test",  # type: ignore[arg-type]
        max_retries=0,
        streaming=streaming,
    )
    transport = anthropic_http.MockTransport(responder(anthropic_http, reply))
    common = {"api_key": "sk-ant-test", "base_url": "http://fuzz.invalid", "max_retries": 0}
    # ChatAnthropic builds its SDK clients lazily and takes no http_client: the real
    # clients it would build, on the mock transport, are put where it caches them.
    model.__dict__["_client"] = anthropic.Anthropic(
        **common, http_client=anthropic_http.Client(transport=transport)
    )
    model.__dict__["_async_client"] = anthropic.AsyncAnthropic(
        **common, http_client=anthropic_http.AsyncClient(transport=transport)
    )
    return model


@st.composite
def chat_scenarios(draw: st.DrawFn) -> tuple[str, str, Reply]:
    provider = draw(st.sampled_from(["openai", "anthropic"]))
    mode = draw(st.sampled_from(MODES))
    streamed = mode.endswith("stream") or draw(st.booleans())
    if provider == "openai":
        reply = draw(openai_stream_reply if streamed else openai_completion_reply)
    else:
        reply = draw(anthropic_stream_reply if streamed else anthropic_message_reply)
    return provider, mode if streamed == mode.endswith("stream") else mode + "+streaming", reply


def _run_chat(provider: str, mode: str, reply: Reply, callbacks: list[Any]) -> Any:
    streaming = mode.endswith("+streaming")
    mode = mode.removesuffix("+streaming")
    model: Any = (_openai_model if provider == "openai" else _anthropic_model)(reply, streaming)
    config: Any = {"callbacks": callbacks}
    if mode == "invoke":
        return model.invoke(PROMPT, config=config)
    if mode == "stream":
        return list(model.stream(PROMPT, config=config))

    async def run() -> Any:
        if mode == "ainvoke":
            return await model.ainvoke(PROMPT, config=config)
        return [chunk async for chunk in model.astream(PROMPT, config=config)]

    return asyncio.run(run())


def _normalise(result: Any) -> Any:
    messages = result if isinstance(result, list) else [result]
    return without_keys([m.model_dump() for m in messages], PER_CALL_KEYS)


class Witness(BaseCallbackHandler):
    """Notes which callbacks LangChain delivered: some of its failures (a usage that
    is not a mapping, in `_combine_llm_outputs`) raise after the model's start and
    before any end, so no handler ever hears that the run ended."""

    run_inline = True

    def __init__(self) -> None:
        self.ends: dict[uuid.UUID, str] = {}
        self.started: list[uuid.UUID] = []

    def on_chat_model_start(self, *args: Any, run_id: uuid.UUID, **kwargs: Any) -> None:
        self.started.append(run_id)

    def on_llm_end(self, *args: Any, run_id: uuid.UUID, **kwargs: Any) -> None:
        self.ends.setdefault(run_id, "ok")

    def on_llm_error(self, *args: Any, run_id: uuid.UUID, **kwargs: Any) -> None:
        self.ends.setdefault(run_id, "error")


@FUZZ
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@given(scenario=chat_scenarios(), provider_layer=st.booleans())
def test_a_chat_model_on_a_broken_reply_behaves_as_without_llmtap(
    exporter: MemoryExporter, scenario: tuple[str, str, Reply], provider_layer: bool
) -> None:
    provider, mode, reply = scenario
    bare = outcome_of(lambda: _run_chat(provider, mode, reply, []), _normalise)

    _fresh(exporter)
    handler = llmtap.langchain_callback()
    witness = Witness()
    if provider_layer:
        llmtap.instrument_openai()
        llmtap.instrument_anthropic()
    try:
        traced = outcome_of(
            lambda: _run_chat(provider, mode, reply, [handler, witness]), _normalise
        )
    finally:
        if provider_layer:
            llmtap.uninstrument_openai()
            llmtap.uninstrument_anthropic()

    event(f"{provider} {mode}: " + (bare.error[0] if bare.error else "ok"))
    assert traced == bare
    (run_id,) = witness.started
    # Open exactly while LangChain has not ended the run; then ended by its callback.
    assert handler.open_runs == (0 if run_id in witness.ends else 1)
    assert handler.on_llm_error(RuntimeError("never ended"), run_id=run_id) is None
    assert handler.open_runs == 0
    assert state.find(run_id) is None
    (record,) = _langchain_records(exporter)
    event(f"faults: {sorted(llmtap.stats()['faults'])}")
    assert record["status"] == witness.ends.get(run_id, "error")
    if bare.error is None:
        assert witness.ends[run_id] == "ok"


# -- the handler's callbacks, called directly with odd values ------------------------------

usage_metadata = mutated(
    {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 2, "cache_creation": 1},
        "output_token_details": {"reasoning": 1},
    },
    odd_values,
)
response_metadata = mutated(
    {"model_name": "gpt-4o-mini", "finish_reason": "stop", "id": "chatcmpl-1"}, odd_values
)


@st.composite
def odd_messages(draw: st.DrawFn) -> Any:
    """A real AIMessage whose fields hold what a buggy integration might put there
    (built with `model_construct`, as LangChain itself does for chunks)."""
    fields = {
        "content": draw(st.text(max_size=8) | st.lists(odd_values, max_size=3) | odd_values),
        "usage_metadata": draw(usage_metadata | odd_values),
        "response_metadata": draw(response_metadata | odd_values),
        "additional_kwargs": draw(st.dictionaries(st.text(max_size=6), odd_values, max_size=3)),
        "tool_calls": draw(st.lists(mutated({"id": "c1", "name": "f", "args": {}}), max_size=2)),
        "invalid_tool_calls": draw(st.lists(odd_values, max_size=2)),
        "id": draw(odd_values),
        "type": draw(st.sampled_from(["ai", "AIMessageChunk", "tool", "human", ""])),
    }
    return AIMessage.model_construct(**fields)


@st.composite
def odd_generation(draw: st.DrawFn) -> Any:
    info = draw(mutated({"finish_reason": "stop"}, odd_values) | st.none())
    if draw(st.booleans()):
        return ChatGeneration.model_construct(
            message=draw(odd_messages()), generation_info=info, text=""
        )
    if draw(st.booleans()):
        return Generation.model_construct(text=draw(odd_values), generation_info=info)
    return draw(odd_values)


llm_outputs = (
    mutated(
        {
            "token_usage": {"prompt_tokens": 3, "completion_tokens": 2},
            "usage": {"input_tokens": 3, "output_tokens": 2, "cache_read_input_tokens": 1},
            "model_name": "gpt-4o-mini",
            "id": "resp-1",
        },
        odd_values,
    )
    | odd_values
)
llm_results = (
    st.builds(
        lambda generations, output: LLMResult.model_construct(
            generations=generations, llm_output=output
        ),
        st.lists(st.lists(odd_generation(), max_size=3), max_size=2) | odd_values,
        llm_outputs,
    )
    | odd_values
)


def _start_chat(handler: Any, run_id: uuid.UUID) -> None:
    handler.on_chat_model_start(
        {"name": "ChatOpenAI"},
        [PROMPT],
        run_id=run_id,
        invocation_params={"model": "gpt-4o-mini", "temperature": 0.2},
        metadata={"ls_provider": "openai"},
    )


@FUZZ
@given(result=llm_results)
def test_any_llm_result_ends_the_run_and_records_it(exporter: MemoryExporter, result: Any) -> None:
    _fresh(exporter)
    handler = llmtap.langchain_callback()
    run_id = uuid.uuid4()
    _start_chat(handler, run_id)
    assert handler.open_runs == 1

    assert handler.on_llm_end(result, run_id=run_id) is None

    assert handler.open_runs == 0
    assert state.find(run_id) is None
    (record,) = _langchain_records(exporter)
    event(f"faults: {sorted(llmtap.stats()['faults'])}")
    assert (record["status"], record["request_model"], record["provider"]) == (
        "ok",
        "gpt-4o-mini",
        "openai",
    )
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "Say hi"}]}]


# One callback: (method, whether it starts, ends or happens during a run).
STARTS = ("chain", "chat_model", "llm", "tool", "retriever")
ENDS = ("chain_end", "chain_error", "llm_end", "llm_error", "tool_end", "tool_error")
ENDS += ("retriever_end", "retriever_error")
DURING = ("llm_new_token", "agent_action", "retry", "custom_event")
ERRORS = st.sampled_from(
    [ValueError("boom"), GeneratorExit(), asyncio.CancelledError(), KeyboardInterrupt(), None]
)


@st.composite
def callbacks(draw: st.DrawFn, ids: list[uuid.UUID]) -> tuple[str, dict[str, Any]]:
    """One callback with odd arguments, on a run id from a small pool (so ends meet
    starts, ends repeat, and parents are runs that never started)."""
    kind = draw(st.sampled_from(("start",) * 3 + ("end",) * 2 + ("during",)))
    run_id = draw(st.sampled_from(ids))
    parent = draw(st.sampled_from([*ids, None]) | st.uuids())
    odd = odd_values
    if kind == "start":
        name = draw(st.sampled_from(STARTS))
        first: Any = {
            "chain": draw(st.dictionaries(st.text(max_size=5), odd, max_size=2) | odd),
            "chat_model": draw(st.lists(st.lists(odd_messages(), max_size=2), max_size=2) | odd),
            "llm": draw(st.lists(st.text(max_size=5), max_size=2) | odd),
            "tool": draw(odd),
            "retriever": draw(odd),
        }[name]
        kwargs = {
            "serialized": draw(mutated({"name": "X", "id": ["a", "B"]}, odd) | odd),
            "run_id": run_id,
            "parent_run_id": parent,
            "tags": draw(st.lists(st.text(max_size=8), max_size=3) | st.lists(odd, max_size=2)),
            "metadata": draw(
                mutated({"ls_provider": "openai", "thread_id": "t", "user_id": 3}, odd) | odd
            ),
            "invocation_params": draw(mutated({"model": "m", "stream": True}, odd) | odd),
            "name": draw(odd),
            "tool_call_id": draw(odd),
        }
        if name == "tool":
            kwargs["inputs"] = draw(odd)
        method = {"chat_model": "on_chat_model_start", "llm": "on_llm_start"}.get(
            name, f"on_{name}_start"
        )
        return method, {"_first": first, **kwargs}
    if kind == "end":
        name = draw(st.sampled_from(ENDS))
        if name.endswith("_error"):
            first = draw(ERRORS) or draw(odd)
        elif name == "llm_end":
            first = draw(llm_results)
        else:
            first = draw(odd)
        return f"on_{name}", {"_first": first, "run_id": run_id, "inputs": draw(odd)}
    name = draw(st.sampled_from(DURING))
    if name == "custom_event":
        return "on_custom_event", {"name": "x", "data": draw(odd), "run_id": run_id}
    if name == "retry":
        return "on_retry", {"_first": draw(odd), "run_id": run_id}
    first = draw(odd | st.lists(mutated({"type": "text", "text": "x"}, odd), max_size=2))
    return f"on_{name}", {"_first": first, "run_id": run_id, "chunk": draw(odd)}


@st.composite
def callback_sequences(draw: st.DrawFn) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    ids = draw(st.lists(st.uuids(), min_size=4, max_size=4, unique=True))
    limit = draw(st.integers(1, 5))
    return limit, draw(st.lists(callbacks(ids), max_size=25))


def _call(handler: Any, method: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    first = kwargs.pop("_first", None)
    hook: Callable[..., Any] = getattr(handler, method)
    if method == "on_custom_event":
        return hook(kwargs.pop("name"), kwargs.pop("data"), **kwargs)
    if method.endswith("_start"):
        return hook(kwargs.pop("serialized"), first, **kwargs)
    return hook(first, **kwargs)


@FUZZ
@given(sequence=callback_sequences())
def test_callbacks_in_any_order_never_raise_and_every_started_run_is_recorded_once(
    exporter: MemoryExporter, sequence: tuple[int, list[tuple[str, dict[str, Any]]]]
) -> None:
    limit, calls = sequence
    _fresh(exporter)
    handler = llmtap.langchain_callback(max_open_runs=limit)
    evicted_before = llmtap.stats()["evicted_runs"]
    created = 0  # runs the handler opened: each must give exactly one record
    run_ids = set()
    for method, kwargs in calls:
        before = handler.open_runs
        assert _call(handler, method, kwargs) is None
        after = handler.open_runs
        assert 0 <= after <= limit
        created += max(0, after - before)
        run_ids.add(kwargs["run_id"])
    created += llmtap.stats()["evicted_runs"] - evicted_before
    # Every run still open ends with an error: nothing is left behind.
    for run_id in run_ids:
        assert handler.on_chain_error(RuntimeError("cleanup"), run_id=run_id) is None
    assert handler.open_runs == 0
    assert all(state.find(run_id) is None for run_id in run_ids)
    records = _langchain_records(exporter)
    event(f"faults: {sorted(llmtap.stats()['faults'])}")
    assert len(records) == created
    assert len({r["id"] for r in records}) == len(records)
    assert all(r["end_time"] is not None and r["status"] for r in records)


# -- regressions found by the properties above -------------------------------------------


def test_a_run_with_tags_or_metadata_keys_that_are_not_strings_is_still_recorded(
    exporter: MemoryExporter,
) -> None:
    """LangChain passes a caller's tags and metadata on unchecked; a tag `1` used to
    make the start callback fault, and the run (and its place in the tree) was lost."""
    _fresh(exporter)
    handler = llmtap.langchain_callback()
    config: Any = {"callbacks": [handler], "tags": [1, "kept"], "metadata": {2: "x", "k": "v"}}

    assert RunnableLambda(lambda x: x + 1).invoke(1, config=config) == 2

    (record,) = _langchain_records(exporter)
    assert (record["status"], record["tags"], record["metadata"]) == ("ok", ["kept"], {"k": "v"})
    assert llmtap.stats()["faults"] == {}


class _CountingRetriever(BaseRetriever):
    """Returns a count, not documents: LangChain passes the result on unchecked."""

    def _get_relevant_documents(self, query: str, *, run_manager: Any) -> Any:
        return 5


def test_a_retriever_returning_no_documents_list_is_still_recorded(
    exporter: MemoryExporter,
) -> None:
    """Reading such a result used to fault after the run had left the open-run map,
    and its record was never finished: lost, though the call succeeded."""
    _fresh(exporter)
    handler = llmtap.langchain_callback()

    assert _CountingRetriever().invoke("q", config={"callbacks": [handler]}) == 5

    assert handler.open_runs == 0
    (record,) = _langchain_records(exporter)
    assert (record["kind"], record["status"], record["output"]) == ("retrieval", "ok", None)
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "q"}]}]
    assert llmtap.stats()["faults"] == {}
