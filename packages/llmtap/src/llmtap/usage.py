"""Usage in the shapes APIs send, normalised to `Usage`.

`prompt_tokens`/`completion_tokens` (chat completions: OpenAI, Azure, compatible
servers, Mistral, LiteLLM) and `input_tokens`/`output_tokens` (OpenAI Responses, images,
transcriptions). In both, the input count already includes cached tokens and the output
count includes reasoning tokens, so they map as they are. Anthropic's shape, which the
Anthropic SDK, LangChain and LlamaIndex all hand over, reports cache reads and writes
beside `input_tokens` instead, so they are added in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.messages import field, quiet_dump
from llmtap.record import Usage

_MAX_COUNT = 2**63 - 1
"""The largest count a store can hold (SQLite's INTEGER); a larger one fails the batch."""


def token_count(value: Any) -> int | None:
    """A count as the provider sent it, or None: never a bool or a float passed as one,
    nor a negative count or one too large to store (a malformed response)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_COUNT:
        return value
    return None


def from_openai_format(usage: Any) -> Usage:
    """`prompt_tokens` already includes cached tokens, so it maps to input_tokens as is."""
    if usage is None:
        return Usage()
    prompt_details = field(usage, "prompt_tokens_details")
    completion_details = field(usage, "completion_tokens_details")
    return Usage(
        input_tokens=token_count(field(usage, "prompt_tokens")),
        output_tokens=token_count(field(usage, "completion_tokens")),
        cached_input_tokens=token_count(field(prompt_details, "cached_tokens")),
        cache_creation_input_tokens=token_count(field(prompt_details, "cache_write_tokens")),
        reasoning_tokens=token_count(field(completion_details, "reasoning_tokens")),
    )


def from_input_output_format(usage: Any) -> Usage:
    """`input_tokens`/`output_tokens` with `input_tokens_details`/`output_tokens_details`."""
    if usage is None:
        return Usage()
    input_details = field(usage, "input_tokens_details")
    output_details = field(usage, "output_tokens_details")
    return Usage(
        input_tokens=token_count(field(usage, "input_tokens")),
        output_tokens=token_count(field(usage, "output_tokens")),
        cached_input_tokens=token_count(field(input_details, "cached_tokens")),
        cache_creation_input_tokens=token_count(field(input_details, "cache_write_tokens")),
        reasoning_tokens=token_count(field(output_details, "reasoning_tokens")),
    )


def raw_usage(usage: Any) -> dict[str, Any] | None:
    """The provider's usage object as plain data, exactly the fields it sent."""
    if usage is None:
        return None
    dump = getattr(usage, "model_dump", None)
    if callable(dump):
        result: dict[str, Any] = quiet_dump(dump)
        return result
    return dict(usage) if isinstance(usage, Mapping) else None


def from_anthropic_format(usage: Any) -> Usage:
    """`input_tokens` = input + cache reads + cache writes; null only when none is reported."""
    if usage is None:
        return Usage()
    uncached = token_count(field(usage, "input_tokens"))
    cache_read = token_count(field(usage, "cache_read_input_tokens"))
    cache_write = token_count(field(usage, "cache_creation_input_tokens"))
    counts = [c for c in (uncached, cache_read, cache_write) if c is not None]
    return Usage(
        input_tokens=token_count(sum(counts)) if counts else None,
        output_tokens=token_count(field(usage, "output_tokens")),
        cached_input_tokens=cache_read,
        cache_creation_input_tokens=cache_write,
        reasoning_tokens=token_count(
            field(field(usage, "output_tokens_details"), "thinking_tokens")
        ),
    )


def merge_usage(*usages: Any) -> dict[str, Any] | None:
    """Usage objects of one Anthropic stream (message_start's, then message_delta's)
    merged field by field.

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
