"""Trace context: which span is current, and the thread/user/tags/metadata around it.

Held in one ContextVar so it follows asyncio tasks by itself; `bind_context` carries it
into threads and executors. Leaving a scope never raises, even when the token was made
in another context (a known failure of other tracers with async frameworks).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Scope:
    trace_id: str | None = None
    span_id: str | None = None
    thread_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


ROOT = Scope()
_scope: contextvars.ContextVar[Scope] = contextvars.ContextVar("llmtap_scope", default=ROOT)


def current_scope() -> Scope:
    return _scope.get()


def enter_scope(scope: Scope) -> contextvars.Token[Scope]:
    return _scope.set(scope)


def leave_scope(token: contextvars.Token[Scope], previous: Scope) -> None:
    """Restore `previous`; if the token belongs to another context, set it instead."""
    try:
        _scope.reset(token)
    except ValueError:
        _scope.set(previous)


@contextmanager
def context(
    *,
    thread_id: str | None = None,
    user_id: str | None = None,
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[Scope]:
    """Attach a conversation, a user, tags and metadata to every record made inside.

    Nested contexts add tags and merge metadata; an inner thread or user id wins.
    """
    if isinstance(tags, str):
        raise TypeError("llmtap.context(tags=...) takes a list of strings, not one string")
    outer = _scope.get()
    inner = Scope(
        trace_id=outer.trace_id,
        span_id=outer.span_id,
        thread_id=outer.thread_id if thread_id is None else str(thread_id),
        user_id=outer.user_id if user_id is None else str(user_id),
        tags=outer.tags + tuple(str(t) for t in tags if str(t) not in outer.tags),
        metadata={**outer.metadata, **(metadata or {})},
    )
    token = _scope.set(inner)
    try:
        yield inner
    finally:
        leave_scope(token, outer)


def bind_context(fn: Callable[P, R]) -> Callable[P, R]:
    """Return `fn` bound to the current llmtap context, for threads and executors.

    `executor.submit(llmtap.bind_context(work), item)` makes records inside `work`
    children of the span that was current at submit time.
    """
    captured = _scope.get()

    @functools.wraps(fn)
    def bound(*args: P.args, **kwargs: P.kwargs) -> R:
        previous = _scope.get()
        token = _scope.set(captured)
        try:
            return fn(*args, **kwargs)
        finally:
            leave_scope(token, previous)

    return bound
