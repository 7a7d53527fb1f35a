"""The span handler and the event handler llmtap adds to LlamaIndex's root dispatcher.

Both only forward to the `Tracker`, inside a guard: LlamaIndex swallows handler
exceptions itself, but llmtap counts and logs them once (`llmtap.stats()["faults"]`).
The span handler keeps no spans of its own (`new_span` returns None), so LlamaIndex's
unbounded `open_spans`/`completed_spans` lists stay empty; the tracker's bounded maps
hold the state instead.
"""

from __future__ import annotations

import inspect
from typing import Any

from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.span import SimpleSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from pydantic import PrivateAttr

from llmtap.faults import report_fault
from llmtap.generation import tracing_enabled
from llmtap_llamaindex.tracker import Tracker

SPAN_HANDLER_NAME = "LlmtapSpanHandler"
EVENT_HANDLER_NAME = "LlmtapEventHandler"


class LlmtapSpanHandler(BaseSpanHandler[SimpleSpan]):
    _tracker: Tracker = PrivateAttr()

    def __init__(self, tracker: Tracker) -> None:
        super().__init__()
        self._tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        return SPAN_HANDLER_NAME

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> SimpleSpan | None:
        if tracing_enabled():
            try:
                self._tracker.enter(id_, instance, parent_span_id, bound_args.arguments)
            except Exception as exc:
                report_fault("llamaindex.span_enter", exc)
        return None

    def prepare_to_exit_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> SimpleSpan | None:
        try:
            self._tracker.exit(id_, result)
        except Exception as exc:
            report_fault("llamaindex.span_exit", exc)
        return None

    def prepare_to_drop_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> SimpleSpan | None:
        try:
            self._tracker.drop(id_, instance, err)
        except Exception as exc:
            report_fault("llamaindex.span_drop", exc)
        return None

    def close(self) -> None:
        """Called by `Dispatcher.shutdown()` and by `uninstrument()`."""
        try:
            self._tracker.close()
        except Exception as exc:
            report_fault("llamaindex.close", exc)


class LlmtapEventHandler(BaseEventHandler):
    _tracker: Tracker = PrivateAttr()

    def __init__(self, tracker: Tracker) -> None:
        super().__init__()
        self._tracker = tracker

    @classmethod
    def class_name(cls) -> str:
        return EVENT_HANDLER_NAME

    def handle(self, event: Any, **kwargs: Any) -> None:
        try:
            self._dispatch(event)
        except Exception as exc:
            report_fault("llamaindex.event", exc)

    def _dispatch(self, event: Any) -> None:
        name = event.class_name()
        tracker = self._tracker
        span_id = event.span_id
        if name == "LLMChatInProgressEvent" or name == "LLMCompletionInProgressEvent":
            tracker.llm_chunk(span_id, event.response)
        elif name == "LLMChatStartEvent":
            if tracing_enabled():
                tracker.llm_start(
                    span_id, "chat", event.model_dict, event.messages, event.additional_kwargs
                )
        elif name == "LLMCompletionStartEvent":
            if tracing_enabled():
                tracker.llm_start(
                    span_id,
                    "text_completion",
                    event.model_dict,
                    event.prompt,
                    event.additional_kwargs,
                )
        elif name == "LLMChatEndEvent" or name == "LLMCompletionEndEvent":
            tracker.llm_end(span_id, event.response)
        elif name == "EmbeddingStartEvent":
            if tracing_enabled():
                tracker.embedding_start(span_id, event.model_dict)
        elif name == "EmbeddingEndEvent":
            tracker.embedding_end(span_id, event.chunks, event.embeddings)
        elif name == "ExceptionEvent":
            tracker.exception(span_id, event.exception)
