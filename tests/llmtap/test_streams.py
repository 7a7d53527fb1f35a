"""Stream proxies: one record per stream, whatever the caller does, and an unchanged stream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.generation import Generation, start_generation
from llmtap.record import Record
from llmtap.streams import AsyncStreamProxy, StreamRecorder, SyncStreamProxy

CHUNKS = ["a", "b", "c"]


class StreamError(Exception):
    pass


class FakeStream:
    """Shaped like an SDK stream: one shared iterator, a context manager, close()."""

    def __init__(
        self,
        chunks: list[str] = CHUNKS,
        fail_at: int | None = None,
        first_delay_s: float = 0.0,
    ) -> None:
        self.response = "http-response"
        self.closed = False
        self.error = StreamError("connection reset")
        self._chunks = chunks
        self._fail_at = fail_at
        self._first_delay_s = first_delay_s
        self._iterator = self._produce()

    def _produce(self) -> Iterator[str]:
        time.sleep(self._first_delay_s)
        for i, chunk in enumerate(self._chunks):
            if i == self._fail_at:
                raise self.error
            yield chunk

    def __iter__(self) -> Iterator[str]:
        # A loop, not `yield from`: breaking out must not close the shared iterator.
        for chunk in self._iterator:  # noqa: UP028
            yield chunk

    def __next__(self) -> str:
        return next(self._iterator)

    def __enter__(self) -> FakeStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.closed = True

    def helper(self) -> str:
        return "helper-result"


class AsyncFakeStream:
    def __init__(self, chunks: list[str] = CHUNKS, fail_at: int | None = None) -> None:
        self.response = "http-response"
        self.closed = False
        self.error = StreamError("connection reset")
        self._chunks = chunks
        self._fail_at = fail_at
        self._iterator = self._produce()

    async def _produce(self) -> AsyncIterator[str]:
        for i, chunk in enumerate(self._chunks):
            await asyncio.sleep(0)
            if i == self._fail_at:
                raise self.error
            yield chunk

    async def __aiter__(self) -> AsyncIterator[str]:
        async for chunk in self._iterator:
            yield chunk

    async def __anext__(self) -> str:
        return await self._iterator.__anext__()

    async def __aenter__(self) -> AsyncFakeStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        self.closed = True


def generation() -> Generation:
    return start_generation(
        operation="chat", provider="test", integration="test", request_model="m", stream=True
    )


def wrap(stream: FakeStream, recorder: type[StreamRecorder] = StreamRecorder) -> Any:
    return SyncStreamProxy(stream, recorder(generation()))


def awrap(stream: AsyncFakeStream, recorder: type[StreamRecorder] = StreamRecorder) -> Any:
    return AsyncStreamProxy(stream, recorder(generation()))


def records(memory: MemoryExporter) -> list[Record]:
    llmtap.flush()
    return memory.records


def only_record(memory: MemoryExporter) -> Record:
    [record] = records(memory)
    return record


# -- sync: one record, whatever the caller does ------------------------------------------------


def test_reading_to_the_end_makes_one_ok_record(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream())

    assert list(proxy) == CHUNKS
    proxy.close()
    del proxy
    record = only_record(memory)

    assert (record.status, record.chunks, record.stream) == ("ok", 3, True)
    assert record.error is None
    assert record.duration_s is not None


def test_breaking_out_and_dropping_the_stream_makes_an_incomplete_record(
    memory: MemoryExporter,
) -> None:
    proxy = wrap(FakeStream())
    for _ in proxy:
        break
    assert records(memory) == []  # the caller may still resume

    del proxy
    record = only_record(memory)

    assert (record.status, record.chunks) == ("incomplete", 1)


def test_breaking_out_and_resuming_reads_the_rest(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream())
    seen = []
    for chunk in proxy:
        seen.append(chunk)
        break
    seen.extend(proxy)

    assert seen == CHUNKS
    assert (only_record(memory).status, only_record(memory).chunks) == ("ok", 3)


def test_next_reads_one_chunk_at_a_time(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream())

    assert next(proxy) == "a"
    assert list(proxy) == ["b", "c"]
    with pytest.raises(StopIteration):
        next(proxy)
    assert (only_record(memory).status, only_record(memory).chunks) == ("ok", 3)


def test_close_before_the_end_makes_an_incomplete_record(memory: MemoryExporter) -> None:
    stream = FakeStream()
    proxy = wrap(stream)
    next(proxy)

    proxy.close()

    assert stream.closed is True
    record = only_record(memory)
    assert (record.status, record.chunks) == ("incomplete", 1)


def test_leaving_with_before_the_end_makes_an_incomplete_record(memory: MemoryExporter) -> None:
    stream = FakeStream()
    with wrap(stream) as proxy:
        next(proxy)

    assert stream.closed is True
    assert only_record(memory).status == "incomplete"


def test_reading_to_the_end_inside_with_is_ok(memory: MemoryExporter) -> None:
    with wrap(FakeStream()) as proxy:
        assert list(proxy) == CHUNKS

    assert only_record(memory).status == "ok"


def test_an_error_from_the_stream_is_recorded_and_propagates_unchanged(
    memory: MemoryExporter,
) -> None:
    stream = FakeStream(fail_at=2)
    proxy = wrap(stream)
    seen = []

    with pytest.raises(StreamError) as raised:  # noqa: PT012 - the caller's own loop
        for chunk in proxy:
            seen.append(chunk)

    assert raised.value is stream.error
    assert seen == ["a", "b"]
    record = only_record(memory)
    assert (record.status, record.chunks) == ("error", 2)
    assert record.error is not None
    assert (record.error.type, record.error.message) == ("StreamError", "connection reset")


def test_an_error_from_the_stream_through_next_is_recorded(memory: MemoryExporter) -> None:
    stream = FakeStream(fail_at=0)
    proxy = wrap(stream)

    with pytest.raises(StreamError) as raised:
        next(proxy)

    assert raised.value is stream.error
    assert only_record(memory).status == "error"


def test_an_error_in_the_callers_loop_makes_an_incomplete_record_once_the_stream_is_gone(
    memory: MemoryExporter,
) -> None:
    proxy = wrap(FakeStream())
    with pytest.raises(ValueError, match="bug in caller"):  # noqa: PT012 - the caller's loop
        for _ in proxy:
            raise ValueError("bug in caller")
    assert records(memory) == []

    del proxy
    record = only_record(memory)

    assert (record.status, record.chunks) == ("incomplete", 1)
    assert record.error is None


def test_closing_after_the_end_adds_no_second_record(memory: MemoryExporter) -> None:
    with wrap(FakeStream()) as proxy:
        list(proxy)
        proxy.close()
    del proxy

    assert [r.status for r in records(memory)] == ["ok"]


# -- sync: the stream is unchanged ---------------------------------------------------------------


def test_the_proxy_is_an_instance_of_the_wrapped_class() -> None:
    proxy = wrap(FakeStream())

    assert isinstance(proxy, FakeStream)
    proxy.close()


def test_attributes_and_methods_of_the_stream_pass_through() -> None:
    proxy = wrap(FakeStream())

    assert proxy.response == "http-response"
    assert proxy.helper() == "helper-result"
    proxy.close()


def test_with_gives_the_proxy_back_not_the_raw_stream() -> None:
    proxy = wrap(FakeStream())

    with proxy as entered:
        assert entered is proxy


def test_nothing_is_written_onto_the_wrapped_stream(memory: MemoryExporter) -> None:
    stream = FakeStream()
    before = dict(vars(stream))
    proxy = wrap(stream)
    with proxy:
        next(proxy)
        list(proxy)

    assert set(vars(stream)) == set(before)
    assert {k: v for k, v in vars(stream).items() if k != "closed"} == {
        k: v for k, v in before.items() if k != "closed"
    }


# -- sync: recorder hooks --------------------------------------------------------------------------


class BrokenObserver(StreamRecorder):
    __slots__ = ()

    def observe(self, chunk: Any) -> bool:
        raise KeyError("choices")


class BrokenCompleter(StreamRecorder):
    __slots__ = ()

    def complete(self, status: Any) -> Any:
        raise TypeError("bad final chunk")


class HidesUsageChunks(StreamRecorder):
    __slots__ = ()

    def observe(self, chunk: Any) -> bool:
        super().observe(chunk)
        return chunk != "usage"


class FirstTokenRecorder(StreamRecorder):
    __slots__ = ()

    def observe(self, chunk: Any) -> bool:
        self.generation.mark_first_token()
        return super().observe(chunk)


def test_a_recorder_that_raises_never_breaks_iteration(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream(), BrokenObserver)

    assert list(proxy) == CHUNKS
    assert only_record(memory).status == "ok"
    assert llmtap.stats()["faults"]["stream.observe.test"] == 3


def test_a_recorder_that_raises_never_breaks_next(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream(), BrokenObserver)

    assert [next(proxy), next(proxy), next(proxy)] == CHUNKS
    assert llmtap.stats()["faults"]["stream.observe.test"] == 3


def test_a_failing_complete_is_counted_and_the_record_still_finished(
    memory: MemoryExporter,
) -> None:
    proxy = wrap(FakeStream(), BrokenCompleter)

    assert list(proxy) == CHUNKS
    assert only_record(memory).status == "ok"
    assert llmtap.stats()["faults"]["stream.complete.test"] == 1


def test_a_recorder_can_hide_chunks_llmtap_asked_for(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream(["a", "b", "usage"]), HidesUsageChunks)

    assert list(proxy) == ["a", "b"]
    assert only_record(memory).chunks == 3


def test_time_to_first_token_is_set_by_mark_first_token(memory: MemoryExporter) -> None:
    proxy = wrap(FakeStream(first_delay_s=0.02), FirstTokenRecorder)
    list(proxy)
    record = only_record(memory)

    assert record.time_to_first_token_s is not None
    assert record.duration_s is not None
    assert 0.02 <= record.time_to_first_token_s <= record.duration_s


def test_only_the_first_mark_first_token_counts() -> None:
    current = generation()
    current.mark_first_token()
    first = current.record.time_to_first_token_s
    time.sleep(0.005)
    current.mark_first_token()

    assert current.record.time_to_first_token_s == first


def test_without_mark_first_token_there_is_no_time_to_first_token(
    memory: MemoryExporter,
) -> None:
    list(wrap(FakeStream()))

    assert only_record(memory).time_to_first_token_s is None


# -- async ---------------------------------------------------------------------------------------


async def test_async_reading_to_the_end_makes_one_ok_record(memory: MemoryExporter) -> None:
    proxy = awrap(AsyncFakeStream())

    assert [chunk async for chunk in proxy] == CHUNKS
    await proxy.close()
    record = only_record(memory)

    assert (record.status, record.chunks) == ("ok", 3)


async def test_async_anext_reads_one_chunk_at_a_time(memory: MemoryExporter) -> None:
    proxy = awrap(AsyncFakeStream())

    assert await proxy.__anext__() == "a"
    assert [chunk async for chunk in proxy] == ["b", "c"]
    with pytest.raises(StopAsyncIteration):
        await proxy.__anext__()
    assert only_record(memory).status == "ok"


async def test_async_breaking_out_and_dropping_the_stream_makes_an_incomplete_record(
    memory: MemoryExporter,
) -> None:
    proxy = awrap(AsyncFakeStream())
    async for _ in proxy:
        break
    del proxy
    for _ in range(3):  # the event loop closes the abandoned async generator
        await asyncio.sleep(0)
    record = only_record(memory)

    assert (record.status, record.chunks) == ("incomplete", 1)


async def test_async_close_before_the_end_makes_an_incomplete_record(
    memory: MemoryExporter,
) -> None:
    stream = AsyncFakeStream()
    proxy = awrap(stream)
    await proxy.__anext__()

    await proxy.close()

    assert stream.closed is True
    assert only_record(memory).status == "incomplete"


async def test_async_with_exit_before_the_end_makes_an_incomplete_record(
    memory: MemoryExporter,
) -> None:
    stream = AsyncFakeStream()
    proxy = awrap(stream)
    async with proxy as entered:
        assert entered is proxy
        await entered.__anext__()

    assert stream.closed is True
    assert only_record(memory).status == "incomplete"


async def test_async_an_error_from_the_stream_is_recorded_and_propagates_unchanged(
    memory: MemoryExporter,
) -> None:
    stream = AsyncFakeStream(fail_at=1)
    proxy = awrap(stream)

    with pytest.raises(StreamError) as raised:
        async for _ in proxy:
            pass

    assert raised.value is stream.error
    record = only_record(memory)
    assert (record.status, record.chunks) == ("error", 1)
    assert record.error is not None
    assert record.error.type == "StreamError"


async def test_async_a_recorder_that_raises_never_breaks_iteration(
    memory: MemoryExporter,
) -> None:
    proxy = awrap(AsyncFakeStream(), BrokenObserver)

    assert [chunk async for chunk in proxy] == CHUNKS
    assert llmtap.stats()["faults"]["stream.observe.test"] == 3
    assert only_record(memory).status == "ok"


async def test_async_proxy_keeps_type_and_attributes(memory: MemoryExporter) -> None:
    stream = AsyncFakeStream()
    before = set(vars(stream))
    proxy = awrap(stream)

    assert isinstance(proxy, AsyncFakeStream)
    assert proxy.response == "http-response"
    assert [chunk async for chunk in proxy] == CHUNKS
    assert set(vars(stream)) == before
