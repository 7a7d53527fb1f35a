"""Which GenAI operation, span name and span kind a record becomes (conventions v1.41.0).

| record kind | operation | span name | span kind |
| --- | --- | --- | --- |
| generation, embedding | chat, text_completion, embeddings, other | `{op} {model}` | CLIENT |
| tool | execute_tool | `execute_tool {name}` | INTERNAL |
| retrieval | retrieval | `retrieval {name}` | CLIENT |
| agent (in process) | invoke_agent | `invoke_agent {name}` | INTERNAL |
| chain at the top of a run | invoke_workflow | `invoke_workflow {name}` | INTERNAL |
| nested chain, step, llm | none | the record's name | INTERNAL |

"other": llmtap's own operation name (image, speech...), which the open enum allows. An
`llm` record is a framework's LLM step whose provider call is its child generation.

A nested chain is plumbing (every LangChain runnable is one), not a workflow, and an `llm`
step must not look like a second inference: tokens are counted once, on its child.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.trace import SpanKind

from llmtap.record import Record

SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.0"

# llmtap's operation names that have a well-known GenAI value; others (image, speech,
# transcription...) are kept as they are, which the open enum allows.
_OPERATIONS = {
    "chat": "chat",
    "responses": "chat",
    "completion": "text_completion",
    "fim": "text_completion",
    "embeddings": "embeddings",
}


@dataclass(frozen=True, slots=True)
class SpanShape:
    name: str
    kind: SpanKind
    operation: str | None
    # A model call: request, response and usage attributes, and the client metrics.
    inference: bool = False


def span_shape(record: Record) -> SpanShape:
    kind, name = record.kind, record.name
    if kind in ("generation", "embedding"):
        default = "embeddings" if kind == "embedding" else "chat"
        operation = _OPERATIONS.get(record.operation or default, record.operation or default)
        model = record.request_model
        span_name = f"{operation} {model}" if model else operation
        return SpanShape(span_name, SpanKind.CLIENT, operation, inference=True)
    if kind == "tool":
        return SpanShape(f"execute_tool {name}", SpanKind.INTERNAL, "execute_tool")
    if kind in ("retrieval", "retriever"):
        return SpanShape(f"retrieval {name}", SpanKind.CLIENT, "retrieval")
    if kind == "agent":
        return SpanShape(f"invoke_agent {name}", SpanKind.INTERNAL, "invoke_agent")
    if kind == "chain" and record.parent_id is None:
        return SpanShape(f"invoke_workflow {name}", SpanKind.INTERNAL, "invoke_workflow")
    return SpanShape(name, SpanKind.INTERNAL, None)
