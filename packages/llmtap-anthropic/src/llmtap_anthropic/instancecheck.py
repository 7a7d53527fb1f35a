"""`isinstance(stream, anthropic.Stream)` stays true for llmtap's stream proxies on 0.x.

On anthropic 0.x, `Stream` and `AsyncStream` have a metaclass whose `__instancecheck__`
answers True only for the exact class (and, with a warning, for the old `MessageStream`),
so the `__class__` a proxy reports is never consulted and `isinstance` would fail for a
recorded stream. llmtap wraps that `__instancecheck__` to answer for the stream behind
its proxy, and for nothing else. 1.x and later have no such metaclass: nothing is wrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from llmtap.streams import AsyncStreamProxy, SyncStreamProxy

_PROXIES = (SyncStreamProxy, AsyncStreamProxy)


def instancecheck(
    wrapped: Callable[..., Any], cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    candidate = args[0] if args else None
    if isinstance(candidate, _PROXIES):
        return isinstance(candidate.__wrapped__, cls)
    return wrapped(*args, **kwargs)


TARGETS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("anthropic._streaming", "_SyncStreamMeta.__instancecheck__", instancecheck),
    ("anthropic._streaming", "_AsyncStreamMeta.__instancecheck__", instancecheck),
)
