"""`with_raw_response` and `with_streaming_response`: the record follows the response.

CORE CANDIDATE: this is llmtap_openai.raw with the SDK's names swapped in (both SDKs are
Stainless-generated); a core version would take the stream classes, the parse targets
and the fault prefix as parameters.

The raw wrappers call the wrapped `create` with the `X-Stainless-Raw-Response` header
and get back an unparsed response (`LegacyAPIResponse` on 0.x, `APIResponse` on 1.x and
later). llmtap never parses a body the caller did not ask to parse: the record waits
for the caller's `parse()`, which llmtap wraps once, class-wide. A followed response
gets its stream proxied or its message recorded; one dropped without `parse()` is
recorded with its request only, and one whose `parse()` raises as an error.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anthropic

from llmtap.faults import report_fault

if TYPE_CHECKING:
    from llmtap_anthropic.wrappers import Call

_STREAMS = (anthropic.Stream, anthropic.AsyncStream)

_following: weakref.WeakKeyDictionary[Any, Follow] = weakref.WeakKeyDictionary()


class Follow:
    """A call whose record waits for its raw response to be parsed or dropped."""

    __slots__ = ("call", "is_async", "mode", "proxy")

    def __init__(self, call: Call, is_async: bool, mode: str) -> None:
        self.call = call
        self.is_async = is_async
        self.mode = mode
        self.proxy: Any = None

    def parsed(self, result: Any) -> Any:
        if isinstance(result, _STREAMS):
            proxy = self.proxy
            if proxy is None or proxy.__wrapped__ is not result:
                proxy = self.proxy = self.call.stream_proxy(result, self.is_async)
            return proxy
        if not self.call.generation.finished:
            self.call.finish_with(result)
        return result

    def failed(self, error: BaseException) -> None:
        if self.proxy is None and not self.call.generation.finished:
            self.call.fail(error)

    def abandon(self) -> None:
        try:
            if self.proxy is None and not self.call.generation.finished:
                self.call.finish_unread(self.mode)
        except Exception as exc:
            report_fault("anthropic.raw.abandon", exc)


def follow(call: Call, response: Any, is_async: bool) -> Any:
    """Start following `response`; return it unchanged."""
    mode = "streaming_response" if call.raw_mode == "stream" else "raw"
    if mode == "raw" and not call.generation.record.stream:
        call.generation.stop_clock()  # the body has arrived; parsing is the caller's time
    follower = Follow(call, is_async, mode)
    _following[response] = follower
    weakref.finalize(response, follower.abandon)
    return response


def _after_parse(response: Any, result: Any) -> Any:
    try:
        follower = _following.get(response)
        return result if follower is None else follower.parsed(result)
    except Exception as exc:
        report_fault("anthropic.raw.parse", exc)
        return result


def _parse_failed(response: Any, error: BaseException) -> None:
    try:
        follower = _following.get(response)
        if follower is not None:
            follower.failed(error)
    except Exception as exc:
        report_fault("anthropic.raw.parse", exc)


def sync_parse(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        result = wrapped(*args, **kwargs)
    except Exception as error:
        _parse_failed(instance, error)
        raise
    return _after_parse(instance, result)


async def async_parse(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    try:
        result = await wrapped(*args, **kwargs)
    except Exception as error:
        _parse_failed(instance, error)
        raise
    return _after_parse(instance, result)


Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

PARSE_TARGETS: tuple[tuple[str, str, Wrapper], ...] = (
    ("anthropic._legacy_response", "LegacyAPIResponse.parse", sync_parse),  # 0.x only
    ("anthropic._response", "APIResponse.parse", sync_parse),
    ("anthropic._response", "AsyncAPIResponse.parse", async_parse),
)
