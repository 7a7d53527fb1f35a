"""`llmtap.span()` and `@llmtap.step`: records of their own kind that parent everything inside."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Generator, Iterator

import pytest

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.record import Record


def log(name: str = "call") -> Record:
    return llmtap.log_generation(model="m", provider="test", name=name)


def by_name(memory: MemoryExporter) -> dict[str, Record]:
    llmtap.flush()
    return {r.name: r for r in memory.records}


def text(value: str, role: str) -> list[dict[str, object]]:
    return [{"role": role, "parts": [{"type": "text", "content": value}]}]


# -- with llmtap.span() ------------------------------------------------------------------


def test_a_span_is_a_record_of_its_kind_with_a_duration(memory: MemoryExporter) -> None:
    with llmtap.span("retrieve", kind="retrieval") as span:
        time.sleep(0.01)
    llmtap.flush()

    [record] = memory.records
    assert record.id == span.id
    assert record.trace_id == span.trace_id
    assert (record.name, record.kind, record.status) == ("retrieve", "retrieval", "ok")
    assert record.parent_id is None
    assert record.operation is None
    assert record.duration_s is not None
    assert record.end_time is not None
    assert record.duration_s >= 0.01
    assert record.end_time - record.start_time == pytest.approx(record.duration_s, abs=1e-6)


def test_the_default_kind_is_chain(memory: MemoryExporter) -> None:
    with llmtap.span("pipeline"):
        pass
    llmtap.flush()

    assert memory.records[0].kind == "chain"


def test_nested_spans_and_generations_link_parent_to_child(memory: MemoryExporter) -> None:
    with llmtap.span("agent", kind="agent"):
        with llmtap.span("retrieve", kind="retrieval"):
            pass
        with llmtap.span("answer"):
            log("generate")
    records = by_name(memory)

    agent = records["agent"]
    assert records["retrieve"].parent_id == agent.id
    assert records["answer"].parent_id == agent.id
    assert records["generate"].parent_id == records["answer"].id
    assert {r.trace_id for r in records.values()} == {agent.trace_id}
    assert [r.name for r in memory.records] == ["retrieve", "generate", "answer", "agent"]


def test_records_after_a_span_are_roots_of_new_traces(memory: MemoryExporter) -> None:
    with llmtap.span("first") as first:
        pass
    log("after")
    records = by_name(memory)

    assert records["after"].parent_id is None
    assert records["after"].trace_id != first.trace_id


def test_span_metadata_and_set_metadata_land_on_the_record(memory: MemoryExporter) -> None:
    with llmtap.span("retrieve", metadata={"index": "docs"}) as span:
        span.set_metadata(hits=3)
    llmtap.flush()

    assert memory.records[0].metadata == {"index": "docs", "hits": 3}


def test_span_metadata_is_not_inherited_by_children(memory: MemoryExporter) -> None:
    with llmtap.span("retrieve", metadata={"index": "docs"}):
        log()
    records = by_name(memory)

    assert records["call"].metadata == {}


def test_set_input_and_set_output_record_text(memory: MemoryExporter) -> None:
    with llmtap.span("tool", kind="tool") as span:
        span.set_input({"city": "Paris"})
        span.set_output("18C")
    llmtap.flush()

    [record] = memory.records
    assert record.input == text("{'city': 'Paris'}", "input")
    assert record.output == text("18C", "output")


async def test_async_with_span(memory: MemoryExporter) -> None:
    async with llmtap.span("async-block") as span:
        await asyncio.sleep(0)
        log()
    records = by_name(memory)

    assert records["call"].parent_id == span.id


def test_an_exception_marks_the_span_as_error_and_propagates_unchanged(
    memory: MemoryExporter,
) -> None:
    error = ValueError("no documents")
    with pytest.raises(ValueError, match="no documents") as raised, llmtap.span("retrieve"):
        raise error
    llmtap.flush()

    assert raised.value is error
    [record] = memory.records
    assert record.status == "error"
    assert record.error is not None
    assert record.error.to_dict() == {
        "type": "ValueError",
        "message": "no documents",
        "status_code": None,
    }


def test_an_error_keeps_an_integer_status_code(memory: MemoryExporter) -> None:
    class APIError(Exception):
        status_code = 429

    with pytest.raises(APIError), llmtap.span("call-api"):
        raise APIError("rate limited")
    llmtap.flush()

    assert memory.records[0].error is not None
    assert memory.records[0].error.to_dict() == {
        "type": "APIError",
        "message": "rate limited",
        "status_code": 429,
    }


# -- decorators ---------------------------------------------------------------------------


def test_span_as_a_decorator_makes_a_span_per_call(memory: MemoryExporter) -> None:
    @llmtap.span("handle", kind="agent")
    def handle(question: str) -> str:
        log(f"call-{question}")
        return question.upper()

    assert handle("a") == "A"
    assert handle("b") == "B"
    llmtap.flush()

    spans = [r for r in memory.records if r.name == "handle"]
    calls = {r.name: r for r in memory.records if r.name != "handle"}
    assert len(spans) == 2
    assert [s.kind for s in spans] == ["agent", "agent"]
    assert spans[0].id != spans[1].id
    assert spans[0].trace_id != spans[1].trace_id
    assert calls["call-a"].parent_id == spans[0].id
    assert calls["call-b"].parent_id == spans[1].id
    assert spans[0].input is None  # only @step records arguments


async def test_span_as_a_decorator_on_async_functions(memory: MemoryExporter) -> None:
    @llmtap.span("handle")
    async def handle(question: str) -> str:
        await asyncio.sleep(0.001)
        log(f"call-{question}")
        return question.upper()

    assert await asyncio.gather(handle("a"), handle("b")) == ["A", "B"]
    records = by_name(memory)

    spans = [r for r in memory.records if r.name == "handle"]
    assert len(spans) == 2
    assert {records["call-a"].parent_id, records["call-b"].parent_id} == {s.id for s in spans}
    assert records["call-a"].parent_id != records["call-b"].parent_id


def test_a_decorated_function_keeps_its_name_and_docstring() -> None:
    @llmtap.span("x")
    def documented() -> None:
        """Docs."""

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docs."


def test_an_exception_in_a_decorated_function_is_recorded_and_propagates(
    memory: MemoryExporter,
) -> None:
    error = KeyError("missing")

    @llmtap.span("lookup")
    def lookup() -> None:
        raise error

    with pytest.raises(KeyError) as raised:
        lookup()
    llmtap.flush()

    assert raised.value is error
    [record] = memory.records
    assert record.status == "error"
    assert record.error is not None
    assert (record.error.type, record.error.message) == ("KeyError", "'missing'")


async def test_an_exception_in_a_decorated_coroutine_is_recorded_and_propagates(
    memory: MemoryExporter,
) -> None:
    error = RuntimeError("boom")

    @llmtap.span("work")
    async def work() -> None:
        await asyncio.sleep(0)
        raise error

    with pytest.raises(RuntimeError) as raised:
        await work()
    llmtap.flush()

    assert raised.value is error
    assert memory.records[0].status == "error"


# -- @llmtap.step ---------------------------------------------------------------------------


def test_step_records_arguments_and_return_value(memory: MemoryExporter) -> None:
    @llmtap.step
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3) == 5
    llmtap.flush()

    [record] = memory.records
    assert record.kind == "step"
    assert record.name == "test_step_records_arguments_and_return_value.<locals>.add"
    assert record.input == text("(2, 3)", "input")
    assert record.output == text("5", "output")


def test_step_records_keyword_arguments(memory: MemoryExporter) -> None:
    @llmtap.step
    def add(a: int, b: int) -> int:
        return a + b

    add(2, b=3)
    llmtap.flush()

    assert memory.records[0].input == text("{'args': (2,), 'kwargs': {'b': 3}}", "input")


def test_step_records_strings_as_they_are(memory: MemoryExporter) -> None:
    @llmtap.step
    def shout(word: str) -> str:
        return word.upper()

    shout("hi")
    llmtap.flush()

    assert memory.records[0].output == text("HI", "output")


def test_step_takes_a_name_and_a_kind(memory: MemoryExporter) -> None:
    @llmtap.step(name="search", kind="tool")
    def search(query: str) -> list[str]:
        return ["doc-1"]

    search("q")
    llmtap.flush()

    [record] = memory.records
    assert (record.name, record.kind) == ("search", "tool")
    assert record.output == text("['doc-1']", "output")


async def test_step_on_a_coroutine_records_the_awaited_result(memory: MemoryExporter) -> None:
    @llmtap.step
    async def fetch(n: int) -> int:
        await asyncio.sleep(0)
        return n * 2

    assert await fetch(21) == 42
    llmtap.flush()

    assert memory.records[0].output == text("42", "output")


def test_step_truncates_long_values(memory: MemoryExporter) -> None:
    @llmtap.step
    def echo(value: str) -> str:
        return value

    echo("x" * 5000)
    llmtap.flush()

    assert memory.records[0].output == text("x" * 4000 + "…", "output")


def test_step_on_an_error_records_the_input_and_no_output(memory: MemoryExporter) -> None:
    @llmtap.step
    def fail(n: int) -> int:
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ZeroDivisionError):
        fail(1)
    llmtap.flush()

    [record] = memory.records
    assert record.input == text("(1,)", "input")
    assert record.output is None
    assert record.status == "error"


def test_an_argument_whose_repr_raises_never_breaks_the_call(memory: MemoryExporter) -> None:
    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    @llmtap.step
    def take(value: Unprintable) -> Unprintable:
        return value

    value = Unprintable()
    assert take(value) is value
    log("after")
    records = by_name(memory)

    step = records["test_an_argument_whose_repr_raises_never_breaks_the_call.<locals>.take"]
    assert step.status == "ok"
    assert step.input == text("<unrepresentable tuple>", "input")
    assert step.output == text("<unrepresentable Unprintable>", "output")
    assert records["after"].parent_id is None  # the step's scope was left
    assert llmtap.stats()["faults"]["span.describe"] == 2  # input and output


def test_step_on_a_generator_spans_its_iteration(memory: MemoryExporter) -> None:
    @llmtap.step
    def numbers(n: int) -> Iterator[int]:
        for i in range(n):
            llmtap.log_generation(model="inner", provider="test")
            yield i
        return None

    seen = []
    for value in numbers(2):
        llmtap.log_generation(model="caller", provider="test")
        seen.append(value)
    llmtap.flush()

    assert seen == [0, 1]
    step_record = next(r for r in memory.records if r.kind == "step")
    inner = [r for r in memory.records if r.request_model == "inner"]
    caller = [r for r in memory.records if r.request_model == "caller"]
    assert [r.parent_id for r in inner] == [step_record.id, step_record.id]
    assert [r.parent_id for r in caller] == [None, None]
    assert step_record.status == "ok"
    assert step_record.input == [{"role": "input", "parts": [{"type": "text", "content": "(2,)"}]}]


def test_generator_span_abandoned_early_is_incomplete(memory: MemoryExporter) -> None:
    @llmtap.span("producer")
    def produce() -> Iterator[int]:
        yield 1
        yield 2

    for _ in produce():
        break
    llmtap.flush()

    (record,) = memory.records
    assert (record.name, record.status) == ("producer", "incomplete")


def test_generator_span_forwards_send_and_records_errors(memory: MemoryExporter) -> None:
    @llmtap.span("echo")
    def echo() -> Generator[str, str, None]:
        received = yield "ready"
        raise ValueError(f"got {received}")

    generator = echo()
    assert next(generator) == "ready"
    with pytest.raises(ValueError, match="got ping"):
        generator.send("ping")
    llmtap.flush()

    (record,) = memory.records
    assert record.status == "error"
    assert record.error is not None
    assert record.error.message == "got ping"


async def test_step_on_an_async_generator(memory: MemoryExporter) -> None:
    @llmtap.step
    async def tokens() -> AsyncIterator[str]:
        llmtap.log_generation(model="inner", provider="test")
        yield "a"
        yield "b"

    assert [t async for t in tokens()] == ["a", "b"]
    llmtap.flush()

    step_record = next(r for r in memory.records if r.kind == "step")
    (inner,) = [r for r in memory.records if r.kind == "generation"]
    assert inner.parent_id == step_record.id
    assert step_record.output == [
        {"role": "output", "parts": [{"type": "text", "content": "<2 items>"}]}
    ]
