"""`with_raw_response` and `with_streaming_response`: the record follows the response.

`with_raw_response` returns a `LegacyAPIResponse`; `with_streaming_response` returns an
`APIResponse` whose body has not been read. llmtap never parses a body the caller did
not ask to parse (that would cost time and could raise where the SDK would not): the
record waits for the caller's `parse()`. llmtap wraps the SDK's `parse` methods once,
class-wide, and a response it follows gets its stream proxied or its body recorded. A
response dropped without `parse()` is recorded with its request only; one whose
`parse()` raises is recorded as an error.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai

from llmtap.faults import report_fault

if TYPE_CHECKING:
    from llmtap_openai.wrappers import Call

_STREAMS = (openai.Stream, openai.AsyncStream)

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
            report_fault("openai.raw.abandon", exc)


def follow(call: Call, response: Any, is_async: bool) -> Any:
    """Start following `response`; return it unchanged."""
    mode = "raw" if call.raw_mode == "true" else "streaming_response"
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
        report_fault("openai.raw.parse", exc)
        return result


Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _parse_failed(response: Any, error: BaseException) -> None:
    try:
        follower = _following.get(response)
        if follower is not None:
            follower.failed(error)
    except Exception as exc:
        report_fault("openai.raw.parse", exc)


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


PARSE_TARGETS: tuple[tuple[str, str, Wrapper], ...] = (
    ("openai._legacy_response", "LegacyAPIResponse.parse", sync_parse),
    ("openai._response", "APIResponse.parse", sync_parse),
    ("openai._response", "AsyncAPIResponse.parse", async_parse),
)
