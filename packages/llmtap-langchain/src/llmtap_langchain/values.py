"""Chain, tool and retriever values as record content (mapped on the worker).

A chain's inputs and outputs can be anything (a LangGraph state, messages, pydantic
objects), so they are kept as one bounded JSON text, like `llmtap.span()` does. Tool
runs become a tool call and its response, and retrievals their documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from llmtap.messages import text_message
from llmtap.record import Record
from llmtap_langchain.messages import role_of

MAX_VALUE_CHARS = 4000


def describe(value: Any) -> str:
    """Bounded, readable text for any value; never raises."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, default=_jsonable, ensure_ascii=False)
        except Exception:  # a cycle, or an object whose repr fails
            try:
                text = repr(value)
            except Exception:
                text = f"<unrepresentable {type(value).__name__}>"
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _jsonable(value: Any) -> Any:
    if hasattr(value, "content") and hasattr(value, "type"):  # a LangChain message
        result: dict[str, Any] = {"role": role_of(value), "content": value.content}
        calls = getattr(value, "tool_calls", None)
        if calls:
            result["tool_calls"] = calls
        return result
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return repr(value)


def resolve_chain(inputs: Any, outputs: Any, record: Record) -> None:
    if inputs is not None:
        record.input = [text_message("input", describe(inputs))]
    if outputs is not None:
        record.output = [text_message("output", describe(outputs))]


def resolve_tool(
    name: str,
    call_id: str | None,
    arguments: Any,
    output: Any,
    has_output: bool,
    record: Record,
) -> None:
    call = {"type": "tool_call", "id": call_id, "name": name, "arguments": arguments}
    record.input = [{"role": "assistant", "parts": [call]}]
    if has_output:
        response: dict[str, Any] = {
            "type": "tool_call_response",
            "id": call_id,
            "response": _tool_response(output),
        }
        record.output = [{"role": "tool", "parts": [response]}]


def _tool_response(output: Any) -> Any:
    # A tool called with a tool call returns a ToolMessage; plain tools return anything.
    content = getattr(output, "content", output)
    if isinstance(content, (str, int, float, bool)) or content is None:
        return content
    return describe(content)


def resolve_retrieval(query: str, documents: Sequence[Any] | None, record: Record) -> None:
    record.input = [text_message("user", query)]
    if documents is None:
        return
    parts = []
    for document in documents:
        part: dict[str, Any] = {
            "type": "document",
            "content": getattr(document, "page_content", None),
        }
        document_id = getattr(document, "id", None)
        if document_id is not None:
            part["id"] = document_id
        metadata = getattr(document, "metadata", None)
        if isinstance(metadata, Mapping) and metadata:
            part["metadata"] = dict(metadata)
        parts.append(part)
    record.output = [{"role": "tool", "parts": parts}]
    record.metadata["documents"] = len(parts)
