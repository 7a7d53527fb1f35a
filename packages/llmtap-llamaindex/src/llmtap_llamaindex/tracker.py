"""The run tree: LlamaIndex span ids to records, and model calls to their events.

Every LlamaIndex span in flight has a small `SpanState`: its parent span id and the
record its children attach to (its own record when the span is kept, else its
parent's). LlamaIndex gives each span its parent explicitly, from a ContextVar it
manages across threads and tasks, so records are parented by span ids and never by
the context a callback happens to run in. A root span attaches to the current llmtap
span.

Model calls are keyed by the span id their events carry. A stream's span exits before
its first chunk (LlamaIndex returns the generator), so the call outlives its span and
ends with its end event, an exception event, or the stream being dropped.

Both maps are `OpenRuns`: per-span state is freed when the span ends, and state that
never ends (a generator never iterated and never freed, a task cancelled between
events) is evicted with a bound, its record finished as incomplete.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from functools import partial
from typing import Any

from llmtap.faults import report_fault
from llmtap.record import Record, Status
from llmtap.runs import DEFAULT_LIMIT, OpenRuns
from llmtap_llamaindex.calls import ModelCall
from llmtap_llamaindex.embeddings import EmbeddingCall
from llmtap_llamaindex.kinds import classify, is_model, span_method
from llmtap_llamaindex.llm import LLMCall
from llmtap_llamaindex.models import ModelInfo, model_info, model_name
from llmtap_llamaindex.steps import Step
from llmtap_llamaindex.taps import AnthropicStreamTap, EmbeddingUsageTap, Tap

# How far up the span tree to look for an enclosing model call.
_MAX_DEPTH = 32
# LLM methods whose failure is a failed call even when no start event was dispatched.
_LLM_METHODS = {
    "chat": "chat",
    "achat": "chat",
    "stream_chat": "chat",
    "astream_chat": "chat",
    "complete": "text_completion",
    "acomplete": "text_completion",
    "stream_complete": "text_completion",
    "astream_complete": "text_completion",
}


@dataclass(slots=True, eq=False)
class SpanState:
    parent_id: str | None
    record: Record | None
    owner: tuple[int, str] | None
    step: Step | None
    model: ModelInfo | None
    # A failed LLM call below this span was already recorded (see `drop`).
    failure_recorded: bool = False


def _status(error: BaseException) -> Status:
    """A stream closed early or a cancelled task is incomplete, not failed."""
    if isinstance(error, (GeneratorExit, asyncio.CancelledError)):
        return "incomplete"
    return "error"


class Tracker:
    def __init__(self, limit: int = DEFAULT_LIMIT, provider_taps: bool = True) -> None:
        self.spans: OpenRuns[str, SpanState] = OpenRuns(self._evict_span, limit)
        self.calls: OpenRuns[str, ModelCall] = OpenRuns(self._evict_call, limit)
        self.taps: tuple[Tap[Any], ...] = ()
        if provider_taps:
            self.taps = (
                EmbeddingUsageTap(self.embedding_call_here),
                AnthropicStreamTap(self.llm_call_here),
            )

    # -- spans ------------------------------------------------------------------------

    def enter(
        self, span_id: str, instance: Any, parent_id: str | None, arguments: dict[str, Any]
    ) -> None:
        parent = self.spans.get(parent_id) if parent_id else None
        record = parent.record if parent else None
        owner = parent.owner if parent else None
        step = None
        kind = classify(instance, span_id)
        # A kept span re-entered on the same object (agent.query -> agent.chat,
        # tool.__call__ -> tool.call) is one step, not two.
        if kind is not None and owner != (id(instance), kind.kind):
            step = Step(kind, record, arguments, instance)
            record = step.record
            owner = (id(instance), kind.kind)
        model = model_info(instance) if is_model(instance) else None
        self.spans.put(span_id, SpanState(parent_id, record, owner, step, model))

    def exit(self, span_id: str, result: Any) -> None:
        state = self.spans.pop(span_id)
        call = self.calls.get(span_id)
        if call is not None:
            if _is_stream(result) and not call.finished:
                call.watch(result, partial(self._abandon, span_id))
            else:
                self.calls.pop(span_id)
                call.finish()
        if state is not None and state.step is not None:
            state.step.finish(result)

    def drop(self, span_id: str, instance: Any, error: BaseException | None) -> None:
        state = self.spans.pop(span_id)
        status: Status = "error" if error is None else _status(error)
        call = self.calls.pop(span_id)
        if call is None and state is not None and state.model is not None:
            call = self._failed_before_start(span_id, state, instance)
        if call is not None:
            call.finish(status, error if status == "error" else None)
        if state is not None and state.step is not None:
            state.step.finish(error=error if status == "error" else None, status=status)

    def _failed_before_start(self, span_id: str, state: SpanState, instance: Any) -> LLMCall | None:
        """An LLM method that raised before its start event (LlamaIndex validates the
        model name first) is still a failed call: record it once, at the innermost
        LLM method."""
        parent = self.spans.get(state.parent_id) if state.parent_id else None
        if parent is not None:
            parent.failure_recorded = True
        operation = _LLM_METHODS.get(span_method(span_id)[1])
        if operation is None or state.failure_recorded:
            return None
        model = getattr(instance, "model", None) or getattr(instance, "model_name", None)
        return LLMCall(
            operation=operation,
            model=model if isinstance(model, str) else None,
            parent=state.record,
            info=state.model or ModelInfo(),
            stream=span_method(span_id)[1].startswith(("stream", "astream")),
            inputs=None,
            request={},
        )

    # -- LLM events -------------------------------------------------------------------

    def llm_start(
        self,
        span_id: str | None,
        operation: str,
        model_dict: Any,
        inputs: Any,
        request: Any,
    ) -> None:
        if not span_id:
            return
        state = self.spans.get(span_id)
        outer = self._enclosing_call(state, LLMCall)
        if outer is not None:
            outer.wraps_inner_call = True
        method = span_method(span_id)[1]
        call = LLMCall(
            operation=operation,
            model=model_name(model_dict),
            parent=state.record if state else None,
            info=state.model if state and state.model else ModelInfo(),
            stream=method.startswith(("stream", "astream")),
            inputs=inputs,
            request=request if isinstance(request, dict) else {},
        )
        self._open(span_id, state, call)

    def llm_chunk(self, span_id: str | None, response: Any) -> None:
        call = self.calls.get(span_id) if span_id else None
        if isinstance(call, LLMCall):
            call.on_chunk(response)

    def llm_end(self, span_id: str | None, response: Any) -> None:
        call = self.calls.get(span_id) if span_id else None
        if isinstance(call, LLMCall):
            self.calls.pop(span_id)  # type: ignore[arg-type]
            call.on_end(response)
            call.finish()

    def exception(self, span_id: str | None, error: BaseException) -> None:
        call = self.calls.pop(span_id) if span_id else None
        if call is not None:
            status = _status(error)
            call.finish(status, error if status == "error" else None)

    # -- embedding events ---------------------------------------------------------------

    def embedding_start(self, span_id: str | None, model_dict: Any) -> None:
        if not span_id:
            return
        call = self.calls.get(span_id)
        if not isinstance(call, EmbeddingCall):
            state = self.spans.get(span_id)
            outer = self._enclosing_call(state, EmbeddingCall)
            if outer is not None:
                outer.wraps_inner_call = True
            call = EmbeddingCall(
                model=model_name(model_dict),
                parent=state.record if state else None,
                info=state.model if state and state.model else ModelInfo(),
            )
            self._open(span_id, state, call)
        call.on_start()

    def embedding_end(self, span_id: str | None, chunks: Any, embeddings: Any) -> None:
        call = self.calls.get(span_id) if span_id else None
        if isinstance(call, EmbeddingCall):
            call.on_end(chunks, embeddings)

    def embedding_call_here(self) -> EmbeddingCall | None:
        """The embedding call the current LlamaIndex span runs under, if any."""
        call = self._call_here(EmbeddingCall)
        return call if isinstance(call, EmbeddingCall) else None

    def llm_call_here(self) -> LLMCall | None:
        """The LLM call the current LlamaIndex span runs under, if any."""
        call = self._call_here(LLMCall)
        return call if isinstance(call, LLMCall) else None

    def _call_here(self, kind: type[ModelCall]) -> ModelCall | None:
        from llama_index.core.instrumentation.span import active_span_id

        span_id = active_span_id.get()
        for _ in range(_MAX_DEPTH):
            if span_id is None:
                return None
            call = self.calls.get(span_id)
            if isinstance(call, kind) and not call.finished:
                return call
            state = self.spans.get(span_id)
            if state is None:
                return None
            span_id = state.parent_id
        return None

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Remove the provider taps and finish everything still open as incomplete."""
        for tap in self.taps:
            tap.remove()
        for call in self.calls.clear():
            call.finish("incomplete")
        for state in self.spans.clear():
            if state.step is not None:
                state.step.abandon()

    # -- helpers -----------------------------------------------------------------------

    def _open(self, span_id: str, state: SpanState | None, call: ModelCall) -> None:
        previous = self.calls.get(span_id)
        if previous is not None:
            previous.finish()
        self.calls.put(span_id, call)
        if state is not None:
            state.record = call.record  # spans inside the call nest under it

    def _enclosing_call(self, state: SpanState | None, kind: type[ModelCall]) -> ModelCall | None:
        span_id = state.parent_id if state else None
        for _ in range(_MAX_DEPTH):
            if span_id is None:
                return None
            call = self.calls.get(span_id)
            if isinstance(call, kind) and not call.finished:
                return call
            parent = self.spans.get(span_id)
            if parent is None:
                return None
            span_id = parent.parent_id
        return None

    def _abandon(self, span_id: str) -> None:
        """A stream dropped unread or unfinished, without an exception event."""
        try:
            call = self.calls.pop(span_id)
            if call is not None:
                call.finish("incomplete")
        except Exception as exc:  # runs from the garbage collector
            report_fault("llamaindex.stream_dropped", exc)

    @staticmethod
    def _evict_span(state: SpanState) -> None:
        if state.step is not None:
            state.step.abandon()

    @staticmethod
    def _evict_call(call: ModelCall) -> None:
        call.finish("incomplete")


def _is_stream(result: Any) -> bool:
    return inspect.isgenerator(result) or inspect.isasyncgen(result)
