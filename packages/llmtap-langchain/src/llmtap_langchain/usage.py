"""LangChain's token counts, normalised to llmtap's `Usage`.

`usage_metadata` is LangChain's own cross-provider shape, and it already follows the
rule llmtap uses: `input_tokens` is every input token, cache reads and writes included
(langchain-anthropic adds Anthropic's separately reported cache counts back in), and
`output_tokens` includes reasoning. Models that fill no `usage_metadata` (legacy LLMs,
older integrations) leave the provider's own usage in `llm_output`, read as a fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.record import Usage
from llmtap.usage import from_anthropic_format, from_openai_format, raw_usage, token_count

# Anthropic's cache writes by lifetime; langchain-anthropic 1.x zeroes `cache_creation`
# and reports only these when the response splits cache writes by TTL.
_CACHE_WRITE_BY_TTL = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")


def from_usage_metadata(usage: Mapping[str, Any]) -> Usage:
    """`AIMessage.usage_metadata` (a TypedDict) as a `Usage`.

    LangChain writes 0 for a count the provider did not send: langchain-anthropic
    streams take input tokens from `message_delta`, which older API versions sent
    without them. No call answers without reading any input, so an input count of 0
    beside a real output is recorded as unknown rather than as a made-up 0.
    """
    input_details = usage.get("input_token_details") or {}
    output_details = usage.get("output_token_details") or {}
    input_tokens = token_count(usage.get("input_tokens"))
    output_tokens = token_count(usage.get("output_tokens"))
    if input_tokens == 0 and output_tokens:
        input_tokens = None
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_tokens=token_count(input_details.get("cache_read")),
        cache_creation_input_tokens=_cache_writes(input_details),
        reasoning_tokens=token_count(output_details.get("reasoning")),
    )


def _cache_writes(details: Mapping[str, Any]) -> int | None:
    written = token_count(details.get("cache_creation"))
    by_ttl = [token_count(details.get(key)) for key in _CACHE_WRITE_BY_TTL]
    split = sum(count for count in by_ttl if count)
    if split and not written:
        return split
    return written


def from_llm_output(llm_output: Mapping[str, Any] | None) -> tuple[Usage, dict[str, Any] | None]:
    """The provider's usage that some models put in `LLMResult.llm_output`, and that
    usage as sent. OpenAI-style `token_usage` maps as it is; Anthropic-style `usage`
    reports cache reads and writes apart from `input_tokens`, so they are added in."""
    if not llm_output:
        return Usage(), None
    raw = llm_output.get("token_usage")
    if isinstance(raw, Mapping) and raw:
        return from_openai_format(raw), dict(raw)
    raw = llm_output.get("usage")
    if raw is None:
        return Usage(), None
    if isinstance(raw, Mapping) and "prompt_tokens" in raw:
        return from_openai_format(raw), dict(raw)
    return from_anthropic_format(raw), raw_usage(raw)
