"""Chat Completions: what is read on the caller's path, and what the worker maps later.

On the caller's path llmtap snapshots the request (the messages list is copied, because
callers append to it afterwards), starts the clock, and for streams keeps each chunk and
stamps the first content-bearing one. Mapping to GenAI messages, usage and output runs
in a resolver on the background worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import (
    chat_message,
    chat_messages,
    field,
    joined_text,
    text_field,
    tool_call_part,
    tool_definitions,
)
from llmtap.record import Record, Status
from llmtap.stainless import given
from llmtap.streams import StreamRecorder
from llmtap.usage import from_openai_format, raw_usage
from llmtap_openai.request import Request


def wants_usage(stream_options: Any) -> bool:
    return isinstance(stream_options, Mapping) and bool(stream_options.get("include_usage"))


class ChatRequest(Request):
    """A chat request; messages and tools are copied because callers append to them."""

    __slots__ = ("messages", "tools")

    SETTINGS = frozenset(
        {
            "temperature",
            "top_p",
            "max_tokens",
            "max_completion_tokens",
            "n",
            "seed",
            "stop",
            "presence_penalty",
            "frequency_penalty",
            "logit_bias",
            "logprobs",
            "top_logprobs",
            "response_format",
            "reasoning_effort",
            "verbosity",
            "service_tier",
            "parallel_tool_calls",
            "tool_choice",
            "modalities",
            "store",
            "user",
            "prompt_cache_key",
            "safety_identifier",
            "web_search_options",
        }
    )

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(client, kwargs)
        self.messages = self.snapshot("messages")
        self.tools = self.snapshot("tools")

    def apply(self, record: Record) -> None:
        super().apply(record)
        if self.messages is not None:
            record.input = chat_messages(self.messages)
        if self.tools is not None:
            record.tools = tool_definitions(self.tools)


def resolve_completion(request: ChatRequest, response: Any, record: Record) -> None:
    """Fill a record from a ChatCompletion (runs on the worker)."""
    request.apply(record)
    record.response_id = text_field(response, "id")
    record.response_model = text_field(response, "model")
    output: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    for choice in field(response, "choices") or ():
        message = chat_message(field(choice, "message") or {})
        message["role"] = message.get("role") or "assistant"
        message["finish_reason"] = field(choice, "finish_reason")
        output.append(message)
        tool_calls.extend(p for p in message["parts"] if p["type"] == "tool_call")
    record.output = output
    record.tool_calls = tool_calls or None
    record.finish_reason = output[0]["finish_reason"] if output else None
    _apply_usage(record, field(response, "usage"))
    _apply_response_metadata(record, response)


def _apply_usage(record: Record, usage: Any) -> None:
    record.usage = from_openai_format(usage)
    record.provider_usage = raw_usage(usage)


def _apply_response_metadata(record: Record, response: Any) -> None:
    for key in ("system_fingerprint", "service_tier"):
        value = field(response, key)
        if value:
            record.metadata[f"openai.{key}"] = value


class _ChoiceAccumulator:
    __slots__ = ("content", "finish_reason", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role = "assistant"
        self.content: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None

    def add(self, delta: Any) -> None:
        role = field(delta, "role")
        if role:
            self.role = role
        content = field(delta, "content")
        if content:
            self.content.append(content)
        refusal = field(delta, "refusal")
        if refusal:
            self.refusal.append(refusal)
        for call in _listed(field(delta, "tool_calls")):
            index = field(call, "index")
            self._add_tool_call(index if isinstance(index, int) else 0, call)
        function_call = field(delta, "function_call")
        if function_call:
            self._add_tool_call(-1, {"function": function_call})

    def _add_tool_call(self, index: int, call: Any) -> None:
        slot = self.tool_calls.setdefault(index, {"id": None, "name": None, "arguments": []})
        slot["id"] = slot["id"] or field(call, "id")
        function = field(call, "function")
        name = field(function, "name")
        if name:
            slot["name"] = name
        arguments = field(function, "arguments")
        if arguments:
            slot["arguments"].append(arguments)

    def message(self) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if self.content:
            parts.append({"type": "text", "content": joined_text(self.content)})
        if self.refusal:
            parts.append({"type": "refusal", "content": joined_text(self.refusal)})
        for _, slot in sorted(self.tool_calls.items()):
            parts.append(
                tool_call_part(
                    {
                        "id": slot["id"],
                        "function": {
                            "name": slot["name"],
                            "arguments": joined_text(slot["arguments"]),
                        },
                    }
                )
            )
        return {"role": self.role, "parts": parts, "finish_reason": self.finish_reason}


def resolve_stream(
    request: ChatRequest, texts: list[str], kept: list[tuple[int, Any]], record: Record
) -> None:
    """Fill a record from what a chat stream left (runs on the worker).

    `texts` are the text pieces read on the fast path (single-choice requests only, so
    they belong to choice 0); `kept` are the other chunks, each with the number of texts
    that came before it, so order is restored.
    """
    request.apply(record)
    choices: dict[int, _ChoiceAccumulator] = {}
    usage = None
    taken = 0

    def choice(index: int) -> _ChoiceAccumulator:
        accumulator = choices.get(index)
        if accumulator is None:
            accumulator = choices[index] = _ChoiceAccumulator()
        return accumulator

    for texts_before, chunk in kept:
        if texts_before > taken:
            choice(0).content.extend(texts[taken:texts_before])
            taken = texts_before
        if record.response_id is None:
            record.response_id = text_field(chunk, "id") or None
        if record.response_model is None:
            record.response_model = text_field(chunk, "model") or None
        chunk_usage = field(chunk, "usage")
        if chunk_usage is not None:
            usage = chunk_usage
        for item in _listed(field(chunk, "choices")):
            index = field(item, "index")
            accumulator = choice(index if isinstance(index, int) else 0)
            delta = field(item, "delta")
            if delta is not None:
                accumulator.add(delta)
            finish_reason = field(item, "finish_reason")
            if finish_reason:
                accumulator.finish_reason = finish_reason
    if len(texts) > taken:
        choice(0).content.extend(texts[taken:])
    output = [choices[i].message() for i in sorted(choices)]
    record.output = output
    tool_calls = [p for m in output for p in m["parts"] if p["type"] == "tool_call"]
    record.tool_calls = tool_calls or None
    record.finish_reason = output[0]["finish_reason"] if output else None
    if record.status == "ok" and not any(m["finish_reason"] for m in output):
        # The server ended the stream before any choice finished: a cut-off answer.
        record.status = "incomplete"
    _apply_usage(record, usage)
    if kept:
        _apply_response_metadata(record, kept[-1][1])


def _listed(value: Any) -> Any:
    """A list field of a chunk (choices, tool calls), or nothing when a malformed chunk
    holds something else there."""
    return value if isinstance(value, list) else ()


def _content_bearing(chunk: Any) -> bool:
    # getattr, not `field`: chunks are SDK objects, and this runs on the caller's path.
    for choice in _listed(getattr(chunk, "choices", None)):
        delta = getattr(choice, "delta", None)
        if (
            getattr(delta, "content", None)
            or getattr(delta, "tool_calls", None)
            or getattr(delta, "refusal", None)
        ):
            return True
    return False


def _forget_null_usage(chunk: Any) -> None:
    """Undo the one trace llmtap's `include_usage` leaves on the caller's chunks.

    Once usage is asked for, OpenAI sends `"usage": null` on every chunk, so the field
    counts as set and `chunk.to_dict()` / `to_json()` would show it. The caller did not
    ask, so the chunk is put back as it would have arrived.
    """
    fields = getattr(chunk, "__pydantic_fields_set__", None)
    if fields is None:  # pydantic v1
        fields = getattr(chunk, "__fields_set__", None)
    if fields is not None:
        fields.discard("usage")


class ChatStreamRecorder(StreamRecorder):
    """Reads each chunk as it passes; hides the usage chunk llmtap asked for.

    Keeping every chunk object until the worker runs costs more in garbage collection
    than reading it now (measured: ~550 µs of collection per 200-chunk stream, against
    none), so the common chunk (one choice, text only) leaves just its string. Rarer
    chunks (role, tool calls, finish, usage, anything unexpected) are kept whole, and
    so is every chunk of an n > 1 request, whose choices interleave.
    """

    __slots__ = (
        "fast",
        "hide_usage_chunk",
        "kept",
        "no_tools",
        "request",
        "single_choice",
        "started",
        "texts",
    )

    def __init__(self, generation: Generation, request: ChatRequest, hide_usage_chunk: bool):
        super().__init__(generation)
        kwargs = request.kwargs
        self.request = request
        self.hide_usage_chunk = hide_usage_chunk
        self.single_choice = kwargs.get("n") in (None, 1)
        self.no_tools = not (given(kwargs.get("tools")) or given(kwargs.get("functions")))
        self.fast = False  # until a chunk has shown the response id and the first token
        self.started = False
        self.texts: list[str] = []
        self.kept: list[tuple[int, Any]] = []

    def observe(self, chunk: Any) -> bool:
        # The fast path reads the four fields it must: every read of a pydantic field is
        # slow (the model's `__getattr__` keeps CPython from specialising it), so the
        # first token and the response id are settled before the fast path is taken.
        if self.fast:
            try:
                if self.hide_usage_chunk and chunk.usage is None:
                    # _forget_null_usage, inlined: this is the per-chunk path (pydantic
                    # v1 raises AttributeError here and takes the general path).
                    chunk.__pydantic_fields_set__.discard("usage")
                (choice,) = chunk.choices
                delta = choice.delta
                text = delta.content
                if (
                    text
                    and choice.finish_reason is None
                    and (self.no_tools or delta.tool_calls is None)
                ):
                    self.texts.append(text)
                    return True
            except (AttributeError, TypeError, ValueError):
                pass  # an unusual chunk: keep it whole below
        return self._keep(chunk)

    def _keep(self, chunk: Any) -> bool:
        self.kept.append((len(self.texts), chunk))
        if self.hide_usage_chunk and getattr(chunk, "usage", None) is None:
            _forget_null_usage(chunk)
        if not self.started and _content_bearing(chunk):
            self.started = True
            self.generation.mark_first_token()
        # The fast path needs the response id read and the first token stamped.
        if not self.fast and self.single_choice and self.started and getattr(chunk, "id", None):
            self.fast = True
        if not self.hide_usage_chunk:
            return True
        return bool(getattr(chunk, "choices", None)) or getattr(chunk, "usage", None) is None

    def chunk_count(self) -> int:
        return len(self.texts) + len(self.kept)

    def complete(self, status: Status) -> Status:
        self.generation.record.resolver = partial(
            resolve_stream, self.request, self.texts, self.kept
        )
        return status
