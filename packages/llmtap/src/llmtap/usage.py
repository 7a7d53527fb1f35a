"""Usage in the OpenAI format (`prompt_tokens`, `*_details`), shared by every API that
speaks it: OpenAI, Azure, OpenAI-compatible servers, Mistral and LiteLLM."""

from __future__ import annotations

from typing import Any

from llmtap.messages import field
from llmtap.record import Usage


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_openai_format(usage: Any) -> Usage:
    """`prompt_tokens` already includes cached tokens, so it maps to input_tokens as is."""
    if usage is None:
        return Usage()
    prompt_details = field(usage, "prompt_tokens_details")
    completion_details = field(usage, "completion_tokens_details")
    return Usage(
        input_tokens=_count(field(usage, "prompt_tokens")),
        output_tokens=_count(field(usage, "completion_tokens")),
        cached_input_tokens=_count(field(prompt_details, "cached_tokens")),
        cache_creation_input_tokens=_count(field(prompt_details, "cache_write_tokens")),
        reasoning_tokens=_count(field(completion_details, "reasoning_tokens")),
    )


def raw_usage(usage: Any) -> dict[str, Any] | None:
    """The provider's usage object as plain data, exactly the fields it sent."""
    if usage is None:
        return None
    dump = getattr(usage, "model_dump", None)
    if callable(dump):
        result: dict[str, Any] = dump(mode="json", exclude_unset=True)
        return result
    return dict(usage) if isinstance(usage, dict) else None
