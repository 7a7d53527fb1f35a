"""`with_raw_response` / `with_streaming_response` for anthropic: the core follows them.

The raw header's value is `"raw"` (`"true"` on 0.x) for `with_raw_response` and
`"stream"` for `with_streaming_response`; `llmtap.stainless.RawResponses` does the rest.
"""

from __future__ import annotations

from typing import Any

import anthropic

from llmtap.stainless import FollowedCall, RawResponses

RAW = RawResponses("anthropic", (anthropic.Stream, anthropic.AsyncStream))


def follow(call: FollowedCall, response: Any, is_async: bool, raw_mode: str) -> Any:
    mode = "streaming_response" if raw_mode == "stream" else "raw"
    return RAW.follow(call, response, is_async, mode)


PARSE_TARGETS = (
    ("anthropic._legacy_response", "LegacyAPIResponse.parse", RAW.sync_parse),  # 0.x only
    ("anthropic._response", "APIResponse.parse", RAW.sync_parse),
    ("anthropic._response", "AsyncAPIResponse.parse", RAW.async_parse),
)
