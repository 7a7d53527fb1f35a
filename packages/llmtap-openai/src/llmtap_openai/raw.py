"""`with_raw_response` / `with_streaming_response` for openai: the core follows them.

The raw header's value is `"true"` for `with_raw_response` and `"stream"` for
`with_streaming_response`; `llmtap.stainless.RawResponses` does the rest.
"""

from __future__ import annotations

from typing import Any

import openai

from llmtap.stainless import FollowedCall, RawResponses

RAW = RawResponses("openai", (openai.Stream, openai.AsyncStream))


def follow(call: FollowedCall, response: Any, is_async: bool, raw_mode: str) -> Any:
    mode = "raw" if raw_mode == "true" else "streaming_response"
    return RAW.follow(call, response, is_async, mode)


PARSE_TARGETS = (
    ("openai._legacy_response", "LegacyAPIResponse.parse", RAW.sync_parse),
    ("openai._response", "APIResponse.parse", RAW.sync_parse),
    ("openai._response", "AsyncAPIResponse.parse", RAW.async_parse),
)
