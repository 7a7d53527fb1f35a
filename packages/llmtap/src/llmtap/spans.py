"""User-defined spans: `with llmtap.span(...)`, `@llmtap.span(...)` and `@llmtap.step`.

A span is a record of its own kind (chain, agent, tool, retrieval, step, ...) that
becomes the parent of every record made inside it, across awaits and asyncio tasks.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from types import TracebackType
from typing import Any, TypeVar, overload

from llmtap.context import Scope, current_scope, enter_scope, leave_scope
from llmtap.faults import report_fault
from llmtap.generation import Generation, new_record, tracing_enabled
from llmtap.messages import text_message
from llmtap.record import Status

F = TypeVar("F", bound=Callable[..., Any])

_MAX_VALUE_CHARS = 4000


def _describe(value: Any) -> str:
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception as exc:  # a user's __repr__ must not break the call it describes
        report_fault("span.describe", exc)
        text = f"<unrepresentable {type(value).__name__}>"
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…"


class Span:
    """One span. Use it once as a context manager, or as a decorator (a span per call)."""

    def __init__(self, name: str, kind: str = "chain", metadata: dict[str, Any] | None = None):
        self.name = name
        self.kind = kind
        self._metadata = metadata
        self._generation: Generation | None = None
        self._active: tuple[Any, Scope] | None = None

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

    def _start(self) -> None:
        """Create the record (without making it current)."""
        if not tracing_enabled():
            return
        try:
            record = new_record(self.name, self.kind)
            if self._metadata:
                record.metadata.update(self._metadata)
            self._generation = Generation(record)
        except Exception as exc:
            report_fault("span.start", exc)

    def _activate(self) -> tuple[Any, Scope] | None:
        """Make this span the parent of records made from now on in this context."""
        generation = self._generation
        if generation is None:
            return None
        outer = current_scope()
        token = enter_scope(
            Scope(
                trace_id=generation.record.trace_id,
                span_id=generation.record.id,
                thread_id=outer.thread_id,
                user_id=outer.user_id,
                tags=outer.tags,
                metadata=outer.metadata,
            )
        )
        return token, outer

    def _end(self, error: BaseException | None, status: Status = "ok") -> None:
        if self._generation is not None:
            try:
                self._generation.finish(status, error)
            except Exception as fault:
                report_fault("span.end", fault)

    def __enter__(self) -> Span:
        self._start()
        self._active = self._activate()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._active is not None:
            leave_scope(*self._active)
            self._active = None
        self._end(exc)

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


def _decorate(fn: F, name: str, kind: str, metadata: dict[str, Any] | None, capture_io: bool) -> F:
    def open_span(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
        current = Span(name, kind, metadata)
        current._start()
        if capture_io:
            current.set_input({"args": args, "kwargs": kwargs} if kwargs else args)
        return current

    def close_span(current: Span, result: Any, error: BaseException | None) -> None:
        if isinstance(error, GeneratorExit):  # the caller stopped iterating early
            current._end(None, "incomplete")
            return
        if capture_io and error is None:
            current.set_output(result)
        current._end(error)

    if inspect.isasyncgenfunction(fn):

        @functools.wraps(fn)
        async def async_gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            current = open_span(args, kwargs)
            count = 0
            try:
                async for item in _active_async_steps(current, fn(*args, **kwargs)):
                    count += 1
                    yield item
            except BaseException as exc:
                close_span(current, None, exc)
                raise
            close_span(current, f"<{count} items>", None)

        return async_gen_wrapper  # type: ignore[return-value]

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            current = open_span(args, kwargs)
            try:
                result = yield from _active_steps(current, fn(*args, **kwargs))
            except BaseException as exc:
                close_span(current, None, exc)
                raise
            close_span(current, result, None)
            return result

        return gen_wrapper  # type: ignore[return-value]

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            current = open_span(args, kwargs)
            active = current._activate()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                close_span(current, None, exc)
                raise
            finally:
                if active is not None:
                    leave_scope(*active)
            close_span(current, result, None)
            return result

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = open_span(args, kwargs)
        active = current._activate()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            close_span(current, None, exc)
            raise
        finally:
            if active is not None:
                leave_scope(*active)
        close_span(current, result, None)
        return result

    return wrapper  # type: ignore[return-value]


def _active_steps(current: Span, generator: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """Drive `generator`, making `current` the parent only while its body runs.

    The caller's code between items is not inside the span, so records it makes are
    not adopted by it. `send`, `throw` and `close` are forwarded.
    """
    to_send: Any = None
    to_throw: BaseException | None = None
    while True:
        active = current._activate()
        try:
            item = generator.send(to_send) if to_throw is None else generator.throw(to_throw)
        except StopIteration as stop:
            return stop.value
        finally:
            if active is not None:
                leave_scope(*active)
        to_send, to_throw = None, None
        try:
            to_send = yield item
        except GeneratorExit:
            generator.close()
            raise
        except BaseException as exc:
            to_throw = exc


async def _active_async_steps(
    current: Span, generator: AsyncGenerator[Any, Any]
) -> AsyncGenerator[Any, Any]:
    """The async-generator twin of `_active_steps`."""
    to_send: Any = None
    to_throw: BaseException | None = None
    while True:
        active = current._activate()
        try:
            if to_throw is not None:
                item = await generator.athrow(to_throw)
            else:
                item = await generator.asend(to_send)
        except StopAsyncIteration:
            return
        finally:
            if active is not None:
                leave_scope(*active)
        to_send, to_throw = None, None
        try:
            to_send = yield item
        except GeneratorExit:
            await generator.aclose()
            raise
        except BaseException as exc:
            to_throw = exc


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
