"""One record per call across layers: a provider-layer generation started inside a
framework's open LLM step becomes its child and carries the usage."""

from __future__ import annotations

import asyncio
import threading

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.generation import Generation, new_child_record, new_record, start_generation
from llmtap.handoff import LLM_STEP_KIND, open_framework_call


def provider_call(model: str = "gpt-4o") -> Generation:
    return start_generation(
        operation="chat", provider="openai", integration="llmtap-openai", request_model=model
    )


def framework_step(name: str = "ChatOpenAI") -> Generation:
    record = new_record(name, "generation")
    record.tags = ["lc"]
    record.metadata = {"run": "a"}
    return Generation(record)


def test_a_provider_call_inside_an_open_step_becomes_its_child(memory: MemoryExporter) -> None:
    step = framework_step()
    call = open_framework_call(step)
    provider = provider_call()
    provider.record.metadata["own"] = 1
    provider.finish()
    assert call.close() is True
    step.finish()
    llmtap.flush()

    by_kind = {r.kind: r for r in memory.records}
    assert set(by_kind) == {"generation", LLM_STEP_KIND}
    child, parent = by_kind["generation"], by_kind[LLM_STEP_KIND]
    assert child.integration == "llmtap-openai"
    assert (child.parent_id, child.trace_id) == (parent.id, parent.trace_id)
    assert child.tags == ["lc"]
    assert child.metadata == {"run": "a", "own": 1}


def test_a_step_no_provider_layer_claimed_stays_the_generation(memory: MemoryExporter) -> None:
    step = framework_step()
    call = open_framework_call(step)
    assert call.close() is False
    step.finish()
    llmtap.flush()
    assert [r.kind for r in memory.records] == ["generation"]


def test_a_closed_step_left_in_the_context_adopts_nothing(memory: MemoryExporter) -> None:
    step = framework_step()
    open_framework_call(step).close()
    later = provider_call()
    assert later.record.parent_id is None
    assert later.record.trace_id != step.record.trace_id


def test_closing_a_nested_step_hands_the_context_back_to_the_outer_one(
    memory: MemoryExporter,
) -> None:
    outer_step = framework_step("outer")
    outer = open_framework_call(outer_step)
    inner_step = framework_step("inner")
    inner = open_framework_call(inner_step)
    assert provider_call().record.parent_id == inner_step.record.id
    assert inner.close() is True
    assert provider_call().record.parent_id == outer_step.record.id
    assert outer.close() is True
    assert provider_call().record.parent_id is None


def test_the_open_step_does_not_leak_into_other_threads_or_tasks(memory: MemoryExporter) -> None:
    step = framework_step()
    call = open_framework_call(step)
    seen: list[str | None] = []
    worker = threading.Thread(target=lambda: seen.append(provider_call().record.parent_id))
    worker.start()
    worker.join()

    async def in_a_task_started_elsewhere() -> str | None:
        return provider_call().record.parent_id

    assert seen == [None]
    assert call.close() is False
    # A task copies the context it was created in: it sees the step only while it is open.
    assert asyncio.run(in_a_task_started_elsewhere()) is None


def test_each_async_task_has_its_own_open_step(memory: MemoryExporter) -> None:
    async def one_call(n: int) -> tuple[str, str | None]:
        step = framework_step(f"step{n}")
        call = open_framework_call(step)
        await asyncio.sleep(0)
        provider = provider_call()
        call.close()
        return step.record.id, provider.record.parent_id

    async def many() -> list[tuple[str, str | None]]:
        return await asyncio.gather(*(one_call(n) for n in range(50)))

    pairs = asyncio.run(many())
    assert all(step_id == parent_id for step_id, parent_id in pairs)


def test_new_child_record_follows_the_framework_tree_not_the_context() -> None:
    with llmtap.span("outer") as outer:
        parent = new_record("chain", "chain")
        child = new_child_record("tool", "tool", parent)
        root = new_child_record("root", "chain", None)
    assert (child.parent_id, child.trace_id) == (parent.id, parent.trace_id)
    assert parent.parent_id == outer.id
    assert root.parent_id == outer.id


def test_use_times_takes_the_library_s_own_clock(memory: MemoryExporter) -> None:
    generation = Generation(new_record("litellm", "generation"))
    generation.use_times(1_700_000_000.0, 1_700_000_002.5)
    generation.finish()
    llmtap.flush()
    [record] = memory.records
    assert (record.start_time, record.duration_s, record.end_time) == (
        1_700_000_000.0,
        2.5,
        1_700_000_002.5,
    )
