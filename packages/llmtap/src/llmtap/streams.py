"""Stream proxies that finish their record exactly once, whatever the caller does.

The proxies are `wrapt.ObjectProxy`s, so the SDK's stream keeps its type for
`isinstance`, its attributes (`.response`, helpers) and its context-manager behaviour;
all proxy state uses wrapt's `_self_` prefix so nothing is written onto the SDK object.

A record is finished on exhaustion (ok), on an exception from the stream (error), on
`close()` or context exit before the end (incomplete), and, when the caller simply drops
the stream, by a `weakref.finalize` (incomplete). The proxy never holds its iterating
generator (no reference cycle), so a dropped stream is finalized at once, not at the
next garbage collection.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, SupportsIndex

import wrapt

from llmtap.faults import report_fault
from llmtap.generation import Generation
from llmtap.record import Status

if TYPE_CHECKING:
    _Proxy = wrapt.ObjectProxy[Any]
else:  # wrapt 1.x proxies are not subscriptable at run time
    _Proxy = wrapt.ObjectProxy


class StreamRecorder:
    """Per-stream state; an integration subclasses it for its provider's chunks.

    `observe` runs for every chunk on the caller's path: keep it to a few attribute
    reads and return False only to hide a chunk llmtap itself asked for. Prefer keeping
    plain values to keeping SDK chunk objects: thousands of live objects per stream cost
    more in garbage collection than reading them. `complete` runs once at the end and
    returns the final status; put heavy mapping in a resolver.
    """

    __slots__ = ("chunks", "generation")

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.chunks: list[Any] = []

    def observe(self, chunk: Any) -> bool:
        self.chunks.append(chunk)
        return True

    def chunk_count(self) -> int:
        return len(self.chunks)

    def complete(self, status: Status) -> Status:
        return status

    def finish(self, status: Status, error: BaseException | None = None) -> None:
        generation = self.generation
        if generation.finished:
            return
        generation.record.chunks = self.chunk_count()
        try:
            status = self.complete(status)
        except Exception as exc:
            report_fault(f"stream.complete.{generation.record.integration}", exc)
        generation.finish(status, error)


def _observe_failed(recorder: StreamRecorder, exc: Exception) -> bool:
    """A chunk llmtap could not read is still shown to the caller."""
    report_fault(f"stream.observe.{recorder.generation.record.integration}", exc)
    return True


def _iterate(recorder: StreamRecorder, iterator: Iterator[Any], owner: Any) -> Iterator[Any]:
    """Observe every chunk on its way to the caller.

    `owner` (the proxy) is kept alive only while a loop runs, so a caller that breaks
    out and drops the stream frees the proxy, and its finalizer runs, at once.
    """
    observe = recorder.observe
    try:
        for chunk in iterator:
            try:
                show = observe(chunk)
            except Exception as exc:
                show = _observe_failed(recorder, exc)
            if show:
                yield chunk
    except GeneratorExit:
        raise  # abandoned: close(), context exit or garbage collection finish it
    except BaseException as exc:
        recorder.finish("error", exc)
        raise
    else:
        # Before `owner` is released: dropping the last reference to the proxy runs
        # its finalizer, which would otherwise record a finished stream as abandoned.
        recorder.finish("ok")
    finally:
        del owner


async def _aiterate(
    recorder: StreamRecorder, iterator: AsyncIterator[Any], owner: Any
) -> AsyncIterator[Any]:
    """The async twin of `_iterate`, with one difference: only exceptions from the SDK's
    iterator are the stream's errors.

    What is thrown in at the `yield` comes from the consumer: a caller that breaks out
    of `async for` and drops the stream has its generator finalised by asyncio in a
    task that `asyncio.run()` cancels at shutdown, and that CancelledError is
    abandonment (recorded as incomplete by close, exit or the finalizer), not an error.
    `async for` rather than awaiting `__anext__()` by hand: it is the cheaper step per
    chunk, and the try blocks cost nothing until something is raised.
    """
    observe = recorder.observe
    thrown_in = False
    try:
        async for chunk in iterator:
            try:
                show = observe(chunk)
            except Exception as exc:
                show = _observe_failed(recorder, exc)
            if show:
                try:
                    yield chunk
                except BaseException:
                    thrown_in = True
                    raise
    except BaseException as exc:
        if not thrown_in:
            recorder.finish("error", exc)
        raise
    else:
        # Before `owner` is released, as in `_iterate`.
        recorder.finish("ok")
    finally:
        del owner


def finish_if_abandoned(stream: Any) -> None:
    """Finish `stream`'s record as incomplete if it is an llmtap proxy not yet finished.

    For SDK helpers that close the underlying response directly, bypassing the proxy.
    """
    if isinstance(stream, (SyncStreamProxy, AsyncStreamProxy)):
        _finish_abandoned(stream._self_recorder)


def _finish_abandoned(recorder: StreamRecorder) -> None:
    try:
        recorder.finish("incomplete")
    except Exception as exc:
        report_fault("stream.finalize", exc)


class SyncStreamProxy(_Proxy):
    """A sync SDK stream that records itself."""

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder
        weakref.finalize(self, _finish_abandoned, recorder)

    # wrapt's proxy class defines these for every wrapped type, which would make a
    # stream look Sized, a Container, Reversible... to collections.abc checks.
    __len__ = __contains__ = __reversed__ = __getitem__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    def __copy__(self) -> Any:
        # A copy is the SDK's own (sharing its iterator, as without llmtap); chunks read
        # through the copy bypass the record, which stays with this proxy.
        return copy.copy(self.__wrapped__)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.__wrapped__, memo)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)

    def __iter__(self) -> Iterator[Any]:
        # A fresh generator per loop over the SDK's shared iterator: the SDK lets a
        # caller break and resume, and so does llmtap.
        return _iterate(self._self_recorder, iter(self.__wrapped__), self)

    def __next__(self) -> Any:
        recorder = self._self_recorder
        while True:
            try:
                chunk = next(self.__wrapped__)
            except StopIteration:
                recorder.finish("ok")
                raise
            except BaseException as exc:
                recorder.finish("error", exc)
                raise
            try:
                show = recorder.observe(chunk)
            except Exception as exc:
                show = _observe_failed(recorder, exc)
            if show:
                return chunk

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        try:
            return self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            _finish_abandoned(self._self_recorder)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            _finish_abandoned(self._self_recorder)


class AsyncStreamProxy(_Proxy):
    """An async SDK stream that records itself."""

    def __init__(self, wrapped: Any, recorder: StreamRecorder) -> None:
        super().__init__(wrapped)
        self._self_recorder = recorder
        weakref.finalize(self, _finish_abandoned, recorder)

    # As on the sync proxy; an async stream is not Iterable either.
    __len__ = __contains__ = __reversed__ = __getitem__ = __iter__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.__wrapped__)

    def __copy__(self) -> Any:
        return copy.copy(self.__wrapped__)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.__wrapped__, memo)

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)

    @property
    def aclose(self) -> Callable[[], Awaitable[Any]]:
        """`aclose()` where the SDK stream has one (it closes through `close()` here, so
        `contextlib.aclosing` finishes the record too); AttributeError where it has not."""
        self.__wrapped__.aclose  # noqa: B018 - raises AttributeError exactly as the SDK would
        return self.close

    def __aiter__(self) -> AsyncIterator[Any]:
        return _aiterate(self._self_recorder, self.__wrapped__.__aiter__(), self)

    async def __anext__(self) -> Any:
        recorder = self._self_recorder
        while True:
            try:
                chunk = await self.__wrapped__.__anext__()
            except StopAsyncIteration:
                recorder.finish("ok")
                raise
            except BaseException as exc:
                recorder.finish("error", exc)
                raise
            try:
                show = recorder.observe(chunk)
            except Exception as exc:
                show = _observe_failed(recorder, exc)
            if show:
                return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Any:
        try:
            return await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            _finish_abandoned(self._self_recorder)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            _finish_abandoned(self._self_recorder)
