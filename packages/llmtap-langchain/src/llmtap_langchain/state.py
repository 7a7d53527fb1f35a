"""One LangChain run in flight, and the process-wide index of runs by run id.

A run holds its record and only the references its resolver needs; it is dropped when
the run ends, or evicted (and finished `incomplete`) when its handler holds too many.

The index is shared by every llmtap handler, for two reasons. A run is recorded once
even when two llmtap handlers see it (one passed in `callbacks`, one added by
`instrument()`): the first to start it claims it. And a run's parent is found even when
another llmtap handler recorded the parent. It holds runs weakly: each run is owned by
exactly one handler's bounded map, so the index can never outgrow them.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Iterable
from functools import partial
from typing import Any
from uuid import UUID

from llmtap.generation import Generation, error_info
from llmtap.handoff import FrameworkCall
from llmtap.record import Record
from llmtap_langchain import model, values

_index: weakref.WeakValueDictionary[UUID, Run] = weakref.WeakValueDictionary()
_index_lock = threading.Lock()


def claim(run: Run) -> bool:
    """Index `run`; False when another run with its id is already recorded."""
    with _index_lock:
        if _index.get(run.run_id) is not None:
            return False
        _index[run.run_id] = run
        return True


def find(run_id: UUID | None) -> Run | None:
    if run_id is None:
        return None
    with _index_lock:
        return _index.get(run_id)


def release(run: Run) -> None:
    with _index_lock:
        if _index.get(run.run_id) is run:
            del _index[run.run_id]


def is_abandonment(error: BaseException) -> bool:
    """Ends that are not failures: a stream dropped unread, a cancelled task, or a
    LangGraph interrupt or handoff (`GraphBubbleUp`), which pauses a graph by design."""
    if isinstance(error, (GeneratorExit, asyncio.CancelledError)):
        return True
    return any(cls.__name__ == "GraphBubbleUp" for cls in type(error).__mro__)


class Run:
    """A chain (or agent, or LangGraph node): inputs and outputs as bounded text."""

    __slots__ = ("__weakref__", "generation", "inputs", "run_id")

    def __init__(self, run_id: UUID, generation: Generation, inputs: Any = None) -> None:
        self.run_id = run_id
        self.generation = generation
        self.inputs = inputs

    @property
    def record(self) -> Record:
        return self.generation.record

    def succeed(self, output: Any) -> None:
        self.record.resolver = partial(values.resolve_chain, self.inputs, output)
        self.generation.finish()

    def fail(self, error: BaseException) -> None:
        self.record.resolver = partial(values.resolve_chain, self.inputs, None)
        self._finish_failed(error)

    def abandon(self) -> None:
        """Finish a run whose end never came (evicted): what is known is kept."""
        self.record.resolver = partial(values.resolve_chain, self.inputs, None)
        self.generation.finish("incomplete")

    def _finish_failed(self, error: BaseException) -> None:
        if is_abandonment(error):
            self.record.error = error_info(error)
            self.generation.finish("incomplete")
        else:
            self.generation.finish("error", error)


class ToolRun(Run):
    """A tool call: its arguments, and the result the tool returned."""

    __slots__ = ("call_id", "tool")

    def __init__(
        self, run_id: UUID, generation: Generation, tool: str, call_id: Any, arguments: Any
    ) -> None:
        super().__init__(run_id, generation, arguments)
        self.tool = tool
        self.call_id = call_id if isinstance(call_id, str) else None

    def succeed(self, output: Any) -> None:
        self.record.resolver = partial(self._resolve, output, True)
        self.generation.finish()

    def fail(self, error: BaseException) -> None:
        self.record.resolver = partial(self._resolve, None, False)
        self._finish_failed(error)

    def abandon(self) -> None:
        self.record.resolver = partial(self._resolve, None, False)
        self.generation.finish("incomplete")

    def _resolve(self, output: Any, has_output: bool, record: Record) -> None:
        # langchain-core 0.3 does not pass the call id at start; the ToolMessage has it.
        call_id = self.call_id or getattr(output, "tool_call_id", None)
        values.resolve_tool(self.tool, call_id, self.inputs, output, has_output, record)


class RetrievalRun(Run):
    """A retriever query and the documents it found."""

    __slots__ = ()

    def succeed(self, output: Any) -> None:
        # A retriever's result is not checked by LangChain: it may not be a list.
        documents = list(output) if isinstance(output, Iterable) else None
        self.record.resolver = partial(values.resolve_retrieval, self.inputs, documents)
        self.generation.finish()

    def fail(self, error: BaseException) -> None:
        self.record.resolver = partial(values.resolve_retrieval, self.inputs, None)
        self._finish_failed(error)

    def abandon(self) -> None:
        self.record.resolver = partial(values.resolve_retrieval, self.inputs, None)
        self.generation.finish("incomplete")


class ModelRun(Run):
    """A chat-model or LLM call: the framework step provider-layer records attach to."""

    __slots__ = ("call", "chunks", "first_output")

    def __init__(self, run_id: UUID, generation: Generation, request: model.ModelRequest) -> None:
        super().__init__(run_id, generation, request)
        self.call: FrameworkCall | None = None
        self.chunks = 0
        self.first_output = False

    def token(self, has_output: bool) -> None:
        """One streamed chunk; the first that carries output stamps time to first token."""
        self.chunks += 1
        if has_output and not self.first_output:
            self.first_output = True
            self.generation.mark_first_token()

    def _close(self, result: Any) -> None:
        """Stop adopting provider records; usage goes here only if none was made."""
        claimed = self.call.close() if self.call is not None else False
        record = self.record
        if self.chunks:
            record.stream = True
            record.chunks = self.chunks
        record.resolver = partial(model.resolve, self.inputs, result, not claimed)

    def succeed(self, output: Any) -> None:
        self._close(output)
        self.generation.finish()

    def fail(self, error: BaseException) -> None:
        self._close(None)
        self._finish_failed(error)

    def abandon(self) -> None:
        self._close(None)
        self.generation.finish("incomplete")
