"""`llmtap.log_generation()`: record a call made with any client llmtap does not hook."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from llmtap.generation import new_record
from llmtap.messages import input_messages, output_messages, tool_definitions
from llmtap.pipeline import PIPELINE
from llmtap.record import ErrorInfo, Record, Status, Usage

_USAGE_KEYS = {
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
}


def _epoch(value: float | dt.datetime, name: str) -> float:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"log_generation({name}=...) needs a timezone-aware datetime")
        return value.timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"log_generation({name}=...) takes epoch seconds or an aware datetime")


def _check_messages(value: Any, name: str, expected: str) -> None:
    if value is not None and not isinstance(value, (str, Iterable)):
        raise ValueError(f"log_generation({name}=...) takes {expected}, got {type(value).__name__}")


def _usage(usage: Mapping[str, Any] | Usage | None) -> Usage:
    if usage is None:
        return Usage()
    if isinstance(usage, Usage):
        return usage
    unknown = set(usage) - _USAGE_KEYS - {"total_tokens"}
    if unknown:
        raise ValueError(
            f"log_generation(usage=...) has unknown keys {sorted(unknown)}; "
            f"use {sorted(_USAGE_KEYS)}"
        )
    for key, value in usage.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise ValueError(f"log_generation(usage={{{key!r}: {value!r}}}) must be an int >= 0")
    return Usage(**{k: v for k, v in usage.items() if k in _USAGE_KEYS})


def log_generation(
    *,
    model: str,
    provider: str,
    input: Any = None,
    output: Any = None,
    usage: Mapping[str, Any] | Usage | None = None,
    operation: str = "chat",
    start_time: float | dt.datetime | None = None,
    end_time: float | dt.datetime | None = None,
    time_to_first_token_s: float | None = None,
    stream: bool = False,
    status: Status = "ok",
    error: BaseException | Mapping[str, Any] | None = None,
    finish_reason: str | None = None,
    response_model: str | None = None,
    response_id: str | None = None,
    settings: Mapping[str, Any] | None = None,
    tools: Sequence[Any] | None = None,
    cost_usd: float | None = None,
    provider_usage: Mapping[str, Any] | None = None,
    server_address: str | None = None,
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Record:
    """Record one LLM call made with any client, under the current span and context.

    `input` takes a prompt string or chat messages (OpenAI format or GenAI parts);
    `output` a completion string or assistant message(s). Times are epoch seconds or
    aware datetimes; without them the call is taken to end now.
    """
    if status not in ("ok", "error", "incomplete"):
        raise ValueError(f"log_generation(status={status!r}) must be 'ok', 'error' or 'incomplete'")
    record = new_record(name or f"{operation} {model}", "generation")
    end = time.time() if end_time is None else _epoch(end_time, "end_time")
    start = end if start_time is None else _epoch(start_time, "start_time")
    if start > end:
        raise ValueError("log_generation(start_time=...) is after end_time")
    _check_messages(input, "input", "a prompt string or a list of messages")
    _check_messages(output, "output", "a completion string or assistant message(s)")
    record.start_time, record.end_time, record.duration_s = start, end, end - start
    record.operation = operation
    record.provider = provider
    record.integration = "manual"
    record.request_model = model
    record.response_model = response_model or model
    record.response_id = response_id
    record.input = input_messages(input)
    record.output = output_messages(output, finish_reason)
    record.finish_reason = finish_reason
    record.usage = _usage(usage)
    record.time_to_first_token_s = time_to_first_token_s
    record.stream = stream
    record.settings = dict(settings or {})
    record.tools = tool_definitions(tools)
    record.cost_usd = cost_usd
    record.provider_usage = dict(provider_usage) if provider_usage is not None else None
    record.server_address = server_address
    record.tags = [*record.tags, *tags]
    record.metadata.update(metadata or {})
    record.status = status
    if isinstance(error, BaseException):
        record.status = "error"
        record.error = ErrorInfo(type(error).__name__, str(error))
    elif error is not None:
        record.status = "error"
        record.error = ErrorInfo(str(error.get("type", "Error")), str(error.get("message", "")))
    PIPELINE.submit(record)
    return record
