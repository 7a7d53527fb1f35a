"""One handler under concurrent runs (asyncio tasks and threads), and the bound on the
runs it tracks: records are parented by run id whatever context a callback runs in,
and a run whose end never comes is evicted and finished, not kept forever."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_openai import ChatOpenAI
from langchain_truth import by_id, calls_of, generations

import llmtap
from support.cassettes import RECORDER, SHARED_CASSETTES

SIMPLE = SHARED_CASSETTES / "openai" / "chat_nonstream_gpt4o_mini.yaml"
STREAM = SHARED_CASSETTES / "openai" / "chat_stream_include_usage_gpt4.yaml"
JOBS = 16


def _replay_repeatedly(path: Any) -> Any:
    """The cassette's response, served to every request (concurrent runs make many)."""
    return RECORDER.use_cassette(str(path), record_mode="none", allow_playback_repeats=True)


def _job(i: int) -> Any:
    llm = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0)
    return (RunnableLambda(lambda question: f"{question} #{i}") | llm).with_config(
        run_name=f"job-{i}"
    )


def _config(handler: Any, i: int) -> RunnableConfig:
    return {"callbacks": [handler], "metadata": {"job": i}}


def _root(record: dict[str, Any], ids: dict[str, dict[str, Any]]) -> dict[str, Any]:
    while record["parent_id"] is not None:
        record = ids[record["parent_id"]]
    return record


def _assert_each_job_is_its_own_tree(all_records: list[dict[str, Any]]) -> None:
    (truth,) = calls_of(SIMPLE)
    ids = by_id(all_records)
    gens = generations(all_records)
    assert len(gens) == JOBS
    assert sorted(g["metadata"]["job"] for g in gens) == list(range(JOBS))
    for generation in gens:
        root = _root(generation, ids)
        assert root["name"] == f"job-{generation['metadata']['job']}"
        assert generation["trace_id"] == root["trace_id"]
        assert generation["usage"]["input_tokens"] == truth["input_tokens"]
    # Each job is a chain, its lambda, the model step (and the provider call under it).
    roots = [r for r in all_records if r["parent_id"] is None]
    assert len(roots) == JOBS
    assert len({r["trace_id"] for r in roots}) == JOBS
    per_trace = len(all_records) // JOBS
    assert per_trace in (3, 4)
    assert len(all_records) == JOBS * per_trace


def test_concurrent_ainvoke_on_one_handler(layers: str, handler: Any, records: Any) -> None:
    async def main() -> None:
        await asyncio.gather(
            *(_job(i).ainvoke("hi", config=_config(handler, i)) for i in range(JOBS))
        )

    with _replay_repeatedly(SIMPLE):
        asyncio.run(main())
    _assert_each_job_is_its_own_tree(records())
    assert handler.open_runs == 0


def test_batch_across_threads_on_one_handler(layers: str, handler: Any, records: Any) -> None:
    chains = [_job(i) for i in range(JOBS)]
    runner = RunnableLambda(lambda i: chains[i].invoke("hi", config=_config(handler, i)))
    with _replay_repeatedly(SIMPLE):
        runner.batch(list(range(JOBS)), config={"max_concurrency": 8})
    _assert_each_job_is_its_own_tree(records())
    assert handler.open_runs == 0


def test_runs_that_never_end_are_evicted_as_incomplete(records: Any) -> None:
    handler = llmtap.langchain_callback(max_open_runs=3)
    evicted_before = llmtap.stats()["evicted_runs"]
    llm = ChatOpenAI(model="gpt-4", api_key="sk-test", max_retries=0)
    with _replay_repeatedly(STREAM):
        streams = [
            llm.stream("hi", config={"callbacks": [handler], "run_name": f"stream-{i}"})
            for i in range(5)
        ]
        for stream in streams:
            next(stream)  # started, then left open
        assert handler.open_runs == 3
        assert llmtap.stats()["evicted_runs"] - evicted_before == 2
        evicted = records()
        assert [(r["name"], r["status"]) for r in evicted] == [
            ("stream-0", "incomplete"),
            ("stream-1", "incomplete"),
        ]
        assert all(r["error"] is None for r in evicted)
        for stream in streams:
            stream.close()
    assert handler.open_runs == 0
    finished = records()
    assert len(finished) == 5  # the evicted runs' late ends are ignored, not recorded twice
    assert [r["name"] for r in finished[2:]] == ["stream-2", "stream-3", "stream-4"]
    assert {r["status"] for r in finished} == {"incomplete"}
