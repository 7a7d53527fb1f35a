"""Records as OpenTelemetry GenAI spans and metrics, through the application's own SDK.

Only `opentelemetry-api` is needed here: spans and data points go to the tracer and
meter providers the application set up (the global ones by default), and from there
wherever its SDK exports them, typically OTLP to a Collector. llmtap runs no server.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Sequence
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode

from llmtap.faults import logger, report_fault
from llmtap.otel.attributes import span_attributes
from llmtap.otel.capture import exporter_started, exporter_stopped
from llmtap.otel.metrics import GenAIMetrics
from llmtap.otel.parentage import RecordIds, keep_record_ids, parent_context
from llmtap.otel.semconv import SCHEMA_URL, span_shape
from llmtap.record import Record

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
# `true` (the contrib instrumentations' legacy value) and the span modes of
# opentelemetry-util-genai's ContentCapturingMode; content goes on spans only.
_CAPTURE_ON = {"true", "span_only", "span_and_event"}
_CAPTURE_OFF = {"", "false", "no_content", "event_only"}
_EXIT_FLUSH_TIMEOUT_S = 5.0


@cache
def _version() -> str:
    try:
        return version("llmtap")
    except PackageNotFoundError:  # running from a source tree
        return "0"


def capture_content_from_env() -> bool:
    """Whether `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` asks for content on
    spans; off by default, as the GenAI conventions require."""
    raw = os.environ.get(CAPTURE_ENV, "")
    value = raw.strip().lower()
    if value in _CAPTURE_ON:
        return True
    if value not in _CAPTURE_OFF:
        logger.warning(
            "llmtap: ignoring %s=%r; use true/false or SPAN_ONLY/SPAN_AND_EVENT/NO_CONTENT",
            CAPTURE_ENV,
            raw,
        )
    return False


def _ns(epoch_seconds: float) -> int:
    return int(epoch_seconds * 1e9)


class OTelExporter:
    """One span per record, and the GenAI client metrics per model call.

    `tracer_provider` and `meter_provider` default to the global ones, looked up at each
    export, so OpenTelemetry may be set up after llmtap. `capture_content=None` follows
    `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (off unless set).
    `sdk_tracing=False` turns off the provider SDKs' own spans (anthropic 2.x) for
    clients created from now on, so each call yields one GenAI span.
    """

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        capture_content: bool | None = None,
        sdk_tracing: bool = False,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self.capture_content = (
            capture_content_from_env() if capture_content is None else capture_content
        )
        self._tracer_from: Any = None
        self._tracer: trace.Tracer = trace.NoOpTracer()
        self._ids: RecordIds | None = None
        self._meter_from: Any = None
        self._metrics: GenAIMetrics | None = None
        if not sdk_tracing:
            # Read by anthropic>=2 when a client is created; an explicit setting wins.
            os.environ.setdefault("ANTHROPIC_OPEN_TELEMETRY", "false")
        exporter_started()
        self._stopped = False
        # After the SDK's own exit hook is registered, so this runs first (atexit is
        # LIFO) and the records still queued reach providers that are not shut down yet.
        atexit.register(self._flush_at_exit)

    def export(self, records: Sequence[Record]) -> None:
        tracer, ids = self._current_tracer()
        meters = self._current_metrics()
        for record in records:
            try:
                self._export_one(record, tracer, ids, meters)
            except Exception as exc:  # one odd record must not cost the batch
                report_fault("exporter.OTelExporter.record", exc)

    def _export_one(
        self, record: Record, tracer: trace.Tracer, ids: RecordIds | None, meters: GenAIMetrics
    ) -> None:
        shape = span_shape(record)
        attributes = span_attributes(record, shape, self.capture_content)
        start = _ns(record.start_time)
        end = _ns(record.end_time) if record.end_time is not None else start
        if ids is not None:
            ids.pin(record)
        try:
            span = tracer.start_span(
                shape.name,
                context=parent_context(record),
                kind=shape.kind,
                attributes=attributes,
                start_time=start,
                record_exception=False,
                set_status_on_exception=False,
            )
        finally:
            if ids is not None:
                ids.unpin()
        error = record.error
        if record.status == "error":
            span.set_status(Status(StatusCode.ERROR, error.message if error else None))
            if error is not None:
                span.add_event(
                    "exception",
                    {"exception.type": error.type, "exception.message": error.message},
                    timestamp=end,
                )
        span.end(end_time=end)
        if shape.inference:
            meters.record(record, attributes)

    def _current_tracer(self) -> tuple[trace.Tracer, RecordIds | None]:
        provider = self._tracer_provider or trace.get_tracer_provider()
        if provider is not self._tracer_from:
            self._tracer = provider.get_tracer("llmtap", _version(), schema_url=SCHEMA_URL)
            self._ids = keep_record_ids(self._tracer)
            self._tracer_from = provider
            if self._ids is None and not isinstance(provider, trace.ProxyTracerProvider):
                logger.warning(
                    "llmtap: %s does not let llmtap keep its span ids, so exported spans "
                    "will not nest under their parents; use opentelemetry-sdk's TracerProvider",
                    type(provider).__name__,
                )
        return self._tracer, self._ids

    def _current_metrics(self) -> GenAIMetrics:
        provider = self._meter_provider or metrics.get_meter_provider()
        if provider is not self._meter_from or self._metrics is None:
            meter = provider.get_meter("llmtap", _version(), schema_url=SCHEMA_URL)
            self._metrics = GenAIMetrics(meter)
            self._meter_from = provider
        return self._metrics

    def _flush_at_exit(self) -> None:
        from llmtap.pipeline import PIPELINE

        try:
            PIPELINE.flush(timeout=_EXIT_FLUSH_TIMEOUT_S)
            self._force_flush()
        except Exception as exc:
            report_fault("exporter.OTelExporter.exit", exc)

    def _force_flush(self) -> None:
        for provider in (
            self._tracer_provider or trace.get_tracer_provider(),
            self._meter_provider or metrics.get_meter_provider(),
        ):
            flush = getattr(provider, "force_flush", None)
            if callable(flush):
                flush()

    def shutdown(self) -> None:
        """Push what the providers hold; the providers themselves belong to the app."""
        if self._stopped:
            return
        self._stopped = True
        exporter_stopped()
        atexit.unregister(self._flush_at_exit)
        self._force_flush()
