"""The callback handler: LangChain runs in, nested llmtap records out.

Every hook runs inline (`run_inline = True`), in the caller's thread and context, for
sync and async runs alike, and does O(1) work: it starts or finishes a record and keeps
references. Parents come from `parent_run_id`, never from a context that LangChain may
have switched; a run without a parent nests under the current llmtap span. Any fault in
llmtap's own code is counted and logged, never raised into the application.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from llmtap.faults import report_fault
from llmtap.generation import Generation, new_child_record, tracing_enabled
from llmtap.handoff import open_framework_call
from llmtap.record import Record
from llmtap.runs import DEFAULT_LIMIT, OpenRuns
from llmtap_langchain import model, state

INTEGRATION = "llmtap-langchain"

F = TypeVar("F", bound=Callable[..., None])

# LangChain's bookkeeping, not the user's: step counters and tracing flags.
_INTERNAL_TAG_PREFIXES = ("seq:step:", "graph:step:", "langsmith:")
# `ls_*` become record fields; LangGraph's own keys are noise, except the node's name
# and step, which say where in a graph a record comes from.
_INTERNAL_KEY_PREFIXES = ("ls_", "langgraph_", "__pregel", "checkpoint_", "lc_")
_KEPT_KEYS = frozenset({"langgraph_node", "langgraph_step"})
_INTERNAL_KEYS = frozenset({"checkpoint_ns", "lc_versions"})


def _guarded(where: str) -> Callable[[F], F]:
    def decorate(hook: F) -> F:
        @functools.wraps(hook)
        def guarded(*args: Any, **kwargs: Any) -> None:
            try:
                hook(*args, **kwargs)
            except Exception as exc:
                report_fault(where, exc)

        return guarded  # type: ignore[return-value]

    return decorate


class LlmtapCallbackHandler(BaseCallbackHandler):
    """Records LangChain and LangGraph runs. Create it with `llmtap.langchain_callback()`."""

    run_inline = True
    raise_error = False

    def __init__(self, *, max_open_runs: int = DEFAULT_LIMIT) -> None:
        self._runs: OpenRuns[UUID, state.Run] = OpenRuns(_evict, limit=max_open_runs)
        # False: start no new records (runs in flight still finish). `uninstrument()`
        # uses it, since langchain-core cannot unregister a configure hook.
        self.enabled = True

    @property
    def max_open_runs(self) -> int:
        return self._runs.limit

    @max_open_runs.setter
    def max_open_runs(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_open_runs must be at least 1, got {limit}")
        self._runs.limit = limit

    @property
    def open_runs(self) -> int:
        """Runs started and not yet ended (bounded by `max_open_runs`)."""
        return len(self._runs)

    # Events llmtap does not record: LangChain then skips the call altogether.
    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True

    # -- starting runs -------------------------------------------------------------

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        kind: str,
        tags: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        make: Callable[[Generation], state.Run],
    ) -> state.Run | None:
        if not (self.enabled and tracing_enabled()) or state.find(run_id) is not None:
            return None
        parent = state.find(parent_run_id)
        record = new_child_record(name, kind, None if parent is None else parent.record)
        record.integration = INTEGRATION
        _annotate(record, tags, metadata)
        run = make(Generation(record))
        if not state.claim(run):  # another llmtap handler started it meanwhile
            return None
        self._runs.put(run_id, run)
        return run

    @_guarded("langchain.chain_start")
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        # The classic agent loop is a chain; others are found by their agent actions.
        kind = "agent" if _run_name({}, serialized, "") == "AgentExecutor" else "chain"
        snapshot = dict(inputs) if isinstance(inputs, Mapping) else inputs
        self._start(
            run_id,
            parent_run_id,
            _run_name(kwargs, serialized, "chain"),
            kind,
            tags,
            metadata,
            lambda generation: state.Run(run_id, generation, snapshot),
        )

    @_guarded("langchain.chat_model_start")
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        prompt = messages[0] if len(messages) == 1 else [m for batch in messages for m in batch]
        self._start_model("chat", prompt, serialized, run_id, parent_run_id, tags, metadata, kwargs)

    @_guarded("langchain.llm_start")
    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        prompt = prompts[0] if len(prompts) == 1 else "\n".join(prompts)
        self._start_model(
            "text_completion", prompt, serialized, run_id, parent_run_id, tags, metadata, kwargs
        )

    def _start_model(
        self,
        operation: str,
        prompt: Sequence[Any] | str,
        serialized: dict[str, Any] | None,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: dict[str, Any] | None,
        kwargs: Mapping[str, Any],
    ) -> None:
        params = kwargs.get("invocation_params")
        params = params if isinstance(params, Mapping) else {}
        run_metadata = metadata if isinstance(metadata, Mapping) else {}
        request = model.ModelRequest(prompt, params)
        run = self._start(
            run_id,
            parent_run_id,
            _run_name(kwargs, serialized, operation),
            "generation",
            tags,
            metadata,
            lambda generation: state.ModelRun(run_id, generation, request),
        )
        if not isinstance(run, state.ModelRun):
            return
        record = run.record
        record.operation = operation
        record.provider = model.provider_of(run_metadata)
        record.request_model = model.request_model(params, run_metadata)
        record.stream = params.get("stream") is True or params.get("streaming") is True
        # Set in this context, where the model's SDK call is about to be made: a
        # provider-layer record made there becomes this run's child and carries usage.
        run.call = open_framework_call(run.generation)

    @_guarded("langchain.tool_start")
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        tool = _run_name({}, serialized, "tool")
        arguments = dict(inputs) if isinstance(inputs, Mapping) else input_str
        call_id = kwargs.get("tool_call_id")
        run = self._start(
            run_id,
            parent_run_id,
            _run_name(kwargs, serialized, "tool"),
            "tool",
            tags,
            metadata,
            lambda generation: state.ToolRun(run_id, generation, tool, call_id, arguments),
        )
        if run is not None:
            run.record.operation = "execute_tool"

    @_guarded("langchain.retriever_start")
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        run = self._start(
            run_id,
            parent_run_id,
            _run_name(kwargs, serialized, "retriever"),
            "retrieval",
            tags,
            metadata,
            lambda generation: state.RetrievalRun(run_id, generation, query),
        )
        if run is not None:
            run.record.operation = "retrieval"

    # -- during runs ---------------------------------------------------------------

    @_guarded("langchain.llm_new_token")
    def on_llm_new_token(
        self, token: Any, *, chunk: Any = None, run_id: UUID, **kwargs: Any
    ) -> None:
        run = self._runs.get(run_id)
        if isinstance(run, state.ModelRun):
            run.token(_carries_output(token, chunk))

    @_guarded("langchain.agent_action")
    def on_agent_action(self, action: Any, *, run_id: UUID, **kwargs: Any) -> None:
        # Only an agent loop reports actions: its run is an agent, whatever its name.
        run = self._runs.get(run_id)
        if run is not None:
            run.record.kind = "agent"

    # -- ending runs ---------------------------------------------------------------

    def _end(self, run_id: UUID, kwargs: Mapping[str, Any]) -> state.Run | None:
        run = self._runs.pop(run_id)
        if run is None:
            return None
        state.release(run)
        # A streamed chain starts with a placeholder input and reports the real,
        # fully streamed input when it ends.
        inputs = kwargs.get("inputs")
        if inputs is not None and type(run) is state.Run:
            run.inputs = inputs
        return run

    # A run is out of the map once `_end` returns it: if reading its output faults, its
    # record is still finished (with what was known) rather than lost.

    def _succeed(self, run_id: UUID, output: Any, kwargs: Mapping[str, Any]) -> None:
        run = self._end(run_id, kwargs)
        if run is not None:
            try:
                run.succeed(output)
            finally:
                run.generation.finish()

    def _fail(self, run_id: UUID, error: BaseException, kwargs: Mapping[str, Any]) -> None:
        run = self._end(run_id, kwargs)
        if run is not None:
            try:
                run.fail(error)
            finally:
                run.generation.finish("error")

    @_guarded("langchain.chain_end")
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._succeed(run_id, outputs, kwargs)

    @_guarded("langchain.chain_error")
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error, kwargs)

    @_guarded("langchain.llm_end")
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._succeed(run_id, response, kwargs)

    @_guarded("langchain.llm_error")
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error, kwargs)

    @_guarded("langchain.tool_end")
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._succeed(run_id, output, kwargs)

    @_guarded("langchain.tool_error")
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error, kwargs)

    @_guarded("langchain.retriever_end")
    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._succeed(run_id, documents, kwargs)

    @_guarded("langchain.retriever_error")
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._fail(run_id, error, kwargs)


def _evict(run: state.Run) -> None:
    state.release(run)
    run.abandon()


def _run_name(kwargs: Mapping[str, Any], serialized: Mapping[str, Any] | None, default: str) -> str:
    """The `run_name` the caller gave, else the runnable's own name."""
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if isinstance(serialized, Mapping):
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        path = serialized.get("id")
        if isinstance(path, list) and path and isinstance(path[-1], str):
            return path[-1]
    return default


def _annotate(
    record: Record, tags: Sequence[str] | None, metadata: Mapping[Any, Any] | None
) -> None:
    # LangChain passes tags and metadata on as the caller gave them, unchecked: a tag
    # or key that is not a string is skipped rather than losing the run's record.
    if tags:
        for tag in tags:
            if (
                isinstance(tag, str)
                and not tag.startswith(_INTERNAL_TAG_PREFIXES)
                and tag not in record.tags
            ):
                record.tags.append(tag)
    if not isinstance(metadata, Mapping):
        return
    for key, value in metadata.items():
        if not isinstance(key, str):
            continue
        if key == "thread_id" or key == "session_id":
            # LangGraph copies `configurable.thread_id` here: the conversation.
            if record.thread_id is None and isinstance(value, (str, int)):
                record.thread_id = str(value)
        elif key == "user_id":
            if record.user_id is None and isinstance(value, (str, int)):
                record.user_id = str(value)
        elif key in _KEPT_KEYS or not (
            key in _INTERNAL_KEYS or key.startswith(_INTERNAL_KEY_PREFIXES)
        ):
            record.metadata[key] = value


def _carries_output(token: Any, chunk: Any) -> bool:
    """Whether a streamed chunk holds output (text, reasoning or a tool call), not just
    a role, an empty delta or usage."""
    if isinstance(token, str):
        if token:
            return True
    elif token and any(_block_has_output(block) for block in token):
        return True
    message = getattr(chunk, "message", None)
    if message is None:
        return False
    if getattr(message, "tool_call_chunks", None):
        return True
    content = getattr(message, "content", None)
    return isinstance(content, list) and any(_block_has_output(block) for block in content)


def _block_has_output(block: Any) -> bool:
    if isinstance(block, str):
        return bool(block)
    if isinstance(block, Mapping):
        if block.get("type") in ("tool_use", "tool_call_chunk", "server_tool_use"):
            return True
        return any(block.get(key) for key in ("text", "thinking", "reasoning", "partial_json"))
    return False
