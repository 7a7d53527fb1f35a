"""Records for the framework spans that are kept: agents, queries, retrievals, tools.

On the caller's path a step keeps its call's arguments and result by reference; the
resolver turns them into short text (and retrieved documents) on llmtap's worker.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.faults import report_fault
from llmtap.generation import Generation, new_child_record
from llmtap.messages import Message, text_message
from llmtap.record import Record, Status
from llmtap_llamaindex.calls import INTEGRATION
from llmtap_llamaindex.kinds import AGENT, RETRIEVAL, TOOL, SpanKind

MAX_TEXT = 4000

_OPERATIONS = {AGENT: "invoke_agent", RETRIEVAL: "retrieval", TOOL: "execute_tool"}
# Where the question is, in the arguments of the methods `kinds.py` keeps.
_QUESTION_ARGUMENTS = (
    "str_or_query_bundle",
    "query_bundle",
    "query",
    "query_str",
    "message",
    "user_msg",
    "input",
    "start_event",
)
# Where the text is, on LlamaIndex's objects (QueryBundle, Response, AgentChatResponse,
# a workflow's start and stop events, AgentOutput, ToolCallResult, ToolOutput,
# ChatMessage), or in their dumps: a workflow agent's StopEvent holds a dict.
_TEXT_ATTRIBUTES = ("query_str", "user_msg", "response", "result", "tool_output", "content")


class Step:
    """One kept span's record, from span entry to exit."""

    __slots__ = ("arguments", "function", "generation", "kind")

    def __init__(
        self, kind: SpanKind, parent: Record | None, arguments: Mapping[str, Any], instance: Any
    ) -> None:
        record = new_child_record(kind.name, kind.kind, parent)
        record.integration = INTEGRATION
        record.operation = _OPERATIONS.get(kind.kind)
        self.kind = kind.kind
        self.arguments = _flat(arguments)
        # A FunctionTool's function names the positional arguments LlamaIndex passes.
        self.function = getattr(instance, "fn", None) if kind.kind == TOOL else None
        self.generation = Generation(record)

    @property
    def record(self) -> Record:
        return self.generation.record

    def finish(
        self, result: Any = None, error: BaseException | None = None, status: Status = "ok"
    ) -> None:
        if self.generation.finished:
            return
        self.record.resolver = partial(_resolve, self, result)
        self.generation.finish(status, error)

    def abandon(self) -> None:
        self.generation.finish("incomplete")


def describe(value: Any, depth: int = 0) -> str | None:
    """Short text for a question or an answer, whatever LlamaIndex object holds it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if depth < 4:
        if isinstance(value, Mapping):
            blocks = value.get("blocks")
            if isinstance(blocks, list):  # a dumped ChatMessage
                text = "".join(str(b.get("text") or "") for b in blocks if isinstance(b, Mapping))
                return describe(text, depth + 1)
            found = (value.get(name) for name in _TEXT_ATTRIBUTES)
        else:
            found = (getattr(value, name, None) for name in _TEXT_ATTRIBUTES)
        inner = next((item for item in found if item is not None and item is not value), None)
        if inner is not None:
            return describe(inner, depth + 1)
    try:
        return describe(repr(value), depth=4)
    except Exception as exc:  # a user's __repr__ must not break the record
        report_fault("llamaindex.describe", exc)
        return f"<{type(value).__name__}>"


def _flat(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Bound arguments with a `**kwargs` catch-all merged in (`Workflow.run(**kwargs)`)."""
    values = dict(arguments)
    extra = values.pop("kwargs", None)
    if isinstance(extra, Mapping):
        values.update(extra)
    return values


def _tool_arguments(function: Any, arguments: dict[str, Any]) -> str:
    values = dict(arguments)
    positional = values.pop("args", ())
    if positional and callable(function):
        try:
            values.update(inspect.signature(function).bind_partial(*positional).arguments)
            positional = ()
        except (TypeError, ValueError):
            pass
    if positional:
        values["args"] = list(positional)
    try:
        return json.dumps(values, default=repr, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(values)


def _documents(nodes: list[Any]) -> tuple[Message, list[dict[str, Any]]]:
    parts, ids = [], []
    for item in nodes:
        node = getattr(item, "node", item)
        entry = {"id": getattr(node, "node_id", None), "score": getattr(item, "score", None)}
        ids.append(entry)
        text = getattr(node, "text", None)
        parts.append({"type": "document", **entry, "content": describe(text)})
    return {"role": "documents", "parts": parts}, ids


def _resolve(step: Step, result: Any, record: Record) -> None:
    kind, arguments = step.kind, step.arguments
    if kind == TOOL:
        question: str | None = _tool_arguments(step.function, arguments)
    else:
        question = next(
            (describe(arguments[n]) for n in _QUESTION_ARGUMENTS if arguments.get(n) is not None),
            None,
        )
    if question is not None:
        record.input = [text_message("input", question)]
    if kind == RETRIEVAL and isinstance(result, list):
        message, ids = _documents(result)
        record.output = [message]
        record.metadata["documents"] = ids
        return
    answer = describe(result)
    if answer is not None:
        record.output = [text_message("output", answer)]
