"""Hypothesis strategies for the framework fuzz tests: provider replies that are
almost right (a real body with fields dropped, retyped or replaced by garbage), plain
garbage, and the outcome of a host call, to compare with llmtap on and off.

A reply is served by an in-process mock transport, so the real SDK and the real
framework above it parse it exactly as they would a broken server's answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

JSON = Any

# Values a broken server or a buggy framework might put anywhere.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
# Odd Python values (not JSON): what a framework callback may be handed.
odd_values = json_values | st.sampled_from(
    [object(), b"bytes", ("a", 1), frozenset({"x"}), float("nan"), -1, 10**30, ValueError("x")]
)


@st.composite
def mutated(draw: st.DrawFn, template: JSON, values: st.SearchStrategy[Any] = json_values) -> JSON:
    """`template` with some fields deleted, some replaced by `values`, some added.

    Choices shrink towards 0, which keeps the template as it is, so a failing example
    shrinks to the few changes that matter. One example in four changes nothing and
    one in four changes little, so the paths past the parsing are reached too.
    """
    odds = draw(st.sampled_from([0, 60, 16]))  # 1 in `odds` nodes changed; 0: none

    def changed() -> bool:
        return odds > 0 and draw(st.integers(0, odds)) == odds

    def walk(value: JSON) -> JSON:
        if changed():
            return draw(values)
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                if changed():
                    continue
                result[key] = walk(item)
            if changed():
                result[draw(st.text(max_size=8))] = draw(values)
            return result
        if isinstance(value, list):
            items = [walk(item) for item in value]
            if changed() and items:
                items.append(walk(value[-1]))
            elif changed():
                items = []
            return items
        return value

    return walk(template)


@dataclass(frozen=True)
class Reply:
    """One HTTP response a mock transport serves."""

    status: int
    body: bytes
    content_type: str

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return f"Reply({self.status}, {self.content_type!r}, {self.body[:2000]!r})"


ERROR_STATUSES = (400, 401, 404, 422, 429, 500, 503, 529)


def _dump(value: JSON) -> bytes:
    return json.dumps(value).encode()


@st.composite
def json_reply(draw: st.DrawFn, template: JSON) -> Reply:
    """A JSON body: the template mutated, cut short, or not JSON at all; mostly 200."""
    status = 200 if draw(st.integers(0, 7)) < 7 else draw(st.sampled_from(ERROR_STATUSES))
    kind = draw(st.integers(0, 9))
    if kind <= 6:
        body = _dump(draw(mutated(template)))
    elif kind == 7:
        whole = _dump(template)
        body = whole[: draw(st.integers(0, len(whole) - 1))]
    elif kind == 8:
        body = _dump(draw(json_values))
    else:
        body = draw(st.binary(max_size=40))
    return Reply(status, body, "application/json")


@st.composite
def sse_reply(
    draw: st.DrawFn,
    events: list[tuple[str | None, JSON]],
    done: bytes | None = None,
) -> Reply:
    """A text/event-stream: each event mutated, some dropped, repeated or garbled,
    maybe cut off before its end. `events` are (event name or None, data) pairs."""
    pieces: list[bytes] = []
    for name, data in events:
        fate = draw(st.integers(0, 19))
        if fate == 19:
            continue
        prefix = f"event: {name}\n".encode() if name else b""
        if fate == 18:
            pieces.append(prefix + b"data: " + _dump(data)[: draw(st.integers(0, 8))] + b"\n\n")
            continue
        chunk = prefix + b"data: " + _dump(draw(mutated(data))) + b"\n\n"
        pieces.append(chunk)
        if fate == 17:
            pieces.append(chunk)
    if done is not None and draw(st.integers(0, 5)) < 5:
        pieces.append(done)
    if draw(st.integers(0, 9)) == 9:
        pieces.insert(draw(st.integers(0, len(pieces))), draw(st.sampled_from(_JUNK_LINES)))
    body = b"".join(pieces)
    if draw(st.integers(0, 9)) == 9 and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    status = 200 if draw(st.integers(0, 9)) < 9 else draw(st.sampled_from(ERROR_STATUSES))
    return Reply(status, body, "text/event-stream")


_JUNK_LINES = [
    b": keep-alive\n\n",
    b"data: {not json\n\n",
    b"event: ping\ndata: {}\n\n",
    b"retry: 10\n\n",
    b"data: null\n\n",
    b"data: []\n\n",
    b'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error"}}\n\n',
]


def responder(http: Any, reply: Reply) -> Callable[[Any], Any]:
    """A MockTransport handler serving `reply` to every request (`http` is the httpx
    module the SDK uses: httpx or httpx2)."""

    def handle(request: Any) -> Any:
        return http.Response(
            reply.status, content=reply.body, headers={"content-type": reply.content_type}
        )

    return handle


# -- provider bodies ------------------------------------------------------------------

OPENAI_USAGE = {
    "prompt_tokens": 11,
    "completion_tokens": 4,
    "total_tokens": 15,
    "prompt_tokens_details": {"cached_tokens": 2, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 1, "audio_tokens": 0},
}
OPENAI_TOOL_CALL = {
    "id": "call_fuzz",
    "type": "function",
    "function": {"name": "lookup", "arguments": '{"city": "Paris"}'},
}
OPENAI_COMPLETION = {
    "id": "chatcmpl-fuzz",
    "object": "chat.completion",
    "created": 1763780000,
    "model": "gpt-4o-mini-2024-07-18",
    "system_fingerprint": "fp_fuzz",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi", "tool_calls": [OPENAI_TOOL_CALL]},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": OPENAI_USAGE,
}


def _openai_chunk(delta: JSON, finish: Any = None, usage: Any = None, choices: bool = True) -> JSON:
    return {
        "id": "chatcmpl-fuzz",
        "object": "chat.completion.chunk",
        "created": 1763780000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
        "usage": usage,
    }


OPENAI_STREAM: list[tuple[str | None, JSON]] = [
    (None, _openai_chunk({"role": "assistant", "content": ""})),
    (None, _openai_chunk({"content": "Hi"})),
    (None, _openai_chunk({"content": " there"})),
    (None, _openai_chunk({"tool_calls": [{"index": 0, **OPENAI_TOOL_CALL}]})),
    (None, _openai_chunk({}, finish="stop")),
    (None, _openai_chunk({}, usage=OPENAI_USAGE, choices=False)),
]
OPENAI_DONE = b"data: [DONE]\n\n"

ANTHROPIC_USAGE = {
    "input_tokens": 10,
    "output_tokens": 5,
    "cache_read_input_tokens": 3,
    "cache_creation_input_tokens": 2,
}
ANTHROPIC_MESSAGE = {
    "id": "msg_fuzz",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "text", "text": "Hi"},
        {"type": "tool_use", "id": "toolu_fuzz", "name": "lookup", "input": {"city": "Paris"}},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": ANTHROPIC_USAGE,
}
ANTHROPIC_STREAM: list[tuple[str | None, JSON]] = [
    (
        "message_start",
        {
            "type": "message_start",
            "message": {**ANTHROPIC_MESSAGE, "content": [], "stop_reason": None},
        },
    ),
    (
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        },
    ),
    ("message_stop", {"type": "message_stop"}),
]

openai_completion_reply = json_reply(OPENAI_COMPLETION)
openai_stream_reply = sse_reply(OPENAI_STREAM, OPENAI_DONE)
anthropic_message_reply = json_reply(ANTHROPIC_MESSAGE)
anthropic_stream_reply = sse_reply(ANTHROPIC_STREAM)


# -- outcomes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the caller saw: a normalised result, or the type and text of the error."""

    value: Any = None
    error: tuple[str, str] | None = None


def outcome_of(call: Callable[[], Any], normalise: Callable[[Any], Any]) -> Outcome:
    try:
        return Outcome(value=normalise(call()))
    except Exception as exc:  # the host call's own failure, compared across runs
        # LiteLLM puts the traceback of the error it wraps into the message; its frames
        # (not the error) differ when a patched method sits in the stack.
        message = str(exc).split("Traceback (most recent call last)")[0]
        return Outcome(error=(type(exc).__qualname__, message))


def without_keys(value: Any, keys: frozenset[str]) -> Any:
    """`value` with the mapping keys in `keys` removed at every depth (run ids and
    other per-call values that differ between two identical calls)."""
    if isinstance(value, Mapping):
        return {k: without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, (list, tuple)):
        return [without_keys(v, keys) for v in value]
    return value
