"""The caller-path half of parentage: which OpenTelemetry span is current as a record starts.

`new_record` asks `current_otel_parent()` for every root record. Until an OTelExporter
exists that is one global read, and OpenTelemetry is not even imported, so applications
that do not export to OpenTelemetry pay nothing for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext

_capture: Callable[[], SpanContext | None] | None = None
_exporters = 0
_lock = threading.Lock()


def current_otel_parent() -> SpanContext | None:
    """The valid OpenTelemetry span context current here, when OTel export is on."""
    capture = _capture
    return None if capture is None else capture()


def exporter_started() -> None:
    from opentelemetry.trace import get_current_span

    def current_valid_span() -> SpanContext | None:
        context = get_current_span().get_span_context()
        return context if context.is_valid else None

    global _capture, _exporters
    with _lock:
        _exporters += 1
        _capture = current_valid_span


def exporter_stopped() -> None:
    global _capture, _exporters
    with _lock:
        _exporters = max(0, _exporters - 1)
        if _exporters == 0:
            _capture = None
