"""`instrument()` attaches one handler to every LangChain run in the process, through
langchain-core's configure hook; it is idempotent, `uninstrument()` turns it off, and a
run that also has an llmtap handler in its callbacks is recorded once."""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import Any

from langchain_core.runnables import RunnableLambda
from langchain_openai import ChatOpenAI
from langchain_truth import generations

import llmtap
import llmtap_langchain
from support.cassettes import RECORDER, SHARED_CASSETTES

SIMPLE = SHARED_CASSETTES / "openai" / "chat_nonstream_gpt4o_mini.yaml"


def _llm(**options: Any) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0, **options)


def _replay() -> Any:
    return RECORDER.use_cassette(str(SIMPLE), record_mode="none", allow_playback_repeats=True)


def test_instrument_records_runs_given_no_callbacks(records: Any) -> None:
    llmtap.instrument_langchain()
    llmtap.instrument_langchain()  # idempotent: still one handler per run
    assert llmtap_langchain.is_instrumented()
    with _replay():
        _llm().invoke("hi")
    (record,) = records()
    assert (record["kind"], record["name"], record["response_model"]) == (
        "generation",
        "ChatOpenAI",
        "gpt-4o-mini-2024-07-18",
    )


def test_uninstrument_stops_recording_and_instrument_resumes(records: Any) -> None:
    llmtap.instrument_langchain()
    llmtap.uninstrument_langchain()
    llmtap.uninstrument_langchain()
    assert not llmtap_langchain.is_instrumented()
    with _replay():
        _llm().invoke("hi")
        assert records() == []
        llmtap.instrument_langchain()
        _llm().invoke("hi")
    assert len(records()) == 1


def test_a_thread_started_before_instrument_is_recorded(records: Any) -> None:
    ready = threading.Event()
    go = threading.Event()

    def worker() -> None:
        ready.set()
        go.wait(5)
        _llm().invoke("hi")

    with _replay():
        thread = threading.Thread(target=worker)
        thread.start()
        ready.wait(5)
        llmtap.instrument_langchain()
        go.set()
        thread.join(10)
    assert len(records()) == 1


def test_an_explicit_handler_with_instrument_records_each_run_once(
    layers: str, handler: Any, records: Any
) -> None:
    llmtap.instrument_langchain()
    chain = RunnableLambda(lambda question: question) | _llm()
    with _replay():
        chain.invoke("hi", config={"callbacks": [handler], "run_name": "once"})
    all_records = records()
    assert [r["name"] for r in all_records if r["integration"] == "llmtap-langchain"] == [
        "once",
        "RunnableLambda",
        "ChatOpenAI",
    ]
    assert len(generations(all_records)) == 1


def test_a_model_with_its_own_handler_nests_under_the_global_handlers_chain(
    records: Any,
) -> None:
    # Constructor callbacks are local to the model: its run and the chain's run are seen
    # by different llmtap handlers, and the model still nests under the chain.
    llmtap.instrument_langchain()
    local = llmtap.langchain_callback()
    chain = RunnableLambda(lambda question: question).with_config(run_name="outer") | _llm(
        callbacks=[local]
    )
    with _replay():
        chain.invoke("hi", config={"run_name": "pipeline"})
    pipeline, lambda_run, step = records()
    assert pipeline["name"] == "pipeline"
    assert lambda_run["parent_id"] == pipeline["id"]
    assert step["parent_id"] == pipeline["id"]
    assert local.open_runs == 0


def test_max_open_runs_option() -> None:
    llmtap.instrument_langchain(max_open_runs=7)
    assert llmtap_langchain._global_handler is not None
    assert llmtap_langchain._global_handler.max_open_runs == 7
    assert llmtap.langchain_callback(max_open_runs=2).max_open_runs == 2


def test_the_integration_is_registered_for_llmtap_instrument() -> None:
    (entry,) = [e for e in entry_points(group="llmtap.integrations") if e.name == "langchain"]
    assert entry.load() is llmtap_langchain
