"""Mistral usage, normalised to `Usage` from exactly the fields the server sent.

Mistral reports usage in the OpenAI shape (`prompt_tokens`, `completion_tokens`), so
the core's `from_openai_format` maps it. Two things differ:

- The SDK's `UsageInfo` defaults every count to 0, so a field the server left out would
  read as 0. The usage is therefore read from its dump with `exclude_unset`, which holds
  only what was sent (plus the extras the SDK does not type), and a missing count stays
  None.
- Cached prompt tokens arrive as an untyped extra: `prompt_tokens_details.cached_tokens`
  (chat, as recorded), or in the API schema's other spellings,
  `prompt_token_details.cached_tokens` and `num_cached_tokens`.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import field
from llmtap.record import Usage
from llmtap.usage import from_openai_format, raw_usage, token_count


def normalise(usage: Any) -> tuple[Usage, dict[str, Any] | None]:
    """(normalised usage, the provider's usage as sent) from a `UsageInfo` or a dict."""
    sent = raw_usage(usage)
    if sent is None:
        return Usage(), None
    result = from_openai_format(sent)
    if result.cached_input_tokens is None:
        details = field(sent, "prompt_token_details")
        cached = token_count(field(details, "cached_tokens"))
        result.cached_input_tokens = (
            cached if cached is not None else token_count(sent.get("num_cached_tokens"))
        )
    return result, sent
