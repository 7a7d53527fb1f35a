"""The SDK's stream helpers close the HTTP response directly, bypassing llmtap's proxy.

`chat.completions.stream()` and `responses.stream()` wrap the stream `create` returned
(llmtap's proxy) in a helper whose `close()` (also run when the `with` block ends) calls
`raw_stream.response.close()`. Wrapping that `close()` finishes the record of a helper
left early at once, rather than at garbage collection.
"""

from __future__ import annotations

from llmtap.stainless import async_helper_close, sync_helper_close

_CHAT = "openai.lib.streaming.chat._completions"
_RESPONSES = "openai.lib.streaming.responses._responses"

CLOSE_TARGETS = (
    (_CHAT, "ChatCompletionStream.close", sync_helper_close),
    (_CHAT, "AsyncChatCompletionStream.close", async_helper_close),
    (_RESPONSES, "ResponseStream.close", sync_helper_close),
    (_RESPONSES, "AsyncResponseStream.close", async_helper_close),
)
