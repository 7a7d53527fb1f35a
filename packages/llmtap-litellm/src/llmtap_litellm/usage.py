"""LiteLLM's `Usage` normalised to llmtap's `Usage`.

LiteLLM reports every provider in the OpenAI shape, so `prompt_tokens` maps to input
and `completion_tokens` (reasoning included) to output. Two things need care:

- Anthropic cache writes. LiteLLM adds cache reads to `prompt_tokens` on every line, but
  cache writes only from the releases that also fill
  `prompt_tokens_details.cache_creation_tokens` (1.74 does not: there they are reported
  beside `prompt_tokens` as `cache_creation_input_tokens` and added here, because
  llmtap's input counts every billed input token).
- Reasoning tokens that the provider never reported (Anthropic's API has no such count;
  LiteLLM estimates one with its tokenizer) are left out: llmtap records exact numbers.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import field
from llmtap.record import Usage
from llmtap.usage import from_input_output_format, from_openai_format, token_count


def normalise(usage: Any, *, exact_reasoning: bool) -> Usage:
    if usage is None:
        return Usage()
    if field(usage, "prompt_tokens") is None and field(usage, "input_tokens") is not None:
        result = from_input_output_format(usage)  # a Responses API usage object
    else:
        result = from_openai_format(usage)
        _add_cache_writes(usage, result)
    if not exact_reasoning:
        result.reasoning_tokens = None
    return result


def _add_cache_writes(usage: Any, result: Usage) -> None:
    written = token_count(field(usage, "cache_creation_input_tokens"))
    if written is None:
        return
    result.cache_creation_input_tokens = written
    read = token_count(field(usage, "cache_read_input_tokens"))
    if read is not None:
        result.cached_input_tokens = read
    details = field(usage, "prompt_tokens_details")
    included = token_count(field(details, "cache_creation_tokens")) is not None
    if not included and result.input_tokens is not None:
        result.input_tokens += written
