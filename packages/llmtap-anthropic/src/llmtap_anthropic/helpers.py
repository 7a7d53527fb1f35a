"""`messages.stream()`: the helper posts by itself, when its manager is entered.

`stream()` does not call `create`: it returns a `MessageStreamManager` holding a
prepared `_post`, and the HTTP request happens in the manager's `__enter__` (async:
`__aenter__`). So llmtap wraps `stream()` to keep the request (snapshotted then, as
the SDK builds its body then), and the managers' enter methods to start the record
when the request is really sent.

The `MessageStream` that `with` yields reads its raw SDK stream lazily, through
`_raw_stream`, from `__iter__`, `text_stream`, `until_done()` and
`get_final_message()` alike. llmtap swaps that attribute for its recording proxy right
after entering: every way of consuming the helper then passes each event through the
proxy once, and every way of leaving it (exhaustion, `close()`, the `with` block's end,
an error, garbage collection) finishes the one record. A proxy around the
`MessageStream` itself would miss `text_stream` and `get_final_message()`, which
iterate the unproxied object. `close()` is hooked too, because older SDK lines close
the HTTP response directly instead of through `_raw_stream`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from llmtap.faults import report_fault
from llmtap.generation import tracing_enabled
from llmtap.stainless import async_helper_close, sync_helper_close
from llmtap_anthropic.request import MessagesRequest
from llmtap_anthropic.wrappers import Call, start

# Manager -> (resource, request): kept from `stream()` until the manager is dropped, so a
# manager entered twice (two requests) gives two records.
_pending: weakref.WeakKeyDictionary[Any, tuple[Any, MessagesRequest]] = weakref.WeakKeyDictionary()


def stream(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """`Messages.stream` (sync and async resources alike: both return a manager)."""
    if not tracing_enabled():
        return wrapped(*args, **kwargs)
    try:
        request = MessagesRequest(getattr(instance, "_client", None), kwargs)
    except Exception as exc:
        report_fault("anthropic.stream.start", exc)
        return wrapped(*args, **kwargs)
    try:
        manager = wrapped(*args, **request.kwargs)
    except BaseException as error:
        # Nothing was sent (bad arguments), but the call failed: record it as create would.
        call = start(instance, request.kwargs, stream=True)
        if call is not None:
            call.fail(error)
        raise
    try:
        _pending[manager] = (instance, request)
    except Exception as exc:
        report_fault("anthropic.stream.start", exc)
    return manager


def _entering(manager: Any) -> Call | None:
    """The call a manager's enter sends, when it came from a recorded `stream()`."""
    try:
        pending = _pending.get(manager)
        if pending is None or not tracing_enabled():
            return None
        instance, request = pending
        return start(instance, request.kwargs, stream=True)
    except Exception as exc:
        report_fault("anthropic.stream.enter", exc)
        return None


def _attach(call: Call, message_stream: Any, is_async: bool) -> None:
    """Put the recording proxy between the helper and its raw stream."""
    try:
        message_stream._raw_stream = call.stream_proxy(message_stream._raw_stream, is_async)
    except Exception as exc:
        report_fault("anthropic.stream.attach", exc)
        if not call.generation.finished:
            call.finish_unread("stream_helper")


def sync_enter(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = _entering(instance)
    if call is None:
        return wrapped(*args, **kwargs)
    try:
        message_stream = wrapped(*args, **kwargs)
    except BaseException as error:
        call.fail(error)
        raise
    _attach(call, message_stream, is_async=False)
    return message_stream


async def async_enter(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    call = _entering(instance)
    if call is None:
        return await wrapped(*args, **kwargs)
    try:
        message_stream = await wrapped(*args, **kwargs)
    except BaseException as error:
        call.fail(error)
        raise
    _attach(call, message_stream, is_async=True)
    return message_stream


_MESSAGES = "anthropic.lib.streaming._messages"
_BETA = "anthropic.lib.streaming._beta_messages"

# (module, method, wrapper); the beta helpers live beside the first-party ones.
HELPER_TARGETS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    (_MESSAGES, "MessageStreamManager.__enter__", sync_enter),
    (_MESSAGES, "AsyncMessageStreamManager.__aenter__", async_enter),
    (_MESSAGES, "MessageStream.close", sync_helper_close),
    (_MESSAGES, "AsyncMessageStream.close", async_helper_close),
    (_BETA, "BetaMessageStreamManager.__enter__", sync_enter),
    (_BETA, "BetaAsyncMessageStreamManager.__aenter__", async_enter),
    (_BETA, "BetaMessageStream.close", sync_helper_close),
    (_BETA, "BetaAsyncMessageStream.close", async_helper_close),
)
