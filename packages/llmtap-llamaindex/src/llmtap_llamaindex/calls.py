"""One model call (an LLM chat/completion or an embedding), from its start event to
its end, and how it shares the call with a provider-layer integration.

The call opens a `llmtap.handoff` framework call where its start event is dispatched:
LlamaIndex dispatches events synchronously in the context that runs the LLM method,
which is also where the provider SDK is called (for `stream_chat`, the SDK is called
when the caller iterates the returned generator, in the caller's context, where the
ContextVar set at the start event still holds). If llmtap-openai or
llmtap-anthropic records the HTTP call, that record carries the usage and this one
becomes a step without usage; otherwise this record is the generation.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from llmtap.generation import Generation, new_child_record
from llmtap.handoff import FrameworkCall, open_framework_call
from llmtap.record import Record, Status
from llmtap_llamaindex.models import ModelInfo

INTEGRATION = "llmtap-llamaindex"


class ModelCall:
    """A model call in flight. `finish()` runs once; later calls do nothing."""

    step_kind = "llm"

    def __init__(self, name: str, operation: str, parent: Record | None, info: ModelInfo):
        record = new_child_record(name, "generation", parent)
        record.operation = operation
        record.integration = INTEGRATION
        record.provider = info.provider
        record.server_address = info.server_address
        if info.settings:
            record.settings = dict(info.settings)
        self.generation = Generation(record)
        self.started = time.perf_counter()
        self.framework_call: FrameworkCall = open_framework_call(self.generation)
        # Set when a model call nested inside this one (an LLM's `complete` that calls
        # its own `chat`) is the generation: this record then never carries usage.
        self.wraps_inner_call = False
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def record(self) -> Record:
        return self.generation.record

    @property
    def finished(self) -> bool:
        return self.generation.finished

    def watch(self, stream: object, on_drop: Callable[[], None]) -> None:
        """Call `on_drop` if the stream is dropped before its end event."""
        try:
            self._finalizer = weakref.finalize(stream, on_drop)
        except TypeError:  # not weak-referenceable: eviction still bounds it
            self._finalizer = None

    def finish(self, status: Status = "ok", error: BaseException | None = None) -> None:
        if self.generation.finished:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        claimed = self.framework_call.close()
        if claimed or self.wraps_inner_call:
            self.record.kind = self.step_kind
        # If reading what LlamaIndex handed over faults, the record is still finished
        # (with what was known) rather than lost.
        try:
            self.complete(carries_usage=not (claimed or self.wraps_inner_call))
        finally:
            self.generation.finish(status, error)

    def complete(self, carries_usage: bool) -> None:
        """Fill the record before it is queued (subclasses set a resolver)."""
