"""The off-path pipeline: a bounded queue and one background worker.

The caller's thread only appends a finished record to a deque (no lock, no I/O). A
single daemon worker wakes when a batch is full or the flush interval passes, runs the
processors (resolve, sample, strip content, redact) and hands the batch to each
exporter. A full queue drops and counts; it never blocks. The worker starts lazily, is
re-created in a forked child, and is flushed at interpreter exit.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from llmtap import ids
from llmtap.config import Config, build_config
from llmtap.exporters.base import Exporter
from llmtap.exporters.sqlite import SQLiteExporter
from llmtap.faults import fault_counts, logger, report_fault
from llmtap.losses import LossLedger, fault_total, records_lost
from llmtap.record import Record
from llmtap.runs import evicted_runs

_EXIT_FLUSH_TIMEOUT_S = 5.0
_LEDGER_INTERVAL_S = 1.0
"""At most one write a second of changed loss counters into the store's ledger."""
_LEDGER_FAULT = "losses.ledger"


class Pipeline:
    def __init__(self) -> None:
        self._config: Config | None = None
        self._reset_runtime()
        os.register_at_fork(after_in_child=self._after_fork_in_child)
        atexit.register(self.shutdown)

    def _reset_runtime(self) -> None:
        self._queue: deque[Record] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[threading.Event] = []
        self._thread: threading.Thread | None = None
        self._dropped = 0
        self._processed = 0
        self._exported = 0
        self._sampled_out = 0
        self._filtered = 0
        self._failed: dict[str, int] = {}
        self._lost_at_exit = 0
        self._stopped = False
        self._ledger = LossLedger()
        self._ledger_written: tuple[int, int] = (0, 0)
        self._ledger_at = 0.0
        if not hasattr(self, "_flush_hooks"):
            self._flush_hooks: list[Callable[[float | None], object]] = []

    # -- configuration ---------------------------------------------------------------

    @property
    def config(self) -> Config:
        config = self._config
        if config is None:
            with self._lock:
                if self._config is None:
                    self._config = build_config()
                config = self._config
        return config

    def configure(self, config: Config) -> None:
        """Swap configuration; records already queued go to the old exporters first."""
        old = self._config
        if old is not None:
            # Also when the queue is empty: the worker may be inside an old exporter's
            # export(), which must end before that exporter is shut down.
            self.flush(timeout=_EXIT_FLUSH_TIMEOUT_S)
        self._config = config
        if old is not None:
            for exporter in old.exporters:
                if exporter not in config.exporters:
                    self._shutdown_exporter(exporter)

    # -- the caller's path ---------------------------------------------------------------

    def submit(self, record: Record) -> None:
        """Queue a finished record. Never blocks, never raises."""
        config = self._config or self.config
        if config.disabled:
            return
        queue = self._queue
        if len(queue) >= config.queue_size:
            with self._lock:
                self._dropped += 1
            return
        queue.append(record)
        if self._thread is None:
            self._start_worker()
        if len(queue) >= config.batch_size and not self._wake.is_set():
            self._wake.set()  # set() takes a lock; is_set() does not

    # -- worker ------------------------------------------------------------------------

    def _start_worker(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._run, name="llmtap-export", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.config.flush_interval_s)
            self._wake.clear()
            # Take the waiters before draining: everything queued before they asked is
            # then in the queue this drain empties.
            with self._lock:
                waiters, self._waiters = self._waiters, []
                stopping = self._stopped
            try:
                self._drain()
                # A flush is a moment to be exact: the doctor then sees what it lost.
                self._write_ledger(force=bool(waiters))
            except Exception as exc:  # the worker must survive anything
                report_fault("pipeline.worker", exc)
            for waiter in waiters:
                waiter.set()
            if stopping and not self._queue:
                return

    def _drain(self) -> None:
        config = self.config
        queue = self._queue
        while queue:
            batch: list[Record] = []
            while queue and len(batch) < config.batch_size:
                prepared = self._prepare(queue.popleft(), config)
                if prepared is not None:
                    batch.append(prepared)
            if batch:
                self._export(batch, config.exporters)

    def _prepare(self, record: Record, config: Config) -> Record | None:
        self._processed += 1
        if config.sample_rate < 1.0 and not _sampled(record.trace_id, config.sample_rate):
            self._sampled_out += 1
            return None
        resolver = record.resolver
        if resolver is not None:
            record.resolver = None
            try:
                resolver(record)
            except Exception as exc:
                report_fault(f"resolve.{record.integration or 'manual'}", exc)
        if record.kind == "generation" and record.cost_usd is None:
            try:
                record.cost_usd = config.pricer.price(record)
            except Exception as exc:
                report_fault("cost", exc)
        if config.environment is not None and record.environment is None:
            record.environment = config.environment
        if config.release is not None and record.release is None:
            record.release = config.release
        if not config.capture_content:
            record = strip_content(record)
        if config.redact is not None:
            try:
                redacted = config.redact(record)
            except Exception as exc:
                # Exporting unredacted content would be worse than losing the record.
                report_fault("redact", exc)
                redacted = None
            if redacted is None:
                self._filtered += 1
                return None
            record = redacted
        return record

    def _export(self, batch: Sequence[Record], exporters: Sequence[Exporter]) -> None:
        for exporter in exporters:
            try:
                exporter.export(batch)
            except Exception as exc:
                name = type(exporter).__name__
                self._failed[name] = self._failed.get(name, 0) + len(batch)
                report_fault(f"exporter.{name}", exc)
            else:
                self._exported += len(batch)

    # -- flushing and lifecycle ------------------------------------------------------------

    def add_flush_hook(self, hook: Callable[[float | None], object]) -> None:
        """Integrations whose library hands calls over late (LiteLLM logs on its own
        threads after returning) wait for them here, within the flush's timeout."""
        with self._lock:
            if hook not in self._flush_hooks:
                self._flush_hooks.append(hook)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every record queued so far is exported; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for hook in list(self._flush_hooks):
            if threading.current_thread() is self._thread:
                break
            try:
                hook(None if deadline is None else max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                report_fault("pipeline.flush_hook", exc)
        if deadline is not None:
            timeout = max(0.0, deadline - time.monotonic())
        if self._thread is None:
            if not self._queue:
                return True
            self._start_worker()
        if threading.current_thread() is self._thread:
            self._drain()
            return True
        done = threading.Event()
        with self._lock:
            self._waiters.append(done)
        self._wake.set()
        return done.wait(timeout)

    def shutdown(self) -> None:
        """Flush with a bound, report what was lost, and close exporters; runs at exit."""
        try:
            if not self.flush(timeout=_EXIT_FLUSH_TIMEOUT_S):
                self._lost_at_exit += len(self._queue)
            with self._lock:
                self._stopped = True
            self._report_losses()
            if self._config is not None:
                for exporter in self._config.exporters:
                    self._shutdown_exporter(exporter)
        except Exception as exc:
            report_fault("pipeline.shutdown", exc)

    def _report_losses(self) -> None:
        """Say at exit what this process lost, in the log and in the store's ledger."""
        stats = self.stats()
        lost = records_lost(stats)
        if lost:
            logger.warning(
                "llmtap: this process lost %d records: %d dropped with the queue full, "
                "%d still queued at exit, failed exports %s. llmtap.stats() and "
                "`llmtap doctor` show the counts.",
                lost,
                stats["dropped"],
                stats["lost_at_exit"],
                stats["export_failures"] or "none",
            )
        self._write_ledger(force=True)

    def _write_ledger(self, force: bool = False) -> None:
        """Copy changed loss counters into each SQLite store, for `llmtap doctor`."""
        stats = self.stats()
        faults = fault_total(stats) - stats["faults"].get(_LEDGER_FAULT, 0)
        signature = (records_lost(stats), faults)
        if signature == self._ledger_written:
            return
        now = time.monotonic()
        if not force and now - self._ledger_at < _LEDGER_INTERVAL_S:
            return
        self._ledger_at = now
        config = self._config
        stores = [e for e in config.exporters if isinstance(e, SQLiteExporter)] if config else []
        try:
            for exporter in stores:
                self._ledger.write(exporter.path, stats)
        except Exception as exc:  # the store itself is failing: retried a second later
            report_fault(_LEDGER_FAULT, exc)
        else:
            self._ledger_written = signature

    def _shutdown_exporter(self, exporter: Exporter) -> None:
        try:
            exporter.shutdown()
        except Exception as exc:
            report_fault(f"exporter.{type(exporter).__name__}.shutdown", exc)

    def _after_fork_in_child(self) -> None:
        # The parent exports what it had queued; the child starts empty with its own
        # worker and its own id sequence.
        config = self._config
        self._reset_runtime()
        self._config = config
        ids.reseed()

    def stats(self) -> dict[str, Any]:
        return {
            "queued": len(self._queue),
            "processed": self._processed,
            "exported": self._exported,
            "dropped": self._dropped,
            "lost_at_exit": self._lost_at_exit,
            "sampled_out": self._sampled_out,
            "filtered": self._filtered,
            "export_failures": dict(self._failed),
            "faults": fault_counts(),
            "evicted_runs": evicted_runs(),
        }


def _sampled(trace_id: str, rate: float) -> bool:
    """Keep or drop whole traces, so a kept generation never loses its parent span."""
    return int(trace_id[:16], 16) < rate * 2**64


def strip_content(record: Record) -> Record:
    """The record without prompts, completions or tool arguments."""
    tool_calls = record.tool_calls
    if tool_calls is not None:
        tool_calls = [{k: v for k, v in c.items() if k != "arguments"} for c in tool_calls]
    return replace(record, input=None, output=None, system_instructions=None, tool_calls=tool_calls)


PIPELINE = Pipeline()


def configure(**kwargs: Any) -> None:
    PIPELINE.configure(build_config(**kwargs))
