"""The one record schema every integration fills.

A record is built cheaply on the caller's path (plain attribute writes, monotonic and
wall-clock stamps) and turned into JSON-ready data by `to_dict()` in the background
worker, so formatting and serialisation never cost the caller anything.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from opentelemetry.trace import SpanContext

Status = Literal["ok", "error", "incomplete"]

_UTC = _dt.timezone.utc


@dataclass(slots=True)
class Usage:
    """Token counts, normalised the same way for every provider.

    `input_tokens` counts every billed input token (cache reads and cache writes
    included); `cached_input_tokens` and `cache_creation_input_tokens` break it down.
    `output_tokens` includes `reasoning_tokens`. A count the provider did not report is
    None, never 0.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    reasoning_tokens: int | None = None

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def to_dict(self) -> dict[str, int | None]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "reasoning_tokens": self.reasoning_tokens,
        }


@dataclass(slots=True)
class ErrorInfo:
    type: str
    message: str
    status_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "status_code": self.status_code}


@dataclass(slots=True, eq=False)
class Record:
    """One generation (an LLM call) or one span (chain, tool, step, ...) in a trace.

    Times are kept as epoch seconds (`start_time`, `end_time`) and monotonic durations;
    `to_dict()` renders ISO-8601 UTC. `resolver`, when set, is run once by the worker
    before export: integrations use it to map provider objects to messages off the
    caller's path.
    """

    id: str
    trace_id: str
    name: str
    kind: str = "generation"
    parent_id: str | None = None
    operation: str | None = None
    provider: str | None = None
    integration: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    response_id: str | None = None
    input: list[dict[str, Any]] | None = None
    output: list[dict[str, Any]] | None = None
    system_instructions: list[dict[str, Any]] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    stream: bool = False
    chunks: int | None = None
    start_time: float = 0.0
    end_time: float | None = None
    duration_s: float | None = None
    time_to_first_token_s: float | None = None
    cost_usd: float | None = None
    status: Status = "ok"
    error: ErrorInfo | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    thread_id: str | None = None
    user_id: str | None = None
    server_address: str | None = None
    provider_usage: dict[str, Any] | None = None
    usage_estimated: bool = False
    environment: str | None = None
    release: str | None = None
    resolver: Callable[[Record], None] | None = field(default=None, repr=False)
    # The OpenTelemetry span current when a root record started (OTel export on only).
    otel_parent: SpanContext | None = field(default=None, repr=False)

    @property
    def output_tokens_per_s(self) -> float | None:
        """Output tokens over generation time: from the first token for streams."""
        tokens = self.usage.output_tokens
        if not tokens or self.duration_s is None:
            return None
        seconds = self.duration_s
        if self.stream:
            if self.time_to_first_token_s is None:
                return None
            seconds -= self.time_to_first_token_s
        return tokens / seconds if seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain data (the documented record keys)."""
        return {
            "id": self.id,
            "trace_id": self.trace_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "kind": self.kind,
            "operation": self.operation,
            "provider": self.provider,
            "integration": self.integration,
            "request_model": self.request_model,
            "response_model": self.response_model,
            "response_id": self.response_id,
            "input": self.input,
            "output": self.output,
            "system_instructions": self.system_instructions,
            "settings": self.settings,
            "tools": self.tools,
            "tool_calls": self.tool_calls,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "stream": self.stream,
            "chunks": self.chunks,
            "start_time": iso_utc(self.start_time),
            "end_time": None if self.end_time is None else iso_utc(self.end_time),
            "duration_s": self.duration_s,
            "time_to_first_token_s": self.time_to_first_token_s,
            "output_tokens_per_s": self.output_tokens_per_s,
            "cost_usd": self.cost_usd,
            "status": self.status,
            "error": None if self.error is None else self.error.to_dict(),
            "tags": self.tags,
            "metadata": self.metadata,
            "thread_id": self.thread_id,
            "user_id": self.user_id,
            "server_address": self.server_address,
            "provider_usage": self.provider_usage,
            "usage_estimated": self.usage_estimated,
            "environment": self.environment,
            "release": self.release,
        }


def iso_utc(epoch_seconds: float) -> str:
    """ISO-8601 UTC with microseconds, e.g. 2026-11-22T02:07:28.123456+00:00."""
    return _dt.datetime.fromtimestamp(epoch_seconds, _UTC).isoformat(timespec="microseconds")
