"""Message streams: read event by event on the caller's path, reassembled on the worker.

The common event, a `content_block_delta` for the block being streamed, leaves only its
string (text, thinking or a tool call's partial JSON): keeping thousands of live event
objects per stream costs more in garbage collection than reading one attribute. The
few other events (message_start, block starts and stops, message_delta, message_stop,
signature and citation deltas) are kept whole; they carry ids, usage and stop reason.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import Part, field, parse_arguments, text_field, text_part
from llmtap.record import Record, Status
from llmtap.streams import StreamRecorder
from llmtap.usage import merge_usage
from llmtap_anthropic.content import TOOL_CALLS, block_parts, reasoning_part, tool_call_part
from llmtap_anthropic.request import MessagesRequest
from llmtap_anthropic.response import apply_output

# Block type -> (the delta type that streams it, the delta's field holding the piece).
_STREAMED = {
    "text": ("text_delta", "text"),
    "thinking": ("thinking_delta", "thinking"),
    **{kind: ("input_json_delta", "partial_json") for kind in TOOL_CALLS},
}
_PIECE_DELTAS = frozenset(delta_type for delta_type, _ in _STREAMED.values())


class MessageStreamRecorder(StreamRecorder):
    """Keeps each streamed block's pieces as strings, and the rare events whole."""

    __slots__ = (
        "current",
        "current_index",
        "delta_class",
        "delta_field",
        "delta_type",
        "event_class",
        "fast_index",
        "kept",
        "pieces",
        "request",
        "started",
    )

    def __init__(self, generation: Generation, request: MessagesRequest) -> None:
        super().__init__(generation)
        self.request = request
        self.kept: list[Any] = []
        self.pieces: dict[int, list[str]] = {}
        self.current: list[str] = []
        self.current_index = -1  # the block being streamed, if its deltas carry pieces
        self.fast_index = -1  # the same once the first token is stamped: the fast path's
        self.delta_type = self.delta_field = ""
        self.event_class: Any = None  # a content_block_delta's class, once seen
        self.delta_class: Any = None  # the class of the current block's pieces
        self.started = False

    def observe(self, event: Any) -> bool:
        # The common event, a piece for the block being streamed, is recognised by the
        # classes of the event and its delta (the SDK's classes each have one `type`;
        # a class check is cheaper than reading `type`: every read of a pydantic field
        # is slow) and leaves its string; the slow path reads the rest and sets up the
        # fast one.
        try:
            if type(event) is self.event_class and event.index == self.fast_index:
                delta = event.delta
                if type(delta) is self.delta_class:
                    self.current.append(getattr(delta, self.delta_field))
                    return True
        except AttributeError:
            pass  # an event built without a field: read it the slow way
        self._read(event)
        return True

    def _start(self) -> None:
        self.started = True
        self.generation.mark_first_token()
        self.fast_index = self.current_index

    def _read(self, event: Any) -> None:
        """Every event the fast path did not take; also sets the fast path up."""
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            if self.event_class is None:
                self.event_class = type(event)
            if not self.started:
                self._start()
            delta = getattr(event, "delta", None)
            delta_type = getattr(delta, "type", None)
            if isinstance(delta_type, str) and delta_type in _PIECE_DELTAS:
                piece = getattr(delta, self.delta_field, None) if self.delta_field else None
                if (
                    getattr(event, "index", None) == self.current_index
                    and delta_type == self.delta_type
                    and isinstance(piece, str)
                ):
                    self.current.append(piece)  # in order with the fast path's pieces
                    self.delta_class = type(delta)
                    return
        self.kept.append(event)
        if kind == "content_block_start":
            block = getattr(event, "content_block", None)
            block_type = getattr(block, "type", None)
            streamed = _STREAMED.get(block_type) if isinstance(block_type, str) else None
            self.delta_class = None
            index = getattr(event, "index", None)
            if streamed is None or not isinstance(index, int):  # [] is unhashable
                self.current_index = -1
            else:
                self.current_index = index
                self.delta_type, self.delta_field = streamed
                self.current = self.pieces.setdefault(index, [])
            if self.started:
                self.fast_index = self.current_index
            elif _has_content(block):
                self._start()

    def chunk_count(self) -> int:
        return len(self.kept) + sum(map(len, self.pieces.values()))

    def complete(self, status: Status) -> Status:
        self.generation.record.resolver = partial(
            resolve_stream, self.request, self.kept, self.pieces
        )
        return status


def _has_content(block: Any) -> bool:
    """A block that arrives with content: a tool call's name, a server tool's result."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return bool(getattr(block, "text", None))
    if kind == "thinking":
        return bool(getattr(block, "thinking", None))
    return True


class _Block:
    """One content block: its start event's block plus the pieces streamed into it."""

    __slots__ = ("later", "start")

    def __init__(self, start: Any) -> None:
        self.start = start
        self.later: list[str] = []  # pieces that arrived off the fast path, in order

    def add(self, delta: Any) -> None:
        streamed = _STREAMED.get(text_field(self.start, "type") or "")
        if streamed is not None and field(delta, "type") == streamed[0]:
            piece = field(delta, streamed[1])
            if isinstance(piece, str):
                self.later.append(piece)

    def parts(self, pieces: list[str]) -> list[Part]:
        start = self.start
        kind = text_field(start, "type")
        # Strings only: the fast path appends what the SDK parsed, which a malformed
        # event could leave as null.
        streamed = "".join([p for p in pieces if isinstance(p, str)]) + "".join(self.later)
        if kind == "text":
            return [text_part((text_field(start, "text") or "") + streamed)]
        if kind == "thinking":
            return [reasoning_part((text_field(start, "thinking") or "") + streamed)]
        if kind in TOOL_CALLS:
            arguments = parse_arguments(streamed) if streamed else field(start, "input")
            return [tool_call_part(field(start, "id"), field(start, "name"), arguments)]
        return block_parts(start)


def resolve_stream(
    request: MessagesRequest, kept: list[Any], pieces: dict[int, list[str]], record: Record
) -> None:
    """Fill a record from what a message stream left (runs on the worker)."""
    request.apply(record)
    blocks: dict[int, _Block] = {}
    usages: list[Any] = []
    final_usage = False
    stop_reason = stop_sequence = None
    for event in kept:
        kind = field(event, "type")
        if kind == "message_start":
            message = field(event, "message")
            record.response_id = text_field(message, "id")
            record.response_model = text_field(message, "model")
            usages.append(field(message, "usage"))
        elif kind == "content_block_start":
            index = field(event, "index")
            if isinstance(index, int):
                blocks[index] = _Block(field(event, "content_block"))
        elif kind == "content_block_delta":
            index = field(event, "index")
            block = blocks.get(index) if isinstance(index, int) else None  # [] is unhashable
            if block is not None:
                block.add(field(event, "delta"))
        elif kind == "message_delta":
            delta = field(event, "delta")
            stop_reason = field(delta, "stop_reason") or stop_reason
            stop_sequence = field(delta, "stop_sequence") or stop_sequence
            usages.append(field(event, "usage"))
            final_usage = True
    parts: list[Part] = []
    for index in sorted(blocks):
        parts.extend(blocks[index].parts(pieces.get(index, [])))
    apply_output(record, parts, stop_reason, stop_sequence, merge_usage(*usages))
    if not final_usage:
        # message_start's output count is a placeholder (usually 1), not a count; the
        # real one comes with message_delta. provider_usage still shows what was sent.
        record.usage.output_tokens = None
    if stop_reason is None:
        if not parts:
            record.output = record.tool_calls = None
        if record.status == "ok":
            # The server ended the stream before the message finished: a cut-off answer.
            record.status = "incomplete"
