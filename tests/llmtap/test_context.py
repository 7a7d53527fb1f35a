"""`llmtap.context()` and `llmtap.bind_context()`: attributes and parents that follow the code."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.record import Record


def log(name: str = "call") -> Record:
    return llmtap.log_generation(model="m", provider="test", name=name)


def by_name(memory: MemoryExporter) -> dict[str, Record]:
    llmtap.flush()
    return {r.name: r for r in memory.records}


def test_context_attributes_land_on_records_made_inside(memory: MemoryExporter) -> None:
    with llmtap.context(
        thread_id="conv-42", user_id="alice", tags=["beta"], metadata={"tenant": "acme"}
    ):
        log()
    llmtap.flush()

    [record] = memory.records
    assert record.thread_id == "conv-42"
    assert record.user_id == "alice"
    assert record.tags == ["beta"]
    assert record.metadata == {"tenant": "acme"}


def test_records_made_after_the_context_carry_none_of_it(memory: MemoryExporter) -> None:
    with llmtap.context(thread_id="conv-42", user_id="alice", tags=["beta"], metadata={"k": 1}):
        pass
    log()
    llmtap.flush()

    [record] = memory.records
    assert (record.thread_id, record.user_id, record.tags, record.metadata) == (None, None, [], {})


def test_nested_contexts_merge_tags_and_metadata_and_inner_ids_win(
    memory: MemoryExporter,
) -> None:
    with llmtap.context(thread_id="t1", user_id="alice", tags=["a"], metadata={"k": 1, "x": 1}):
        with llmtap.context(thread_id="t2", tags=["b", "a"], metadata={"x": 2}):
            log("inner")
        log("outer")
    records = by_name(memory)

    inner, outer = records["inner"], records["outer"]
    assert (inner.thread_id, inner.user_id) == ("t2", "alice")
    assert inner.tags == ["a", "b"]
    assert inner.metadata == {"k": 1, "x": 2}
    assert (outer.thread_id, outer.tags, outer.metadata) == ("t1", ["a"], {"k": 1, "x": 1})


def test_ids_are_stored_as_strings(memory: MemoryExporter) -> None:
    with llmtap.context(thread_id=42, user_id=7):  # type: ignore[arg-type]
        log()
    llmtap.flush()

    [record] = memory.records
    assert (record.thread_id, record.user_id) == ("42", "7")


def test_tags_must_be_a_list_not_one_string(memory: MemoryExporter) -> None:
    message = r"tags=\.\.\.\) takes a list of strings, not one string"
    with pytest.raises(TypeError, match=message), llmtap.context(tags="beta"):
        pass


def test_records_made_inside_a_context_do_not_share_its_metadata(memory: MemoryExporter) -> None:
    with llmtap.context(metadata={"k": 1}):
        first = log("first")
        first.metadata["added"] = True
        second = log("second")

    assert second.metadata == {"k": 1}


def test_context_applies_inside_a_span(memory: MemoryExporter) -> None:
    with llmtap.context(user_id="alice", tags=["beta"]), llmtap.span("work"):
        log()
    records = by_name(memory)

    assert records["work"].user_id == "alice"
    assert records["call"].user_id == "alice"
    assert records["call"].tags == ["beta"]


async def test_parents_follow_asyncio_tasks(memory: MemoryExporter) -> None:
    async def call(i: int) -> None:
        await asyncio.sleep(0.001 * (3 - i))
        log(f"call-{i}")

    with llmtap.span("fan-out") as span:
        await asyncio.gather(*(call(i) for i in range(3)))
    records = by_name(memory)

    for i in range(3):
        assert records[f"call-{i}"].parent_id == span.id
        assert records[f"call-{i}"].trace_id == span.trace_id


async def test_concurrent_tasks_keep_their_own_spans(memory: MemoryExporter) -> None:
    async def task(name: str) -> None:
        async with llmtap.span(name):
            await asyncio.sleep(0.001)
            log(f"{name}-call")

    await asyncio.gather(task("a"), task("b"))
    records = by_name(memory)

    assert records["a-call"].parent_id == records["a"].id
    assert records["b-call"].parent_id == records["b"].id
    assert records["a"].trace_id != records["b"].trace_id


async def test_context_follows_asyncio_tasks(memory: MemoryExporter) -> None:
    async def call() -> None:
        await asyncio.sleep(0)
        log()

    with llmtap.context(thread_id="conv-1"):
        task = asyncio.create_task(call())
    await task
    llmtap.flush()

    [record] = memory.records
    assert record.thread_id == "conv-1"


def test_bind_context_carries_the_span_into_a_thread_pool(memory: MemoryExporter) -> None:
    with (
        llmtap.context(thread_id="conv-1"),
        llmtap.span("parallel") as span,
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        list(pool.map(llmtap.bind_context(log), ["w-0", "w-1"]))
    records = by_name(memory)

    for name in ("w-0", "w-1"):
        assert records[name].parent_id == span.id
        assert records[name].trace_id == span.trace_id
        assert records[name].thread_id == "conv-1"


def test_without_bind_context_a_thread_starts_a_new_trace(memory: MemoryExporter) -> None:
    with llmtap.span("parallel") as span:
        worker = threading.Thread(target=log, args=("in-thread",))
        worker.start()
        worker.join()
    records = by_name(memory)

    assert records["in-thread"].parent_id is None
    assert records["in-thread"].trace_id != span.trace_id


def test_bind_context_captures_the_context_at_bind_time(memory: MemoryExporter) -> None:
    with llmtap.span("first") as first:
        bound = llmtap.bind_context(log)
    with llmtap.span("second"):
        bound("bound-call")
    records = by_name(memory)

    assert records["bound-call"].parent_id == first.id


def test_bind_context_restores_the_threads_own_context_afterwards(
    memory: MemoryExporter,
) -> None:
    with llmtap.span("outer"):
        bound = llmtap.bind_context(lambda: None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(bound).result()
        pool.submit(log, "after").result()
    records = by_name(memory)

    assert records["after"].parent_id is None


def test_leaving_a_context_in_another_contextvars_context_never_raises(
    memory: MemoryExporter,
) -> None:
    scope = llmtap.context(tags=["x"])
    contextvars.copy_context().run(scope.__enter__)

    scope.__exit__(None, None, None)
    log()
    llmtap.flush()

    [record] = memory.records
    assert record.tags == []


def test_ending_a_span_in_another_contextvars_context_never_raises(
    memory: MemoryExporter,
) -> None:
    span = llmtap.span("moved")
    contextvars.copy_context().run(span.__enter__)

    span.__exit__(None, None, None)
    log("after")
    records = by_name(memory)

    assert records["moved"].status == "ok"
    assert records["after"].parent_id is None


async def test_a_span_entered_in_one_task_and_left_in_another_never_raises(
    memory: MemoryExporter,
) -> None:
    span = llmtap.span("across-tasks")
    await asyncio.create_task(span.__aenter__())
    await asyncio.create_task(span.__aexit__(None, None, None))
    records = by_name(memory)

    assert records["across-tasks"].status == "ok"
