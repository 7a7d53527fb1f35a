"""Starting and finishing a record on the caller's path, as cheaply as possible.

An integration calls `start_generation()` when a call begins and `Generation.finish()`
exactly once when it ends; everything else about the record (messages, usage) is filled
by the integration, preferably in a resolver that the worker runs later.
"""

from __future__ import annotations

import time
from typing import Any

from llmtap.context import ROOT, current_scope
from llmtap.handoff import adopt_into_framework_call
from llmtap.ids import new_span_id, new_trace_and_span_id
from llmtap.otel.capture import current_otel_parent
from llmtap.pipeline import PIPELINE
from llmtap.record import ErrorInfo, Record, Status

_perf_counter = time.perf_counter
_time = time.time


def tracing_enabled() -> bool:
    """Cheap check integrations make before doing any work for a call."""
    return not PIPELINE.config.disabled


def new_record(name: str, kind: str) -> Record:
    """A record parented to the current span, with the current context's attributes.

    With no current span, an OpenTelemetry span current here (OTel export on) becomes
    the parent, and its trace the record's trace.
    """
    scope = current_scope()
    trace_id = scope.trace_id
    otel_parent = None
    if trace_id is not None:
        span_id = new_span_id()
    else:
        otel_parent = current_otel_parent()
        if otel_parent is None:
            trace_id, span_id = new_trace_and_span_id()
        else:
            trace_id, span_id = f"{otel_parent.trace_id:032x}", new_span_id()
    record = Record(
        id=span_id,
        trace_id=trace_id,
        parent_id=scope.span_id,
        name=name,
        kind=kind,
        start_time=_time(),
        otel_parent=otel_parent,
    )
    if scope is not ROOT:
        record.thread_id = scope.thread_id
        record.user_id = scope.user_id
        record.tags = list(scope.tags)
        record.metadata = dict(scope.metadata)
    return record


def new_child_record(name: str, kind: str, parent: Record | None) -> Record:
    """A record under an explicit parent (a framework's run tree), or under the current
    span when the run has no parent: callback frameworks know their tree, and their
    callbacks may run in a context other than the call's."""
    if parent is None:
        return new_record(name, kind)
    return Record(
        id=new_span_id(),
        trace_id=parent.trace_id,
        parent_id=parent.id,
        name=name,
        kind=kind,
        start_time=_time(),
        thread_id=parent.thread_id,
        user_id=parent.user_id,
    )


def error_info(error: BaseException) -> ErrorInfo:
    status_code = getattr(error, "status_code", None)
    return ErrorInfo(
        type=type(error).__name__,
        message=str(error),
        status_code=status_code if isinstance(status_code, int) else None,
    )


class Generation:
    """One in-flight call: its record plus the monotonic clock it started on."""

    __slots__ = ("_done", "_duration", "_started", "_stopped", "record")

    def __init__(self, record: Record) -> None:
        self.record = record
        self._started = _perf_counter()
        self._stopped: float | None = None
        self._duration: float | None = None
        self._done = False

    @property
    def finished(self) -> bool:
        return self._done

    def mark_first_token(self) -> None:
        """Stamp time to first token; only the first call counts."""
        if self.record.time_to_first_token_s is None:
            self.record.time_to_first_token_s = _perf_counter() - self._started

    def stop_clock(self) -> None:
        """End the call's duration now, for a record finished later (a raw response
        whose body the caller parses when it wants)."""
        if self._stopped is None:
            self._stopped = _perf_counter()

    def use_times(self, start_epoch: float, end_epoch: float) -> None:
        """Take start and end from the library that made the call (LiteLLM reports
        both), for a record built after the fact."""
        self.record.start_time = start_epoch
        self._duration = max(0.0, end_epoch - start_epoch)

    def finish(self, status: Status = "ok", error: BaseException | None = None) -> None:
        """Close the record and queue it; later calls are ignored."""
        if self._done:
            return
        self._done = True
        record = self.record
        duration = self._duration
        if duration is None:
            duration = (self._stopped or _perf_counter()) - self._started
        record.duration_s = duration
        record.end_time = record.start_time + duration
        if error is not None:
            record.status = "error"
            record.error = error_info(error)
        else:
            record.status = status
        PIPELINE.submit(record)


def start_generation(
    *,
    operation: str,
    provider: str,
    integration: str,
    request_model: str | None,
    server_address: str | None = None,
    stream: bool = False,
    settings: dict[str, Any] | None = None,
) -> Generation:
    record = new_record(
        f"{operation} {request_model}" if request_model else operation, "generation"
    )
    record.operation = operation
    record.provider = provider
    record.integration = integration
    record.request_model = request_model
    record.server_address = server_address
    record.stream = stream
    if settings:
        record.settings = settings
    adopt_into_framework_call(record)
    return Generation(record)
