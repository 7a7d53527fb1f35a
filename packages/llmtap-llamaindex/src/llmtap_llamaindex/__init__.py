"""llmtap integration for LlamaIndex (`llama-index-core` 0.12 and 0.14).

    import llmtap
    llmtap.instrument_llamaindex()

Adds one span handler and one event handler to LlamaIndex's root instrumentation
dispatcher. Agents, query engines, retrievers, tools, LLM calls and embeddings become
nested records; see `kinds.py` for which spans are kept and README.md for what each
record holds.
"""

from __future__ import annotations

import threading
from typing import Any

# Re-exported by llama_index.core without `__all__`, hence the ignores.
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]

from llmtap.faults import report_fault
from llmtap.runs import DEFAULT_LIMIT
from llmtap_llamaindex.handlers import (
    EVENT_HANDLER_NAME,
    SPAN_HANDLER_NAME,
    LlmtapEventHandler,
    LlmtapSpanHandler,
)
from llmtap_llamaindex.kinds import preload
from llmtap_llamaindex.tracker import Tracker

__all__ = ["instrument", "is_instrumented", "uninstrument"]

_lock = threading.Lock()


def instrument(*, max_open_spans: int = DEFAULT_LIMIT, provider_taps: bool = True) -> None:
    """Start recording LlamaIndex runs. Calling it again changes nothing.

    `max_open_spans` bounds the spans and model calls held in flight (the oldest are
    finished as incomplete beyond it). `provider_taps=False` leaves the OpenAI and
    Anthropic SDKs untouched: what LlamaIndex drops (embedding usage, the model, id
    and usage of Anthropic streams) is then known only when llmtap-openai or
    llmtap-anthropic records the call.
    """
    if max_open_spans < 1:
        raise ValueError(f"max_open_spans must be at least 1, got {max_open_spans}")
    with _lock:
        root = get_dispatcher()
        if _installed(root):
            return
        _remove(root)  # handlers left by an earlier import of this module (a reload)
        preload()
        tracker = Tracker(max_open_spans, provider_taps)
        for tap in tracker.taps:
            tap.install()
        # New lists rather than append: another thread may be iterating the old ones.
        root.span_handlers = [*root.span_handlers, LlmtapSpanHandler(tracker)]
        root.event_handlers = [*root.event_handlers, LlmtapEventHandler(tracker)]


def uninstrument() -> None:
    """Remove llmtap's handlers; records still open are finished as incomplete."""
    with _lock:
        _remove(get_dispatcher())


def is_instrumented() -> bool:
    return _installed(get_dispatcher())


def _installed(root: Any) -> bool:
    return any(isinstance(handler, LlmtapSpanHandler) for handler in root.span_handlers)


def _remove(root: Any) -> None:
    """Take out every llmtap handler, matched by name so that handlers made by an
    earlier copy of this module (after `importlib.reload`) are found too."""
    spans = [h for h in root.span_handlers if h.class_name() == SPAN_HANDLER_NAME]
    root.span_handlers = [h for h in root.span_handlers if h.class_name() != SPAN_HANDLER_NAME]
    root.event_handlers = [h for h in root.event_handlers if h.class_name() != EVENT_HANDLER_NAME]
    for handler in spans:
        try:
            handler.close()
        except Exception as exc:
            report_fault("llamaindex.uninstrument", exc)
