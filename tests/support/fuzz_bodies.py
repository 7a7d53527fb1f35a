"""Hypothesis strategies for malformed provider traffic, and the parity check it feeds.

A fuzz test takes a valid body or event (from the fake servers beside this module),
mutates it (fields dropped, swapped for the wrong type, nulled, huge or negative numbers,
unicode, lists for objects), or replaces it with bytes that are not JSON at all, and serves
it through the SDK's own mock transport. `outcome()` then reduces what the caller saw to
plain, comparable data, so the same body can be run with llmtap off and on and the two
outcomes compared for equality.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.exporters.sqlite import _row as sqlite_row

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # `memory` is reset by each example itself
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
"""Enough examples to find each bug seen so far in a few runs; the files run in seconds."""

ERROR_STATUSES = (400, 401, 404, 422, 429, 500, 503)
"""Statuses a malformed body also comes with (the SDKs are built with `max_retries=0`)."""

DONE = b"data: [DONE]\n\n"

# ---- JSON values ------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "12", "-3", "1e400", "null", "\u0000", "\ud7ff\U0001f600", "é" * 3]),
)

json_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
"""Any JSON value, a few levels deep (NaN excluded: it never equals itself)."""


def _wrong_type(value: Any) -> Any:
    """The same information in the type a careless server would send."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return {}


_ACTION = st.integers(min_value=0, max_value=11)
_KEEP_KEY = st.integers(min_value=0, max_value=9)
_ADD_KEY = st.integers(min_value=0, max_value=7)
_LIST_END = st.integers(min_value=0, max_value=5)
_KEYS = st.text(max_size=8)


def _mutate(draw: st.DrawFn, value: Any) -> Any:
    # A plain recursive function drawing directly: a nested strategy per node costs
    # hypothesis far more than the draws themselves.
    action = draw(_ACTION)
    if action == 9:
        return draw(json_values)
    if action == 10:
        return None
    if action == 11:
        return _wrong_type(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if draw(_KEEP_KEY) == 9:
                continue  # the field is missing
            out[key] = _mutate(draw, item)
        if draw(_ADD_KEY) == 7:
            out[draw(_KEYS)] = draw(json_values)
        return out
    if isinstance(value, list):
        items = [_mutate(draw, item) for item in value]
        end = draw(_LIST_END)
        if end == 4:
            return []
        if end == 5 and items:
            return [*items, items[-1]]  # a duplicate
        return items
    return value


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """`value` with some of its nodes dropped, nulled, retyped or replaced by garbage.

    Shrinks towards `value` itself, so a failing example shows the fewest changes.
    """
    return _mutate(draw, value)


# ---- bodies -------------------------------------------------------------------------------


@st.composite
def body_bytes(draw: st.DrawFn, template: Any) -> bytes:
    """A response body: the template mutated, truncated JSON, or no JSON at all."""
    kind = draw(st.sampled_from(["mutated"] * 6 + ["garbage", "truncated", "text"]))
    if kind == "text":
        return draw(st.sampled_from([b"", b"not json", b"<html>502</html>", b"\xff\xfe", b"{"]))
    if kind == "garbage":
        return json.dumps(draw(json_values)).encode()
    encoded = json.dumps(draw(mutated(template))).encode()
    if kind == "truncated":
        return encoded[: draw(st.integers(min_value=0, max_value=max(0, len(encoded) - 1)))]
    return encoded


@dataclass(frozen=True)
class Reply:
    """One non-stream HTTP answer."""

    status: int
    body: bytes
    content_type: str


@st.composite
def replies(draw: st.DrawFn, template: Any) -> Reply:
    status = draw(st.sampled_from([200] * 3 * len(ERROR_STATUSES) + list(ERROR_STATUSES)))
    content_type = draw(st.sampled_from(["application/json"] * 6 + ["text/plain", ""]))
    return Reply(status, draw(body_bytes(template)), content_type)


def answering(reply: Reply, http: Any) -> Callable[[Any], Any]:
    """A mock transport handler that gives every request `reply`."""
    headers = {"content-type": reply.content_type} if reply.content_type else {}
    return lambda request: http.Response(reply.status, headers=headers, content=reply.body)


# ---- server-sent events ------------------------------------------------------------------


def sse_event(data: Any, event: str | None = None) -> bytes:
    """One event; `data` is JSON-encoded unless it is already bytes."""
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    head = f"event: {event}\n".encode() if event is not None else b""
    return head + b"data: " + payload + b"\n\n"


def named_event(event: Any) -> bytes:
    """An event named by its own `type` when it still has one (Anthropic and the
    Responses API name their events so)."""
    kind = event.get("type") if isinstance(event, dict) else None
    usable = isinstance(kind, str) and not any(c in kind for c in "\r\n")
    return sse_event(event, kind if usable else None)


_BAD_DATA = st.sampled_from(
    [b"{", b"not json", b"", b"null", b"[]", b"42", b'"text"', b'{"error": {"message": "x"}}']
)


@st.composite
def malformed_events(draw: st.DrawFn) -> bytes:
    """An event no SDK expects: bad JSON, an unknown event name, a comment, a stray field."""
    kind = draw(st.sampled_from(["bad", "unknown", "comment", "retry", "error"]))
    if kind == "bad":
        return sse_event(draw(_BAD_DATA), draw(st.none() | st.sampled_from(["message", "x"])))
    if kind == "unknown":
        return sse_event(draw(json_values), draw(st.text("abcdefgh._", min_size=1, max_size=12)))
    if kind == "comment":
        return b": keep-alive\n\n"
    if kind == "retry":
        return b"retry: 10\n\n"
    return sse_event({"type": "error", "error": draw(json_values)}, "error")


@dataclass(frozen=True)
class EventScript:
    """A stream as served: its events (JSON values, or bytes sent as they are), and how
    it ends."""

    events: tuple[Any, ...]
    end: int
    """How many events are sent whole."""
    partial: int
    """How many bytes of the next event follow them (a half-written event)."""
    dropped: bool
    """The connection drops there (a read error) instead of closing cleanly."""

    def chunks(self, render: Callable[[Any], bytes]) -> list[bytes]:
        rendered = [e if isinstance(e, bytes) else render(e) for e in self.events]
        sent = rendered[: self.end]
        if self.end < len(rendered) and self.partial:
            sent.append(rendered[self.end][: self.partial])
        return sent


_EVENT_ACTION = st.integers(min_value=0, max_value=7)


@st.composite
def event_scripts(draw: st.DrawFn, valid: list[Any], *, done: bytes | None = None) -> EventScript:
    """A stream built from the `valid` events (each possibly mutated, dropped, duplicated
    or reordered), with malformed events mixed in, the terminator maybe missing, and the
    connection maybe cut or the last event half-written."""
    events: list[Any] = []
    for event in valid:
        action = draw(_EVENT_ACTION)
        if action == 5:
            continue  # dropped
        changed = _mutate(draw, event)
        events.append(changed)
        if action == 6:
            events.append(changed)  # duplicated
        if action == 7:
            events.append(draw(malformed_events()))
    if events and draw(st.integers(min_value=0, max_value=4)) == 4:
        events = draw(st.permutations(events))  # out of order
    if done is not None and draw(st.integers(min_value=0, max_value=3)) != 3:
        events.append(done)
    ending = draw(st.sampled_from(["clean", "clean", "clean", "cut", "truncate"]))
    if ending == "clean":
        return EventScript(tuple(events), len(events), 0, False)
    end = draw(st.integers(min_value=0, max_value=len(events)))
    partial = draw(st.integers(min_value=0, max_value=200))
    return EventScript(tuple(events), end, partial, ending == "cut")


def stream_content(
    script: EventScript, render: Callable[[Any], bytes], http: Any, *, is_async: bool
) -> Any:
    """The response content for `script`, raising the http library's ReadError where the
    connection drops."""
    chunks = script.chunks(render)
    if not script.dropped:
        return b"".join(chunks)

    def cut() -> Iterator[bytes]:
        yield from chunks
        raise http.ReadError("connection reset by peer")

    async def acut() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk
        await asyncio.sleep(0)
        raise http.ReadError("connection reset by peer")

    return acut() if is_async else cut()


# ---- what the caller saw -----------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value the caller got as comparable data: a model's type, what its `repr` shows
    and which fields count as set (what `to_dict()`/`to_json()` print)."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            unset = dump(exclude_unset=True, warnings=False)
        except Exception as exc:  # a malformed model that cannot be dumped, both ways
            unset = ("undumpable", type(exc).__name__)
        return (type(value).__qualname__, repr(value), unset)
    return (type(value).__qualname__, repr(value))


def failure(exc: BaseException) -> tuple[str, str, str]:
    """An exception as comparable data: its class and message."""
    return ("raised", f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc))


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("returned", plain(call()))
    except Exception as exc:
        return failure(exc)


def drained(stream: Iterator[Any]) -> Any:
    """Every item a stream yields, then how it ended."""
    items: list[Any] = []
    try:
        for item in stream:
            items.append(plain(item))
    except Exception as exc:
        return (items, failure(exc))
    return (items, "exhausted")


async def adrained(stream: AsyncIterator[Any]) -> Any:
    items: list[Any] = []
    try:
        async for item in stream:
            items.append(plain(item))
    except Exception as exc:
        return (items, failure(exc))
    return (items, "exhausted")


def returned(call: Callable[[], Any], is_async: bool) -> Any:
    """What a non-stream call (`call()` makes it, or returns its awaitable) gave the caller."""
    if not is_async:
        return outcome(call)

    async def run() -> Any:
        try:
            result = await call()
        except Exception as exc:
            return failure(exc)
        return ("returned", plain(result))

    return asyncio.run(run())


def streamed(call: Callable[[], Any], is_async: bool) -> Any:
    """What a stream call gave the caller: its failure, or every item and how it ended."""
    if not is_async:
        try:
            stream = call()
        except Exception as exc:
            return failure(exc)
        return drained(stream)

    async def run() -> Any:
        try:
            stream = await call()
        except Exception as exc:
            return failure(exc)
        return await adrained(stream)

    return asyncio.run(run())


def parity(
    memory: MemoryExporter, run: Callable[[], Any], off: Callable[[], None], on: Callable[[], None]
) -> Any:
    """`run()` with llmtap off, then on: equal outcomes, and one finished record."""
    forget(memory)
    off()
    try:
        bare = run()
    finally:
        on()
    no_record(memory)
    tapped = run()
    assert tapped == bare
    return one_record(memory)


# ---- the record ----------------------------------------------------------------------------

FINAL_STATUSES = frozenset({"ok", "error", "incomplete"})


def one_record(memory: MemoryExporter) -> Any:
    """The one record a finished call left, checked to be exportable; the exporter cleared."""
    llmtap.flush()
    records = memory.records
    memory.clear()
    assert len(records) == 1, records
    record = records[0]
    assert record.status in FINAL_STATUSES, record.status
    storable(record)
    usage = record.usage
    for name in (
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "cache_creation_input_tokens",
        "reasoning_tokens",
    ):
        count = getattr(usage, name)
        assert count is None or (isinstance(count, int) and not isinstance(count, bool)), (
            name,
            count,
        )
    return record


def storable(record: Any) -> None:
    """The record binds to the default store's row, as its exporter writes it: a value
    SQLite cannot take (a list as the model, a count beyond 64 bits) fails the batch."""
    row = sqlite_row(record)
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.execute(f"SELECT {', '.join('?' * len(row))}", row)


def forget(memory: MemoryExporter) -> None:
    """Start an example with no record left by an earlier one that failed."""
    llmtap.flush()
    memory.clear()


def no_record(memory: MemoryExporter) -> None:
    llmtap.flush()
    assert memory.records == [], [(r.status, r.error, r.chunks) for r in memory.records]
