"""The SDK's stream helpers close the HTTP response directly, bypassing llmtap's proxy.

`chat.completions.stream()` and `responses.stream()` wrap the stream `create` returned
(llmtap's proxy) in a helper whose `close()` (also run when the `with` block ends) calls
`raw_stream.response.close()`. Without this hook the record of a helper left early would
wait for garbage collection; with it, the record is finished as incomplete at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmtap.faults import report_fault
from llmtap.streams import finish_if_abandoned


def _finish_raw_stream(helper: Any) -> None:
    try:
        finish_if_abandoned(getattr(helper, "_raw_stream", None))
    except Exception as exc:
        report_fault("openai.helper.close", exc)


def sync_close(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        return wrapped(*args, **kwargs)
    finally:
        _finish_raw_stream(instance)


async def async_close(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _finish_raw_stream(instance)


_CHAT = "openai.lib.streaming.chat._completions"
_RESPONSES = "openai.lib.streaming.responses._responses"

CLOSE_TARGETS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    (_CHAT, "ChatCompletionStream.close", sync_close),
    (_CHAT, "AsyncChatCompletionStream.close", async_close),
    (_RESPONSES, "ResponseStream.close", sync_close),
    (_RESPONSES, "AsyncResponseStream.close", async_close),
)
