"""Token usage of a LlamaIndex LLM response, read from the provider's own object.

`ChatResponse.raw` is whatever the LLM integration got from its SDK: an OpenAI
`ChatCompletion` (or the last `ChatCompletionChunk` of a stream), an Anthropic
message as a dict, ... Its `usage` is exact and carries cache and reasoning details,
so it wins. LlamaIndex's own copies (`additional_kwargs` token counts, Anthropic's
`usage` in the message kwargs) are the fallback: they lose those details.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import field
from llmtap.record import Usage
from llmtap.usage import (
    from_anthropic_format,
    from_input_output_format,
    from_openai_format,
    raw_usage,
    token_count,
)


def usage_from_object(usage: Any) -> Usage:
    """Whichever of the three usage shapes `usage` has."""
    if field(usage, "prompt_tokens") is not None:
        return from_openai_format(usage)
    if field(usage, "input_tokens_details") is not None:
        return from_input_output_format(usage)
    return from_anthropic_format(usage)


def has_usage(raw: Any) -> bool:
    return raw is not None and field(raw, "usage") is not None


def response_usage(response: Any, raw: Any) -> tuple[Usage, dict[str, Any] | None]:
    """Usage for one LLM call and the provider's usage as sent (None when unknown)."""
    usage = field(raw, "usage") if raw is not None else None
    if usage is not None:
        return usage_from_object(usage), raw_usage(usage)
    extra = field(response, "additional_kwargs") or {}
    if token_count(extra.get("prompt_tokens")) is not None:
        return from_openai_format(extra), None
    message = field(response, "message")
    kwargs_usage = (field(message, "additional_kwargs") or {}).get("usage")
    if kwargs_usage:
        return usage_from_object(kwargs_usage), raw_usage(kwargs_usage)
    return Usage(), None
