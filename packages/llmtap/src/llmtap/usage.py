"""Usage in the two shapes most APIs share, normalised to `Usage`.

`prompt_tokens`/`completion_tokens` (chat completions: OpenAI, Azure, compatible
servers, Mistral, LiteLLM) and `input_tokens`/`output_tokens` (OpenAI Responses, images,
transcriptions). In both, the input count already includes cached tokens and the output
count includes reasoning tokens, so they map as they are.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import field
from llmtap.record import Usage


def token_count(value: Any) -> int | None:
    """A count as the provider sent it, or None: never a bool or a float passed as one."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
        result: dict[str, Any] = dump(mode="json", exclude_unset=True)
        return result
    return dict(usage) if isinstance(usage, dict) else None
