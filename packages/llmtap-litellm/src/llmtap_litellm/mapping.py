"""One LiteLLM call as an llmtap record, from what LiteLLM hands its loggers.

The cheap fields (model, provider, times, cost, status) are set when the call ends;
messages and usage are mapped by a resolver on llmtap's worker. Everything is read
from LiteLLM's own view of the call: its provider routing, its start and end times,
its `response_cost`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from llmtap.messages import field, tool_definitions
from llmtap.record import Record
from llmtap.usage import raw_usage
from llmtap_litellm import content
from llmtap_litellm.providers import genai_provider, reports_reasoning_tokens
from llmtap_litellm.usage import normalise

INTEGRATION = "llmtap-litellm"

_OPERATIONS = {
    "completion": "chat",
    "acompletion": "chat",
    "text_completion": "completion",
    "atext_completion": "completion",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "responses": "responses",
    "aresponses": "responses",
}

# Request options that say how to call, not how to generate.
_NOT_SETTINGS = frozenset(
    {"stream", "stream_options", "extra_body", "extra_headers", "tools", "instructions", "prompt"}
)


def operation_of(kwargs: Mapping[str, Any]) -> str:
    call_type = str(kwargs.get("call_type") or "completion")
    return _OPERATIONS.get(call_type, call_type)


def describe(
    record: Record,
    kwargs: Mapping[str, Any],
    start_time: Any,
    end_time: Any,
) -> tuple[float | None, float | None]:
    """Fill what identifies the call; return its (start, end) in epoch seconds."""
    logged = as_mapping(kwargs.get("standard_logging_object"))
    params = as_mapping(kwargs.get("litellm_params"))
    operation = operation_of(kwargs)
    model = kwargs.get("model")
    record.operation = operation
    record.integration = INTEGRATION
    record.request_model = model if isinstance(model, str) else None
    record.name = f"{operation} {record.request_model}" if record.request_model else operation
    routed = _str(kwargs.get("custom_llm_provider")) or _str(params.get("custom_llm_provider"))
    record.provider = genai_provider(routed)
    record.stream = bool(kwargs.get("stream"))
    record.settings = {
        key: value
        for key, value in as_mapping(kwargs.get("optional_params")).items()
        if key not in _NOT_SETTINGS and value is not None
    }
    record.server_address = _host(logged.get("api_base") or params.get("api_base"))
    record.metadata["litellm.call_id"] = kwargs.get("litellm_call_id")
    if routed:
        record.metadata["litellm.provider"] = routed
    _user_metadata(record, params.get("metadata"))
    start = _epoch(logged.get("startTime"), start_time)
    end = _epoch(logged.get("endTime"), end_time)
    if record.stream and start is not None:
        first = _epoch(logged.get("completionStartTime"), kwargs.get("completion_start_time"))
        if first is not None and end is not None and start <= first <= end:
            record.time_to_first_token_s = first - start
    return start, end


def record_response(record: Record, kwargs: Mapping[str, Any], response: Any) -> None:
    """Attach the response; `carries_usage` is False when a provider layer has the numbers."""
    record.response_id = _str(field(response, "id"))
    hidden = getattr(response, "_hidden_params", None) or {}
    record.response_model = _str(field(hidden, "provider_response_model")) or _str(
        field(response, "model")
    )
    record.resolver = _Resolver(kwargs, response)


def record_cost(record: Record, kwargs: Mapping[str, Any], *, carries_usage: bool) -> None:
    """LiteLLM's `response_cost`. LiteLLM reports 0 for a model missing from its price
    map, so 0 is taken as unknown and left to llmtap's own pricing."""
    cost = kwargs.get("response_cost")
    if not isinstance(cost, (int, float)) or isinstance(cost, bool) or cost <= 0:
        return
    if carries_usage:
        record.cost_usd = float(cost)
    else:  # the provider layer's record carries the call's numbers; keep LiteLLM's view
        record.metadata["litellm.response_cost"] = float(cost)


def record_request(record: Record, kwargs: Mapping[str, Any]) -> None:
    """Input messages for a call that failed (no response to resolve)."""
    record.resolver = _Resolver(kwargs, None)


class _Resolver:
    """Maps request and response to messages and usage on llmtap's worker."""

    __slots__ = ("call_type", "input", "instructions", "response", "tools")

    def __init__(self, kwargs: Mapping[str, Any], response: Any) -> None:
        operation = operation_of(kwargs)
        self.call_type = operation
        self.response = response
        if operation == "chat":
            messages = kwargs.get("messages")
            self.input: Any = list(messages) if isinstance(messages, list) else messages
        elif operation == "completion":
            prompt = as_mapping(kwargs.get("optional_params")).get("prompt")
            self.input = prompt if prompt is not None else kwargs.get("prompt")
            if self.input is None:
                self.input = _first_user_text(kwargs.get("messages"))
        else:
            value = kwargs.get("input")
            if value is None:  # LiteLLM keeps a Responses input as chat messages
                value = kwargs.get("messages")
            self.input = list(value) if isinstance(value, list) else value
        optional = as_mapping(kwargs.get("optional_params"))
        tools = optional.get("tools")
        self.tools = list(tools) if isinstance(tools, list) else None
        self.instructions = kwargs.get("instructions") or optional.get("instructions")

    def __call__(self, record: Record) -> None:
        operation = self.call_type
        response = self.response
        if operation == "chat":
            record.input, record.system_instructions = content.chat_input(self.input)
            record.output = content.chat_output(response) if response is not None else None
        elif operation == "completion":
            record.input = content.text_completion_input(self.input)
            record.output = content.chat_output(response) if response is not None else None
        elif operation == "responses":
            record.input = content.responses_input(self.input, self.instructions)
            record.output = content.responses_output(response) if response is not None else None
        elif operation == "embeddings":
            record.input = content.embedding_input(self.input)
            _embedding_shape(record, response)
        if self.tools is not None:
            record.tools = tool_definitions(self.tools)
        record.tool_calls = content.tool_calls_of(record.output)
        if record.output:
            record.finish_reason = record.output[0].get("finish_reason")
        if response is not None and record.kind == "generation":
            usage = field(response, "usage")
            record.usage = normalise(
                usage, exact_reasoning=reports_reasoning_tokens(record.provider)
            )
            if operation == "embeddings":
                record.usage.output_tokens = None  # embeddings produce no tokens
            record.provider_usage = raw_usage(usage)
            record.usage_estimated = record.stream and _counted_by_litellm(usage)


def _counted_by_litellm(usage: Any) -> bool:
    """A stream that reported no usage gets counts from LiteLLM's tokenizer; such a
    usage lacks the prompt details every provider-reported stream usage carries."""
    return (
        usage is not None
        and field(usage, "prompt_tokens_details") is None
        and (field(usage, "prompt_tokens") is not None)
    )


def _embedding_shape(record: Record, response: Any) -> None:
    data = field(response, "data")
    if not data:
        return
    record.metadata["embedding_count"] = len(data)
    vector = field(data[0], "embedding")
    if isinstance(vector, list):
        record.metadata["embedding_dimensions"] = len(vector)


def _first_user_text(messages: Any) -> Any:
    if isinstance(messages, list) and messages:
        return field(messages[0], "content")
    return None


def _user_metadata(record: Record, metadata: Any) -> None:
    """The caller's `metadata=` (LiteLLM adds its own bookkeeping there: skipped)."""
    if not isinstance(metadata, Mapping):
        return
    for key, value in metadata.items():
        if key == "tags" and isinstance(value, list):
            record.tags.extend(str(tag) for tag in value if str(tag) not in record.tags)
        elif key != "hidden_params" and isinstance(value, (str, int, float, bool)):
            record.metadata[key] = value


def _epoch(logged: Any, fallback: Any) -> float | None:
    if isinstance(logged, (int, float)) and not isinstance(logged, bool):
        return float(logged)
    if isinstance(fallback, dt.datetime):
        return fallback.timestamp()
    return None


def _host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    return urlsplit(url).hostname


def as_mapping(value: Any) -> Mapping[str, Any]:
    """One of LiteLLM's dicts, or an empty one when it is missing or not a mapping."""
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
