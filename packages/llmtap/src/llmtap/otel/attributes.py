"""A record's span attributes, named as the GenAI conventions v1.41.0 name them.

Numbers and identifiers are always set; prompts, completions, instructions, tool
definitions and tool arguments only with content capture on, as JSON strings (the
Python API takes no structured attribute values). What the conventions have no name for
goes under `llmtap.*`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.util.types import AttributeValue

from llmtap.exporters.encoding import encode_json
from llmtap.otel.semconv import SpanShape
from llmtap.record import Record

Attributes = dict[str, AttributeValue]

# Request settings as providers name them -> (attribute, type). The first of several
# names for one attribute wins (max_tokens before max_completion_tokens, ...).
_SETTINGS: tuple[tuple[str, str, type], ...] = (
    ("temperature", "gen_ai.request.temperature", float),
    ("top_p", "gen_ai.request.top_p", float),
    ("top_k", "gen_ai.request.top_k", float),
    ("max_tokens", "gen_ai.request.max_tokens", int),
    ("max_completion_tokens", "gen_ai.request.max_tokens", int),
    ("max_output_tokens", "gen_ai.request.max_tokens", int),
    ("seed", "gen_ai.request.seed", int),
    ("random_seed", "gen_ai.request.seed", int),
    ("presence_penalty", "gen_ai.request.presence_penalty", float),
    ("frequency_penalty", "gen_ai.request.frequency_penalty", float),
    ("dimensions", "gen_ai.embeddings.dimension.count", int),
    ("output_dimension", "gen_ai.embeddings.dimension.count", int),
)

_USAGE = (
    ("input_tokens", "gen_ai.usage.input_tokens"),
    ("output_tokens", "gen_ai.usage.output_tokens"),
    ("cached_input_tokens", "gen_ai.usage.cache_read.input_tokens"),
    ("cache_creation_input_tokens", "gen_ai.usage.cache_creation.input_tokens"),
    ("reasoning_tokens", "gen_ai.usage.reasoning.output_tokens"),
)

# The attributes every GenAI client metric data point carries, when the span has them.
METRIC_KEYS = (
    "gen_ai.operation.name",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "server.address",
)


def span_attributes(record: Record, shape: SpanShape, capture_content: bool) -> Attributes:
    attributes: Attributes = {"llmtap.kind": record.kind}
    if shape.operation is not None:
        attributes["gen_ai.operation.name"] = shape.operation
    if shape.inference:
        _inference(record, attributes)
    elif shape.operation == "execute_tool":
        attributes["gen_ai.tool.name"] = record.name
    elif shape.operation == "invoke_agent":
        attributes["gen_ai.agent.name"] = record.name
    elif shape.operation == "invoke_workflow":
        attributes["gen_ai.workflow.name"] = record.name
    elif record.request_model is not None:  # a framework's llm step
        attributes["llmtap.request_model"] = record.request_model
    if record.status == "error":
        attributes["error.type"] = (record.error.type if record.error else None) or "_OTHER"
    elif record.status != "ok":
        attributes["llmtap.status"] = record.status
    _context(record, attributes)
    if capture_content:
        _content(record, shape, attributes)
    return attributes


def _inference(record: Record, attributes: Attributes) -> None:
    _put(attributes, "gen_ai.provider.name", record.provider)
    _put(attributes, "gen_ai.request.model", record.request_model)
    _put(attributes, "server.address", record.server_address)
    _settings(record.settings, attributes)
    if record.stream:
        attributes["gen_ai.request.stream"] = True
        _put(attributes, "gen_ai.response.time_to_first_chunk", record.time_to_first_token_s)
    _put(attributes, "gen_ai.response.id", record.response_id)
    _put(attributes, "gen_ai.response.model", record.response_model)
    reasons = finish_reasons(record)
    if reasons:
        attributes["gen_ai.response.finish_reasons"] = reasons
    for field, name in _USAGE:
        _put(attributes, name, getattr(record.usage, field))
    if record.usage_estimated:
        attributes["llmtap.usage_estimated"] = True
    _put(attributes, "llmtap.cost_usd", record.cost_usd)


def _settings(settings: Mapping[str, Any], attributes: Attributes) -> None:
    for key, name, kind in _SETTINGS:
        value = settings.get(key)
        if (
            name not in attributes
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            attributes[name] = kind(value)
    choices = settings.get("n", settings.get("candidate_count"))
    if _number(choices) and choices != 1:
        attributes["gen_ai.request.choice.count"] = choices
    stop = settings.get("stop", settings.get("stop_sequences"))
    if isinstance(stop, str):
        attributes["gen_ai.request.stop_sequences"] = (stop,)
    elif isinstance(stop, Sequence) and stop and all(isinstance(s, str) for s in stop):
        attributes["gen_ai.request.stop_sequences"] = tuple(stop)
    encoding = settings.get("encoding_format")
    if isinstance(encoding, str):
        attributes["gen_ai.request.encoding_formats"] = (encoding,)
    output_type = _output_type(settings.get("response_format"))
    if output_type is not None:
        attributes["gen_ai.output.type"] = output_type


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _output_type(response_format: Any) -> str | None:
    """`json` for JSON mode or a JSON schema, `text` for plain text, else not set."""
    kind = response_format.get("type") if isinstance(response_format, Mapping) else response_format
    if not isinstance(kind, str):
        return None
    if "json" in kind.lower():
        return "json"
    return "text" if kind == "text" else None


def finish_reasons(record: Record) -> tuple[str, ...]:
    """One per choice when the output is kept, else the record's one reason."""
    reasons = [m.get("finish_reason") for m in record.output or ()]
    if reasons and all(isinstance(r, str) for r in reasons):
        return tuple(r for r in reasons if isinstance(r, str))
    return (record.finish_reason,) if record.finish_reason else ()


def _context(record: Record, attributes: Attributes) -> None:
    _put(attributes, "gen_ai.conversation.id", record.thread_id)
    _put(attributes, "user.id", record.user_id)
    _put(attributes, "llmtap.integration", record.integration)
    _put(attributes, "llmtap.environment", record.environment)
    _put(attributes, "llmtap.release", record.release)
    if record.tags:
        attributes["llmtap.tags"] = tuple(str(tag) for tag in record.tags)
    for key, value in record.metadata.items():
        attributes[f"llmtap.metadata.{key}"] = _scalar(value)


def _scalar(value: Any) -> AttributeValue:
    """An attribute value as given when OpenTelemetry takes it, else as JSON text."""
    if isinstance(value, (str, bool, int, float)):
        return value
    return encode_json(value)


def _content(record: Record, shape: SpanShape, attributes: Attributes) -> None:
    if shape.operation == "execute_tool":
        _put(attributes, "gen_ai.tool.call.arguments", _text(record.input))
        _put(attributes, "gen_ai.tool.call.result", _text(record.output))
        return
    if shape.operation == "retrieval":
        _put(attributes, "gen_ai.retrieval.query.text", _text(record.input))
    elif record.input is not None:
        attributes["gen_ai.input.messages"] = encode_json(record.input)
    if record.output is not None:
        attributes["gen_ai.output.messages"] = encode_json(record.output)
    if record.system_instructions is not None:
        attributes["gen_ai.system_instructions"] = encode_json(record.system_instructions)
    if record.tools is not None:
        attributes["gen_ai.tool.definitions"] = encode_json(record.tools)


def _text(messages: list[dict[str, Any]] | None) -> str | None:
    """The text parts of a span's input or output (a tool's arguments, a query)."""
    if not messages:
        return None
    texts = [
        part["content"]
        for message in messages
        for part in message.get("parts", ())
        if part.get("type") == "text" and isinstance(part.get("content"), str)
    ]
    return "".join(texts) if texts else encode_json(messages)


def _put(attributes: Attributes, name: str, value: AttributeValue | None) -> None:
    if value is not None:
        attributes[name] = value
