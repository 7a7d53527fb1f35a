"""User-defined spans: `with llmtap.span(...)`, `@llmtap.span(...)` and `@llmtap.step`.

A span is a record of its own kind (chain, agent, tool, retrieval, step, ...) that
becomes the parent of every record made inside it, across awaits and asyncio tasks.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, overload

from llmtap.context import Scope, current_scope, enter_scope, leave_scope
from llmtap.faults import report_fault
from llmtap.generation import Generation, new_record, tracing_enabled
from llmtap.messages import text_message

F = TypeVar("F", bound=Callable[..., Any])

_MAX_VALUE_CHARS = 4000


def _describe(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…"


class Span:
    """One span. Use it once as a context manager, or as a decorator (a span per call)."""

    def __init__(self, name: str, kind: str = "chain", metadata: dict[str, Any] | None = None):
        self.name = name
        self.kind = kind
        self._metadata = metadata
        self._generation: Generation | None = None
        self._token: Any = None
        self._outer: Scope | None = None

    @property
    def id(self) -> str | None:
        return None if self._generation is None else self._generation.record.id

    @property
    def trace_id(self) -> str | None:
        return None if self._generation is None else self._generation.record.trace_id

    def set_input(self, value: Any) -> None:
        if self._generation is not None:
            self._generation.record.input = [text_message("input", _describe(value))]

    def set_output(self, value: Any) -> None:
        if self._generation is not None:
            self._generation.record.output = [text_message("output", _describe(value))]

    def set_metadata(self, **values: Any) -> None:
        if self._generation is not None:
            self._generation.record.metadata.update(values)

    def __enter__(self) -> Span:
        if not tracing_enabled():
            return self
        try:
            record = new_record(self.name, self.kind)
            if self._metadata:
                record.metadata.update(self._metadata)
            self._generation = Generation(record)
            self._outer = outer = current_scope()
            self._token = enter_scope(
                Scope(
                    trace_id=record.trace_id,
                    span_id=record.id,
                    thread_id=outer.thread_id,
                    user_id=outer.user_id,
                    tags=outer.tags,
                    metadata=outer.metadata,
                )
            )
        except Exception as exc:
            report_fault("span.enter", exc)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        generation = self._generation
        if generation is None:
            return
        try:
            if self._token is not None and self._outer is not None:
                leave_scope(self._token, self._outer)
            generation.finish("ok", exc)
        except Exception as fault:
            report_fault("span.exit", fault)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        return _decorate(fn, self.name, self.kind, self._metadata, capture_io=False)


def span(name: str, kind: str = "chain", metadata: dict[str, Any] | None = None) -> Span:
    """A span around a block (`with`/`async with`) or a function (decorator)."""
    return Span(name, kind, metadata)


def _decorate(
    fn: F, name: str, kind: str, metadata: dict[str, Any] | None, capture_io: bool
) -> F:
    def open_span(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
        current = Span(name, kind, metadata)
        current.__enter__()
        if capture_io:
            current.set_input({"args": args, "kwargs": kwargs} if kwargs else args)
        return current

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            current = open_span(args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                current.__exit__(type(exc), exc, exc.__traceback__)
                raise
            if capture_io:
                current.set_output(result)
            current.__exit__(None, None, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = open_span(args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            current.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if capture_io:
            current.set_output(result)
        current.__exit__(None, None, None)
        return result

    return wrapper  # type: ignore[return-value]


@overload
def step(fn: F) -> F: ...
@overload
def step(*, name: str | None = None, kind: str = "step") -> Callable[[F], F]: ...
def step(
    fn: F | None = None, *, name: str | None = None, kind: str = "step"
) -> F | Callable[[F], F]:
    """Record a function call as a span with its arguments and return value."""

    def decorate(target: F) -> F:
        return _decorate(target, name or target.__qualname__, kind, None, capture_io=True)

    return decorate if fn is None else decorate(fn)
