"""The wrapper skeleton every integration shares: start, call through, finish or fail.

An integration supplies `start(instance, kwargs)`, returning its in-flight call (or
None when the call is not to be recorded); the skeleton keeps the rules that must hold
everywhere: with tracing off or a fault while starting, the SDK is called exactly as the
caller asked; the SDK's exceptions propagate unchanged, after the call has recorded
them; what the caller gets back is whatever `finish` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from llmtap.faults import report_fault
from llmtap.generation import tracing_enabled

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class Call(Protocol):
    """One SDK call in flight, as an integration models it."""

    @property
    def call_kwargs(self) -> Mapping[str, Any]:
        """The arguments to call the SDK with (the caller's, or llmtap's additions)."""

    def retry_kwargs(self, error: Exception) -> Mapping[str, Any] | None:
        """Arguments to retry with once after `error` (llmtap caused it), else None."""

    def fail(self, error: BaseException) -> None: ...

    def finish(self, result: Any, is_async: bool) -> Any:
        """Record `result`; return what the caller gets (the result, or a proxy)."""


Start = Callable[[Any, Mapping[str, Any]], "Call | None"]


def _start(start: Start, where: str, instance: Any, kwargs: Mapping[str, Any]) -> Call | None:
    if not tracing_enabled():
        return None
    try:
        return start(instance, kwargs)
    except Exception as exc:
        report_fault(f"{where}.start", exc)
        return None


def sync_wrapper(start: Start, where: str) -> Wrapper:
    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _start(start, where, instance, kwargs)
        if call is None:
            return wrapped(*args, **kwargs)
        try:
            try:
                result = wrapped(*args, **call.call_kwargs)
            except Exception as error:
                retry = call.retry_kwargs(error)
                if retry is None:
                    raise
                result = wrapped(*args, **retry)
        except BaseException as error:
            call.fail(error)
            raise
        return call.finish(result, False)

    return wrapper


def async_wrapper(start: Start, where: str) -> Wrapper:
    async def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _start(start, where, instance, kwargs)
        if call is None:
            return await wrapped(*args, **kwargs)
        try:
            try:
                result = await wrapped(*args, **call.call_kwargs)
            except Exception as error:
                retry = call.retry_kwargs(error)
                if retry is None:
                    raise
                result = await wrapped(*args, **retry)
        except BaseException as error:
            call.fail(error)
            raise
        return call.finish(result, True)

    return wrapper
