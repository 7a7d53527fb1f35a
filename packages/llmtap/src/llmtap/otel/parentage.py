"""Where a record's span hangs in the OpenTelemetry tree, with llmtap's own ids.

Records reach the exporter after the fact, children usually before their parents, so a
child's span can only point at its parent if the parent's span id is known in advance.
It is: llmtap's ids already have OpenTelemetry's shape (32 and 16 hex digits), so every
record's span keeps the record's ids. The API cannot choose a span id; the SDK's tracer
asks its `id_generator`, so the exporter gives its own tracer a `RecordIds` that answers
with the pinned ids of the record being exported (and defers to the original otherwise).

A record that starts with no llmtap parent while an OpenTelemetry span is current takes
that span's trace id on the caller's path (`capture.current_otel_parent`) and becomes
its child.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.context import Context
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    set_span_in_context,
)

from llmtap.record import Record

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def parent_context(record: Record) -> Context:
    """The context to start the record's span in: its llmtap parent, else the OTel span
    that was current when it started, else none (an explicit empty context, so nothing
    current on the worker thread is picked up)."""
    if record.parent_id is not None:
        parent = SpanContext(
            int(record.trace_id, 16),
            int(record.parent_id, 16),
            is_remote=False,
            trace_flags=_SAMPLED,
        )
    elif record.otel_parent is not None:
        parent = record.otel_parent
    else:
        return Context()
    return set_span_in_context(NonRecordingSpan(parent), Context())


class RecordIds:
    """An SDK id generator that returns the ids pinned for this thread, else defers.

    Only the exporter's worker thread pins ids, so spans that other code starts with the
    same tracer get ids from the original generator.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._pinned = threading.local()

    def pin(self, record: Record) -> None:
        self._pinned.ids = (int(record.trace_id, 16), int(record.id, 16))

    def unpin(self) -> None:
        self._pinned.ids = None

    def generate_trace_id(self) -> int:
        ids = getattr(self._pinned, "ids", None)
        return int(self.inner.generate_trace_id()) if ids is None else ids[0]

    def generate_span_id(self) -> int:
        ids = getattr(self._pinned, "ids", None)
        return int(self.inner.generate_span_id()) if ids is None else ids[1]

    def is_trace_id_random(self) -> bool:
        if getattr(self._pinned, "ids", None) is not None:
            return True  # llmtap's ids come from a uniform random draw
        return bool(getattr(self.inner, "is_trace_id_random", lambda: False)())


def keep_record_ids(tracer: Any) -> RecordIds | None:
    """Make `tracer` (an SDK tracer) give spans the ids of their records; None when the
    tracer has no id generator to take over (a no-op tracer, or another SDK)."""
    generator = getattr(tracer, "id_generator", None)
    if generator is None:
        return None
    if not isinstance(generator, RecordIds):
        generator = RecordIds(generator)
        tracer.id_generator = generator
    return generator
