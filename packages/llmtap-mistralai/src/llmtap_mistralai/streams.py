"""Chat, agents and FIM streams: read each event as it passes, keep strings, not events.

All three stream `CompletionEvent`s whose `data` is a chat-shaped `CompletionChunk`;
Mistral sends the usage on the last chunk (the one with the finish reason) without being
asked. Keeping every event object until the worker runs costs more in garbage collection
than reading it now, so the common event (one choice, text only) leaves just its string,
and the rarer ones (role, thinking, tool calls, finish, usage) are read in full on the
spot. Only the final `UsageInfo` object is kept, for the worker to map.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import Message, Part, text_part, tool_call_part
from llmtap.record import Record, Status
from llmtap.streams import AsyncStreamProxy, StreamRecorder, SyncStreamProxy
from llmtap_mistralai.chat import finish_output
from llmtap_mistralai.messages import content_part, reasoning_part, thinking_text, value
from llmtap_mistralai.request import Request, given


class _Choice:
    """One choice's output so far. `texts` of choice 0 is the recorder's own list, which
    the fast path appends to; reasoning pieces remember how many texts preceded them, so
    the order of thinking and answer is kept."""

    __slots__ = ("by_index", "finish_reason", "others", "reasoning", "role", "texts", "tools")

    def __init__(self, texts: list[str]) -> None:
        self.role = "assistant"
        self.texts = texts
        self.reasoning: list[tuple[int, str]] = []
        self.others: list[Part] = []
        self.tools: list[dict[str, Any]] = []
        self.by_index: dict[Any, dict[str, Any]] = {}
        self.finish_reason: str | None = None

    def add(self, delta: Any) -> bool:
        """Read a delta; True when it carried output (text, thinking, a tool call...)."""
        role = getattr(delta, "role", None)
        if role:
            self.role = role
        bearing = False
        content = getattr(delta, "content", None)
        if isinstance(content, str):
            if content:
                self.texts.append(content)
                bearing = True
        elif content:
            for chunk in content:
                bearing = self._add_chunk(chunk) or bearing
        for call in getattr(delta, "tool_calls", None) or ():
            self._add_tool_call(call)
            bearing = True
        return bearing

    def _add_chunk(self, chunk: Any) -> bool:
        kind = value(chunk, "type")
        if kind == "text":
            text = value(chunk, "text")
            if text:
                self.texts.append(text)
            return bool(text)
        if kind == "thinking":
            text = thinking_text(chunk)
            if text:
                self.reasoning.append((len(self.texts), text))
            return bool(text)
        self.others.append(content_part(chunk))
        return True

    def _add_tool_call(self, call: Any) -> None:
        """Mistral sends each tool call whole, with its id; a piece without an id (in the
        OpenAI style) continues the call at the same index."""
        call_id = value(call, "id")
        index = value(call, "index")
        slot = None if call_id and call_id != "null" else self.by_index.get(index)
        if slot is None:
            slot = {"id": call_id, "name": None, "pieces": [], "arguments": None}
            self.tools.append(slot)
        self.by_index[index] = slot
        function = value(call, "function")
        name = value(function, "name")
        if name:
            slot["name"] = name
        arguments = value(function, "arguments")
        if isinstance(arguments, str):
            slot["pieces"].append(arguments)
        elif arguments is not None:  # Mistral also accepts arguments as an object
            slot["arguments"] = arguments

    def message(self) -> Message:
        parts: list[Part] = []
        texts = self.texts
        taken = 0
        thought: list[str] = []
        for position, piece in self.reasoning:
            if position > taken:
                if thought:
                    parts.append(reasoning_part("".join(thought)))
                    thought = []
                parts.append(text_part("".join(texts[taken:position])))
                taken = position
            thought.append(piece)
        if thought:
            parts.append(reasoning_part("".join(thought)))
        if len(texts) > taken:
            parts.append(text_part("".join(texts[taken:])))
        parts.extend(self.others)
        for slot in self.tools:
            arguments = slot["arguments"]
            call = {
                "id": slot["id"],
                "function": {
                    "name": slot["name"],
                    "arguments": "".join(slot["pieces"]) if arguments is None else arguments,
                },
            }
            parts.append(tool_call_part(call))
        return {"role": self.role, "parts": parts, "finish_reason": self.finish_reason}


class ChatStreamRecorder(StreamRecorder):
    """The recorder for chat, agents and FIM streams."""

    __slots__ = (
        "choices",
        "fast",
        "no_tools",
        "read",
        "read_texts",
        "request",
        "response_id",
        "response_model",
        "single_choice",
        "started",
        "texts",
        "usage",
    )

    def __init__(self, generation: Generation, request: Request) -> None:
        super().__init__(generation)
        kwargs = request.kwargs
        self.request = request
        self.single_choice = value(kwargs, "n") in (None, 1)
        self.no_tools = not given(kwargs.get("tools"))
        self.fast = False  # until events read in full have shown the id and first output
        self.started = False
        self.read = 0  # events read in full
        self.read_texts = 0  # texts those added to choice 0
        self.texts: list[str] = []
        self.choices: dict[int, _Choice] = {}
        self.response_id: Any = None
        self.response_model: Any = None
        self.usage: Any = None

    def observe(self, event: Any) -> bool:
        # Each object's fields are read together, outermost first: every read of a
        # pydantic field is slow, and five objects deep, memory locality counts too.
        if self.fast:
            try:
                chunk = event.data
                if chunk.usage is None:
                    (choice,) = chunk.choices
                    if choice.finish_reason is None:
                        delta = choice.delta
                        text = delta.content
                        if (
                            text.__class__ is str
                            and text
                            and (self.no_tools or not delta.tool_calls)
                        ):
                            self.texts.append(text)
                            return True
            except (AttributeError, TypeError, ValueError):
                pass  # an unusual event: read it in full below
        self._read(getattr(event, "data", None))
        return True

    def _read(self, chunk: Any) -> None:
        self.read += 1
        texts = self.texts
        before = len(texts)
        if self.response_id is None:
            self.response_id = getattr(chunk, "id", None)
            self.response_model = getattr(chunk, "model", None)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        bearing = False
        for choice in getattr(chunk, "choices", None) or ():
            index = getattr(choice, "index", 0) or 0
            accumulator = self.choices.get(index)
            if accumulator is None:
                accumulator = self.choices[index] = _Choice(texts if index == 0 else [])
            delta = getattr(choice, "delta", None)
            if delta is not None:
                bearing = accumulator.add(delta) or bearing
            finish_reason = getattr(choice, "finish_reason", None)
            if finish_reason:
                accumulator.finish_reason = finish_reason
        self.read_texts += len(texts) - before
        if bearing and not self.started:
            self.started = True
            self.generation.mark_first_token()
        # The fast path needs the response id read, the first token stamped and choice 0
        # (whose text list it appends to) in place.
        self.fast = (
            self.single_choice
            and self.started
            and self.response_id is not None
            and 0 in self.choices
        )

    def chunk_count(self) -> int:
        # Each fast-path event added exactly one text; events read in full are counted.
        return self.read + len(self.texts) - self.read_texts

    def complete(self, status: Status) -> Status:
        self.generation.record.resolver = partial(_resolve_stream, self)
        if status == "ok" and not any(c.finish_reason for c in self.choices.values()):
            return "incomplete"  # the server ended the stream before any choice finished
        return status


def _resolve_stream(recorder: ChatStreamRecorder, record: Record) -> None:
    """Fill a record from what a stream left (runs on the worker)."""
    recorder.request.apply(record)
    record.response_id = recorder.response_id
    record.response_model = recorder.response_model
    choices = recorder.choices
    output = [choices[index].message() for index in sorted(choices)]
    finish_output(record, output, recorder.usage)


class EventStreamProxy(SyncStreamProxy):
    """A recorded `EventStream`. mistralai 1.x streams have no `close()` (leaving the
    `with` block closes them), so `close` is offered only where the SDK's stream has it."""

    @property
    def close(self) -> Callable[[], Any]:
        self.__wrapped__.close  # noqa: B018 - raises AttributeError exactly as the SDK would
        return partial(SyncStreamProxy.close, self)


class EventStreamAsyncProxy(AsyncStreamProxy):
    """A recorded `EventStreamAsync`; `close` only where the SDK's stream has it."""

    @property
    def close(self) -> Callable[[], Any]:
        self.__wrapped__.close  # noqa: B018 - raises AttributeError exactly as the SDK would
        return partial(AsyncStreamProxy.close, self)
