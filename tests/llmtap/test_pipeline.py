"""The background pipeline: flushing, bounded queue, failures, exit, fork, processors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import llmtap
from llmtap import ids
from llmtap.exporters import JSONLExporter, MemoryExporter
from llmtap.generation import start_generation
from llmtap.record import Record, Usage


def log(name: str = "call", **kwargs: object) -> Record:
    return llmtap.log_generation(model="m", provider="test", name=name, **kwargs)  # type: ignore[arg-type]


class BlockingExporter:
    """Holds the worker inside export() until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.records: list[Record] = []
        self.events: list[str] = []

    def export(self, records: Sequence[Record]) -> None:
        self.entered.set()
        self.release.wait(10)
        self.records.extend(records)
        self.events.append("export")

    def shutdown(self) -> None:
        self.events.append("shutdown")


class BrokenExporter:
    def export(self, records: Sequence[Record]) -> None:
        raise OSError("disk full")

    def shutdown(self) -> None:
        pass


@pytest.fixture
def blocking(memory: MemoryExporter) -> Iterator[BlockingExporter]:
    exporter = BlockingExporter()
    yield exporter
    exporter.release.set()


# -- flush -------------------------------------------------------------------------------


def test_flush_exports_every_record_submitted_before_it(memory: MemoryExporter) -> None:
    for i in range(1300):  # more than two batches of 512
        log(f"call-{i}")

    assert llmtap.flush() is True
    assert [r.name for r in memory.records] == [f"call-{i}" for i in range(1300)]


def test_flush_with_nothing_queued_returns_true_at_once(memory: MemoryExporter) -> None:
    started = time.perf_counter()
    assert llmtap.flush() is True
    assert time.perf_counter() - started < 1.0


def test_records_from_many_threads_are_all_exported(memory: MemoryExporter) -> None:
    def work(t: int) -> None:
        for i in range(200):
            log(f"{t}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    llmtap.flush()

    assert sorted(r.name for r in memory.records) == sorted(
        f"{t}-{i}" for t in range(8) for i in range(200)
    )


def test_stats_count_processed_and_exported_records(memory: MemoryExporter) -> None:
    before = llmtap.stats()
    log()
    log()
    llmtap.flush()
    after = llmtap.stats()

    assert after["processed"] - before["processed"] == 2
    assert after["exported"] - before["exported"] == 2
    assert after["queued"] == 0


# -- bounded queue -----------------------------------------------------------------------


def test_a_full_queue_drops_and_counts_without_blocking(blocking: BlockingExporter) -> None:
    llmtap.configure(exporters=[blocking], queue_size=3)
    dropped_before = llmtap.stats()["dropped"]
    log("first")
    llmtap.flush(timeout=0)  # wake the worker: it takes "first" and blocks in export()
    assert blocking.entered.wait(5)

    started = time.perf_counter()
    for i in range(5):
        log(f"queued-{i}")
    elapsed = time.perf_counter() - started

    assert elapsed < 0.5
    assert llmtap.stats()["dropped"] - dropped_before == 2
    assert llmtap.stats()["queued"] == 3
    blocking.release.set()
    assert llmtap.flush() is True
    assert [r.name for r in blocking.records] == ["first", "queued-0", "queued-1", "queued-2"]


def test_reconfiguring_closes_old_exporters_after_their_current_batch(
    blocking: BlockingExporter, memory: MemoryExporter
) -> None:
    llmtap.configure(exporters=[blocking])
    log()
    llmtap.flush(timeout=0)
    assert blocking.entered.wait(5)  # the queue is empty; the batch is inside export()

    threading.Timer(0.2, blocking.release.set).start()
    llmtap.configure(exporters=[memory])

    assert blocking.events == ["export", "shutdown"]


# -- exporter failures -------------------------------------------------------------------


def test_a_failing_exporter_is_counted_and_logged_once_and_others_still_export(
    memory: MemoryExporter, caplog: pytest.LogCaptureFixture
) -> None:
    llmtap.configure(exporters=[BrokenExporter(), memory])
    failures_before = llmtap.stats()["export_failures"].get("BrokenExporter", 0)

    with caplog.at_level(logging.WARNING, logger="llmtap"):
        log("one")
        llmtap.flush()
        log("two")
        log("three")
        llmtap.flush()

    assert [r.name for r in memory.records] == ["one", "two", "three"]
    stats = llmtap.stats()
    assert stats["export_failures"]["BrokenExporter"] - failures_before == 3
    assert stats["faults"]["exporter.BrokenExporter"] == 2  # two batches
    warnings_logged = [r for r in caplog.records if r.name == "llmtap"]
    assert len(warnings_logged) == 1
    assert "exporter.BrokenExporter" in warnings_logged[0].getMessage()
    assert "OSError: disk full" in warnings_logged[0].getMessage()


# -- interpreter exit and fork -------------------------------------------------------------


def run_python(code: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        check=False,
    )


def test_records_queued_at_interpreter_exit_are_flushed(tmp_path: Path) -> None:
    path = tmp_path / "exit.jsonl"
    result = run_python(
        f"""
        import llmtap
        from llmtap.exporters import JSONLExporter
        llmtap.configure(exporters=[JSONLExporter({str(path)!r})], flush_interval_s=60)
        llmtap.log_generation(model="m", provider="test", input="hi", output="hello")
        """
    )

    assert result.returncode == 0, result.stderr
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["request_model"] == "m"
    assert record["output"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": "hello"}]}
    ]


def test_a_hung_exporter_delays_interpreter_exit_by_a_bounded_time(tmp_path: Path) -> None:
    result = run_python(
        """
        import threading
        import llmtap

        class Hung:
            def export(self, records):
                threading.Event().wait()
            def shutdown(self):
                pass

        llmtap.configure(exporters=[Hung()], batch_size=1)
        llmtap.log_generation(model="m", provider="test")
        llmtap.log_generation(model="m", provider="test")
        """,
        timeout=20,
    )

    assert result.returncode == 0, result.stderr
    assert "this process lost 1 records" in result.stderr
    assert "1 still queued at exit" in result.stderr


def fork() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # multi-threaded fork, 3.12+
        return os.fork()


def wait_for_child(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_the_worker_survives_fork(memory: MemoryExporter, tmp_path: Path) -> None:
    child_path = tmp_path / "child.jsonl"
    log("parent-before")
    llmtap.flush()  # the parent's worker is running when the fork happens

    pid = fork()
    if pid == 0:  # child
        code = 1
        try:
            llmtap.configure(exporters=[JSONLExporter(child_path)])
            log("child")
            code = 0 if llmtap.flush(timeout=5) else 2
        finally:
            os._exit(code)

    assert wait_for_child(pid) == 0
    log("parent-after")
    llmtap.flush()
    assert [json.loads(line)["name"] for line in child_path.read_text().splitlines()] == ["child"]
    assert [r.name for r in memory.records] == ["parent-before", "parent-after"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_does_not_export_the_parents_queued_records(
    memory: MemoryExporter, tmp_path: Path
) -> None:
    path = tmp_path / "shared.jsonl"
    llmtap.configure(exporters=[JSONLExporter(path)], flush_interval_s=60)
    log("parent-1")
    llmtap.flush()
    log("parent-2")  # still queued in the parent at fork time

    pid = fork()
    if pid == 0:
        code = 1
        try:
            log("child")
            code = 0 if llmtap.flush(timeout=5) else 2
        finally:
            os._exit(code)

    assert wait_for_child(pid) == 0
    llmtap.flush()
    names = [json.loads(line)["name"] for line in path.read_text().splitlines()]
    assert sorted(names) == ["child", "parent-1", "parent-2"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_gets_its_own_id_sequence(memory: MemoryExporter) -> None:
    read_end, write_end = os.pipe()
    pid = fork()
    if pid == 0:
        try:
            os.write(write_end, ids.new_span_id().encode())
        finally:
            os._exit(0)

    os.close(write_end)
    assert wait_for_child(pid) == 0
    child_id = os.read(read_end, 64).decode()
    os.close(read_end)
    assert len(child_id) == 16
    assert child_id != ids.new_span_id()


# -- sampling ----------------------------------------------------------------------------


def test_sampling_keeps_or_drops_whole_traces(memory: MemoryExporter) -> None:
    llmtap.configure(exporters=[memory], sample_rate=0.5)
    sampled_out_before = llmtap.stats()["sampled_out"]
    trace_ids = []
    for i in range(64):
        with llmtap.span(f"trace-{i}") as s:
            for _ in range(3):
                log()
        trace_ids.append(s.trace_id)
    llmtap.flush()

    per_trace = {t: 0 for t in trace_ids}
    for record in memory.records:
        per_trace[record.trace_id] += 1
    assert set(per_trace.values()) == {0, 4}  # a span and its three generations, or nothing
    kept = sum(1 for n in per_trace.values() if n)
    assert llmtap.stats()["sampled_out"] - sampled_out_before == (64 - kept) * 4


def test_sample_rate_zero_drops_everything_and_counts_it(memory: MemoryExporter) -> None:
    llmtap.configure(exporters=[memory], sample_rate=0.0)
    before = llmtap.stats()["sampled_out"]
    for _ in range(5):
        log()
    llmtap.flush()

    assert memory.records == []
    assert llmtap.stats()["sampled_out"] - before == 5


# -- content capture and redaction -------------------------------------------------------


def test_capture_content_false_removes_content_but_keeps_usage_and_model(
    memory: MemoryExporter,
) -> None:
    llmtap.configure(exporters=[memory], capture_content=False)
    generation = start_generation(
        operation="chat", provider="test", integration="test", request_model="m"
    )
    record = generation.record
    record.input = [{"role": "user", "parts": [{"type": "text", "content": "secret"}]}]
    record.output = [{"role": "assistant", "parts": [{"type": "text", "content": "reply"}]}]
    record.system_instructions = [{"type": "text", "content": "be nice"}]
    record.tool_calls = [{"id": "call_1", "name": "lookup", "arguments": {"ssn": "123"}}]
    record.response_model = "m-2024"
    record.usage = Usage(input_tokens=7, output_tokens=3)
    generation.finish()
    llmtap.flush()

    [exported] = memory.records
    data = exported.to_dict()
    assert data["input"] is None
    assert data["output"] is None
    assert data["system_instructions"] is None
    assert data["tool_calls"] == [{"id": "call_1", "name": "lookup"}]
    assert data["request_model"] == "m"
    assert data["response_model"] == "m-2024"
    assert data["usage"]["input_tokens"] == 7
    assert data["usage"]["output_tokens"] == 3
    assert data["usage"]["total_tokens"] == 10


def test_a_redact_hook_can_change_a_record(memory: MemoryExporter) -> None:
    def redact(record: Record) -> Record:
        record.input = [{"role": "user", "parts": [{"type": "text", "content": "[redacted]"}]}]
        return record

    llmtap.configure(exporters=[memory], redact=redact)
    log(input="my password is hunter2")
    llmtap.flush()

    [record] = memory.records
    assert record.input == [{"role": "user", "parts": [{"type": "text", "content": "[redacted]"}]}]


def test_a_redact_hook_returning_none_drops_the_record(memory: MemoryExporter) -> None:
    llmtap.configure(exporters=[memory], redact=lambda r: None if r.name == "secret" else r)
    before = llmtap.stats()["filtered"]
    log("secret")
    log("public")
    llmtap.flush()

    assert [r.name for r in memory.records] == ["public"]
    assert llmtap.stats()["filtered"] - before == 1


def test_a_raising_redact_hook_drops_the_record_and_counts_a_fault(
    memory: MemoryExporter,
) -> None:
    def redact(record: Record) -> Record:
        raise RuntimeError("bug in redactor")

    llmtap.configure(exporters=[memory], redact=redact)
    log(input="my password is hunter2")
    llmtap.flush()

    assert memory.records == []
    assert llmtap.stats()["faults"]["redact"] == 1


def test_redact_sees_records_after_content_is_stripped(memory: MemoryExporter) -> None:
    seen: list[object] = []

    def redact(record: Record) -> Record:
        seen.append(record.input)
        return record

    llmtap.configure(exporters=[memory], capture_content=False, redact=redact)
    log(input="secret")
    llmtap.flush()

    assert seen == [None]


def test_a_raising_resolver_is_counted_and_the_record_still_exported(
    memory: MemoryExporter,
) -> None:
    def resolver(record: Record) -> None:
        raise KeyError("choices")

    generation = start_generation(
        operation="chat", provider="test", integration="test", request_model="m"
    )
    generation.record.resolver = resolver
    generation.finish()
    llmtap.flush()

    [record] = memory.records
    assert record.request_model == "m"
    assert llmtap.stats()["faults"]["resolve.test"] == 1


# -- disabling and stamping ---------------------------------------------------------------


def test_disabled_records_nothing(memory: MemoryExporter) -> None:
    llmtap.configure(exporters=[memory], disabled=True)
    before = llmtap.stats()["processed"]
    log()
    with llmtap.span("work") as s:
        log()
    llmtap.flush()

    assert memory.records == []
    assert s.id is None
    assert llmtap.stats()["processed"] == before


def test_llmtap_disabled_env_records_nothing(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_DISABLED", "1")
    llmtap.configure(exporters=[memory])
    log()
    llmtap.flush()

    assert memory.records == []


def test_environment_and_release_are_stamped_onto_records(memory: MemoryExporter) -> None:
    llmtap.configure(exporters=[memory], environment="production", release="1.4.2")
    log()
    llmtap.flush()

    [record] = memory.records
    assert record.to_dict()["environment"] == "production"
    assert record.to_dict()["release"] == "1.4.2"


def test_records_carry_no_environment_or_release_unless_configured(
    memory: MemoryExporter,
) -> None:
    log()
    llmtap.flush()

    [record] = memory.records
    assert record.environment is None
    assert record.release is None
