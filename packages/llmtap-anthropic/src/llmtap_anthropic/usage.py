"""Anthropic usage: merged across stream events, then normalised to `Usage`.

Anthropic's `input_tokens` excludes cached tokens, unlike OpenAI's `prompt_tokens`; llmtap's
`input_tokens` counts every billed input token, so cache reads and cache writes are added
in. `output_tokens` already includes thinking.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import field
from llmtap.record import Usage
from llmtap.usage import raw_usage, token_count


def merge_usage(*usages: Any) -> dict[str, Any] | None:
    """Usage objects (message_start's, then message_delta's) merged field by field.

    A later non-null value wins and nothing is overwritten with null: message_start
    carries the final input counts and a placeholder output count, message_delta the
    final (cumulative) output count and, on newer API versions, the input counts again.
    """
    merged: dict[str, Any] | None = None
    for usage in usages:
        data = raw_usage(usage)
        if data is not None:
            merged = data if merged is None else _merge(merged, data)
    return merged


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in update.items():
        if value is None:
            result.setdefault(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def normalise(usage: Any) -> Usage:
    """`input_tokens` = input + cache reads + cache writes; null only when none is reported."""
    if usage is None:
        return Usage()
    uncached = token_count(field(usage, "input_tokens"))
    cache_read = token_count(field(usage, "cache_read_input_tokens"))
    cache_write = token_count(field(usage, "cache_creation_input_tokens"))
    counts = [c for c in (uncached, cache_read, cache_write) if c is not None]
    return Usage(
        input_tokens=sum(counts) if counts else None,
        output_tokens=token_count(field(usage, "output_tokens")),
        cached_input_tokens=cache_read,
        cache_creation_input_tokens=cache_write,
        reasoning_tokens=token_count(
            field(field(usage, "output_tokens_details"), "thinking_tokens")
        ),
    )
