"""Which LlamaIndex spans become records, and of which kind.

LlamaIndex opens a span for almost every method (`_query`, `get_response`,
`split_text`, `ReActOutputParser.parse`, each workflow step...). Recording them all
would bury the calls that matter, so only the spans a user reasons about are kept:

| instance | methods | kind |
| --- | --- | --- |
| workflow agent (`FunctionAgent`, `ReActAgent`, `AgentWorkflow`) | `run` | `agent` |
| legacy agent (`AgentRunner`, 0.12) | `chat`, `query` (+ async, stream) | `agent` |
| other `Workflow` | `run` | `chain` |
| query engine, chat engine | `query`, `chat` (+ async, stream) | `chain` |
| retriever | `retrieve`, `aretrieve` | `retrieval` |
| response synthesizer | `synthesize`, `asynthesize` | `chain` |
| node postprocessor (rerankers) | `postprocess_nodes` | `chain` |
| tool | `call`, `acall`, `__call__` | `tool` |
| LLM | `predict_and_call`, `structured_predict` (+ async, stream) | `chain` |

LLM calls and embeddings are not span records: their generation records come from the
start and end events inside the span (see `llm.py`, `embeddings.py`). Every other span
is transparent: its children attach to the nearest kept ancestor.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import NamedTuple

AGENT, CHAIN, RETRIEVAL, TOOL = "agent", "chain", "retrieval", "tool"

_RUN = frozenset({"chat", "achat", "stream_chat", "astream_chat", "query", "aquery"})
_QUERY = frozenset({"query", "aquery"})
_CHAT = frozenset({"chat", "achat", "stream_chat", "astream_chat"})
_LLM_STEPS = frozenset(
    {
        "predict_and_call",
        "apredict_and_call",
        "structured_predict",
        "astructured_predict",
        "stream_structured_predict",
        "astream_structured_predict",
    }
)

# (module, class) pairs; a line that lacks one simply never matches it.
_WORKFLOW_AGENTS = (
    ("llama_index.core.agent.workflow", "BaseWorkflowAgent"),
    ("llama_index.core.agent.workflow", "AgentWorkflow"),
)
_LEGACY_AGENTS = (("llama_index.core.base.agent.types", "BaseAgent"),)
_WORKFLOWS = (("workflows", "Workflow"), ("llama_index.core.workflow", "Workflow"))
_QUERY_ENGINES = (("llama_index.core.base.base_query_engine", "BaseQueryEngine"),)
_CHAT_ENGINES = (("llama_index.core.chat_engine.types", "BaseChatEngine"),)
_RETRIEVERS = (("llama_index.core.base.base_retriever", "BaseRetriever"),)
_SYNTHESIZERS = (("llama_index.core.response_synthesizers.base", "BaseSynthesizer"),)
_POSTPROCESSORS = (("llama_index.core.postprocessor.types", "BaseNodePostprocessor"),)
_TOOLS = (("llama_index.core.tools.types", "BaseTool"),)
_LLMS = (("llama_index.core.llms.llm", "LLM"),)
_MODELS = (
    ("llama_index.core.base.llms.base", "BaseLLM"),
    ("llama_index.core.base.embeddings.base", "BaseEmbedding"),
)


class SpanKind(NamedTuple):
    kind: str
    name: str


@cache
def _classes(names: tuple[tuple[str, str], ...]) -> tuple[type, ...]:
    found = []
    for module, name in names:
        try:
            cls = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def _is(instance: object, names: tuple[tuple[str, str], ...]) -> bool:
    classes = _classes(names)
    return bool(classes) and isinstance(instance, classes)


def span_method(span_id: str) -> tuple[str, str]:
    """`("OpenAI", "chat")` from `"OpenAI.chat-<uuid4>"` (the dispatcher's span ids)."""
    qualified = span_id[:-37] if len(span_id) > 37 and span_id[-37] == "-" else span_id
    owner, _, method = qualified.rpartition(".")
    return owner, method


def classify(instance: object, span_id: str) -> SpanKind | None:
    """The record a span becomes, or None for a span that is not recorded."""
    if instance is None:
        return None
    owner, method = span_method(span_id)
    label = f"{owner}.{method}"
    if _is(instance, _WORKFLOW_AGENTS):
        return SpanKind(AGENT, f"invoke_agent {owner}") if method == "run" else None
    if _is(instance, _LEGACY_AGENTS):
        return SpanKind(AGENT, f"invoke_agent {owner}") if method in _RUN else None
    if _is(instance, _WORKFLOWS):
        return SpanKind(CHAIN, label) if method == "run" else None
    if method in _QUERY and _is(instance, _QUERY_ENGINES):
        return SpanKind(CHAIN, label)
    if method in _CHAT and _is(instance, _CHAT_ENGINES):
        return SpanKind(CHAIN, label)
    if method in ("retrieve", "aretrieve") and _is(instance, _RETRIEVERS):
        return SpanKind(RETRIEVAL, label)
    if method in ("synthesize", "asynthesize") and _is(instance, _SYNTHESIZERS):
        return SpanKind(CHAIN, label)
    if method in ("postprocess_nodes", "apostprocess_nodes") and _is(instance, _POSTPROCESSORS):
        return SpanKind(CHAIN, label)
    if method in ("call", "acall", "__call__") and _is(instance, _TOOLS):
        return SpanKind(TOOL, f"execute_tool {_tool_name(instance) or owner}")
    if method in _LLM_STEPS and _is(instance, _LLMS):
        return SpanKind(CHAIN, label)
    return None


def is_model(instance: object) -> bool:
    """An LLM or an embedding model: its spans say which provider a call goes to."""
    return instance is not None and _is(instance, _MODELS)


def preload() -> None:
    """Import the classes matched above now, not inside the first traced call."""
    for names in (
        _WORKFLOW_AGENTS,
        _LEGACY_AGENTS,
        _WORKFLOWS,
        _QUERY_ENGINES,
        _CHAT_ENGINES,
        _RETRIEVERS,
        _SYNTHESIZERS,
        _POSTPROCESSORS,
        _TOOLS,
        _LLMS,
        _MODELS,
    ):
        _classes(names)


def _tool_name(tool: object) -> str | None:
    metadata = getattr(tool, "metadata", None)
    name = getattr(metadata, "name", None)
    return name if isinstance(name, str) else None
