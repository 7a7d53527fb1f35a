"""The Responses API (`client.responses`): create, parse and stream, read exactly.

On the caller's path llmtap copies the `input` list (callers append a turn's output to
it and call again) and, for streams, keeps only what the record needs: the text deltas,
the few finished output items, and the final `response` that the terminal event
carries. Mapping items to GenAI messages, tool calls and usage runs in a resolver on
the background worker, as for chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import (
    Message,
    Part,
    field,
    joined_text,
    parse_arguments,
    plain,
    text_field,
    text_message,
    text_part,
)
from llmtap.record import ErrorInfo, Record, Status
from llmtap.streams import StreamRecorder
from llmtap.usage import from_input_output_format, raw_usage
from llmtap_openai.request import Request
from llmtap_openai.wrappers import Surface

# Events that end a response and carry it whole, usage included.
_TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

# Fields of a built-in tool call item that say what the tool produced rather than what
# the model asked it to do; they become a `tool_call_response` part.
_CALL_RESULTS = frozenset({"result", "results", "output", "outputs", "error"})
# Fields of a built-in tool call item that identify it rather than describe the call.
_CALL_IDENTITY = frozenset({"id", "call_id", "type", "status"})


class ResponsesRequest(Request):
    """A Responses request; `input` and `tools` lists are copied because callers
    mutate them after the call (the usual loop appends each turn's output)."""

    __slots__ = ("input", "tools")

    SETTINGS = frozenset(
        {
            "temperature",
            "top_p",
            "max_output_tokens",
            "reasoning",
            "text",
            "tool_choice",
            "parallel_tool_calls",
            "truncation",
            "store",
            "service_tier",
            "previous_response_id",
            "include",
            "metadata",
            "user",
            "prompt_cache_key",
            "safety_identifier",
            "background",
            "conversation",
            "prompt",
            "max_tool_calls",
            "top_logprobs",
        }
    )

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(client, kwargs)
        value: Any = kwargs.get("input")
        self.input: str | list[Any] | None = value if isinstance(value, str) else None
        if self.input is None:
            self.input = self.snapshot("input")
        self.tools = self.snapshot("tools")

    def apply(self, record: Record) -> None:
        super().apply(record)
        prompt = record.settings.get("prompt")
        if prompt is not None:
            # A reusable prompt's id and version are settings; its variables are content.
            record.settings["prompt"] = {
                k: v for k, v in plain(prompt).items() if k in ("id", "version")
            }
        messages: list[Message] = []
        instructions = self.kwargs.get("instructions")
        if isinstance(instructions, str):
            # Instructions are the system prompt of this one call.
            record.system_instructions = [text_part(instructions)]
            messages.append(text_message("system", instructions))
        if isinstance(self.input, str):
            messages.append(text_message("user", self.input))
        elif self.input is not None:
            messages.extend(_input_message(item) for item in self.input)
        record.input = messages or None
        if self.tools is not None:
            record.tools = [_tool_definition(tool) for tool in self.tools]


def _tool_definition(tool: Any) -> dict[str, Any]:
    """Function tools as in chat; built-in tools (web_search, file_search, mcp, ...)
    are named by their type and keep their configuration as the definition."""
    kind = field(tool, "type")
    if kind == "function":
        return {
            "type": "function",
            "name": field(tool, "name"),
            "description": field(tool, "description"),
            "parameters": field(tool, "parameters"),
        }
    return {"type": kind, "name": field(tool, "name") or kind, "definition": plain(tool)}


def _content_parts(content: Any) -> list[Part]:
    """Message content (a string, or input/output content parts) as GenAI parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[Part] = []
    for part in content:
        kind = field(part, "type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(text_part(field(part, "text") or ""))
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(part, "refusal")})
        elif kind == "input_image" and field(part, "image_url"):
            parts.append({"type": "uri", "modality": "image", "uri": field(part, "image_url")})
        elif kind == "input_image" and field(part, "file_id"):
            parts.append({"type": "file", "modality": "image", "file_id": field(part, "file_id")})
        elif kind == "input_file" and field(part, "file_id"):
            parts.append(
                {"type": "file", "modality": "document", "file_id": field(part, "file_id")}
            )
        elif kind == "input_file" and field(part, "file_url"):
            parts.append({"type": "uri", "modality": "document", "uri": field(part, "file_url")})
        elif kind == "input_file" and field(part, "file_data"):
            parts.append(
                {"type": "blob", "modality": "document", "content": field(part, "file_data")}
            )
        elif kind == "input_audio":
            audio = field(part, "input_audio") or {}
            parts.append(
                {
                    "type": "blob",
                    "modality": "audio",
                    "mime_type": f"audio/{field(audio, 'format')}",
                    "content": field(audio, "data"),
                }
            )
        else:
            parts.append({"type": kind or "unknown", "content": plain(part)})
    return parts


def _reasoning_part(item: Any) -> Part:
    """The visible reasoning: the summary texts, or the raw reasoning text when sent."""
    texts = [field(s, "text") for s in field(item, "summary") or ()]
    if not any(texts):
        texts = [field(c, "text") for c in field(item, "content") or ()]
    return {"type": "reasoning", "content": "\n\n".join(t for t in texts if t)}


def _builtin_call_parts(item: Any, kind: str) -> list[Part]:
    """A call the server ran itself (web_search_call, code_interpreter_call, ...): a tool
    call named by the item type, with what it was asked as arguments and, when the item
    carries it, what it produced as the response."""
    data = plain(item)
    call_id = field(item, "call_id") or field(item, "id")
    arguments = {
        k: v for k, v in data.items() if k not in _CALL_IDENTITY and k not in _CALL_RESULTS
    }
    if isinstance(arguments.get("arguments"), str):  # mcp_call sends its arguments as JSON
        arguments["arguments"] = parse_arguments(arguments["arguments"])
    parts: list[Part] = [{"type": "tool_call", "id": call_id, "name": kind, "arguments": arguments}]
    result = {k: v for k, v in data.items() if k in _CALL_RESULTS and v is not None}
    if result:
        parts.append({"type": "tool_call_response", "id": call_id, "response": result})
    return parts


def _item_parts(item: Any) -> list[Part]:
    """One input or output item as the GenAI parts it contributes."""
    kind = field(item, "type")
    if kind == "message":
        return _content_parts(field(item, "content"))
    if kind == "function_call":
        return [
            {
                "type": "tool_call",
                "id": field(item, "call_id"),
                "name": field(item, "name"),
                "arguments": parse_arguments(field(item, "arguments")),
            }
        ]
    if kind == "custom_tool_call":  # a tool the caller defined, with free-form input
        return [
            {
                "type": "tool_call",
                "id": field(item, "call_id"),
                "name": field(item, "name"),
                "arguments": field(item, "input"),
            }
        ]
    if kind == "reasoning":
        return [_reasoning_part(item)]
    if isinstance(kind, str) and kind.endswith("_call"):
        return _builtin_call_parts(item, kind)
    if _is_call_output(kind, item):
        return [
            {
                "type": "tool_call_response",
                "id": field(item, "call_id"),
                "response": plain(field(item, "output")),
            }
        ]
    return [{"type": kind or "unknown", "content": plain(item)}]


def _is_call_output(kind: Any, item: Any) -> bool:
    """function_call_output, computer_call_output, shell_call_output, ..."""
    return isinstance(kind, str) and kind.endswith("_output") and field(item, "call_id") is not None


def _input_message(item: Any) -> Message:
    """One input item as one GenAI message.

    Messages keep their role; tool results are `tool` messages; calls and reasoning
    replayed from an earlier response are `assistant` messages. Anything else (an
    `item_reference`, a new item type) is kept whole, as sent by the caller.
    """
    kind = field(item, "type")
    role = field(item, "role")
    if role is not None and kind in (None, "message"):
        return {"role": role, "parts": _content_parts(field(item, "content"))}
    if _is_call_output(kind, item):
        role = "tool"
    elif kind == "reasoning" or (isinstance(kind, str) and kind.endswith("_call")):
        role = "assistant"
    else:
        role = "user"
    return {"role": role, "parts": _item_parts(item)}


def finish_reason_of(response: Any) -> str | None:
    """The response status (`completed`, `failed`, ...); an incomplete response says
    why, as `incomplete:max_output_tokens` or `incomplete:content_filter`."""
    status = field(response, "status")
    reason = field(field(response, "incomplete_details"), "reason")
    return f"{status}:{reason}" if status == "incomplete" and reason else status


def _finish_output(record: Record, parts: list[Part], finish_reason: str | None) -> None:
    record.output = [{"role": "assistant", "parts": parts, "finish_reason": finish_reason}]
    tool_calls = [p for p in parts if p["type"] == "tool_call"]
    record.tool_calls = tool_calls or None
    record.finish_reason = finish_reason


def resolve_response(request: ResponsesRequest, response: Any, record: Record) -> None:
    """Fill a record from a Response (runs on the worker).

    All output items form one assistant message, in order. A response whose status is
    `failed` is an error even though the HTTP call succeeded.
    """
    request.apply(record)
    record.response_id = text_field(response, "id")
    record.response_model = text_field(response, "model")
    parts = [part for item in field(response, "output") or () for part in _item_parts(item)]
    _finish_output(record, parts, finish_reason_of(response))
    usage = field(response, "usage")
    record.usage = from_input_output_format(usage)
    record.provider_usage = raw_usage(usage)
    service_tier = field(response, "service_tier")
    if service_tier:
        record.metadata["openai.service_tier"] = service_tier
    if field(response, "status") == "failed" and record.status == "ok":
        error = field(response, "error")
        record.status = "error"
        record.error = ErrorInfo(
            type=field(error, "code") or "response.failed", message=field(error, "message") or ""
        )


def resolve_partial(
    request: ResponsesRequest,
    created: Any,
    texts: list[str],
    items: list[tuple[int, Any]],
    record: Record,
) -> None:
    """Fill a record from a stream that ended without a terminal event (runs on the worker).

    `items` are the output items that finished, each with the number of text deltas
    seen before it; the deltas after the last finished message belong to the message
    that was still being written.
    """
    request.apply(record)
    record.response_id = text_field(created, "id")
    record.response_model = text_field(created, "model")
    parts: list[Part] = []
    written = 0
    for texts_before, item in items:
        parts.extend(_item_parts(item))
        if field(item, "type") == "message":
            written = texts_before
    if len(texts) > written:
        parts.append(text_part(joined_text(texts[written:])))
    if parts:
        _finish_output(record, parts, None)


class ResponsesStreamRecorder(StreamRecorder):
    """Reads each Responses stream event as it passes.

    Only the text deltas (as strings), the `response.created` snapshot, the finished
    output items and the terminal event's response are kept: holding every event
    object until the worker runs costs more in garbage collection than reading it now.
    The terminal response is complete (output, usage), so the deltas matter only when
    the stream ends without one.
    """

    __slots__ = (
        "created",
        "error",
        "events",
        "final",
        "items",
        "read_texts",
        "request",
        "started",
        "text_class",
        "texts",
    )

    def __init__(
        self, generation: Generation, request: ResponsesRequest, hide_usage_chunk: bool
    ) -> None:
        # `hide_usage_chunk` is always False here: Responses streams always carry usage,
        # so llmtap never asks for it and has nothing to hide.
        super().__init__(generation)
        self.request = request
        self.events = 0  # events read in full
        self.read_texts = 0  # text deltas among them
        self.started = False
        self.text_class: Any = None  # a text delta's class, once the clock is stamped
        self.texts: list[str] = []
        self.items: list[tuple[int, Any]] = []
        self.created: Any = None
        self.final: Any = None
        self.error: Any = None

    def observe(self, chunk: Any) -> bool:
        # The common event, a text delta, is recognised by its class (the SDK's event
        # classes each have one `type`, and a class check is cheaper than reading it).
        if type(chunk) is self.text_class:
            self.texts.append(chunk.delta)
        else:
            self._read(chunk)
        return True

    def _read(self, chunk: Any) -> None:
        self.events += 1
        kind = getattr(chunk, "type", None)
        if kind == "response.output_text.delta":
            self.texts.append(chunk.delta)
            self.read_texts += 1
            if not self.started:
                self.started = True
                self.generation.mark_first_token()
            self.text_class = type(chunk)
        elif isinstance(kind, str) and kind in _TERMINAL:  # a malformed type can be a list
            self.final = chunk.response
        elif kind == "response.created":
            self.created = chunk.response
        elif kind == "response.output_item.done":
            self.items.append((len(self.texts), chunk.item))
        elif kind == "error":
            self.error = chunk
        elif not self.started and isinstance(kind, str) and kind.endswith(".delta"):
            # The first token may be reasoning, a refusal, tool arguments or audio.
            self.started = True
            self.generation.mark_first_token()

    def chunk_count(self) -> int:
        # Each fast-path event added exactly one text; events read in full are counted.
        return self.events + len(self.texts) - self.read_texts

    def complete(self, status: Status) -> Status:
        record = self.generation.record
        if self.final is not None:
            record.resolver = partial(resolve_response, self.request, self.final)
            # The response had finished: leaving the loop after its last event cut nothing.
            if status == "incomplete":
                status = "ok"
        else:
            record.resolver = partial(
                resolve_partial, self.request, self.created, self.texts, self.items
            )
            if status == "ok":  # the server ended the stream before the response ended
                status = "incomplete"
        error = self.error
        if error is not None and status != "error":
            # An `error` event the SDK yielded rather than raised (the documented flat shape).
            record.error = ErrorInfo(
                type=getattr(error, "code", None) or "error",
                message=getattr(error, "message", None) or "",
            )
            status = "error"
        return status


RESPONSES = Surface(
    operation="responses",
    request=ResponsesRequest,
    resolve=resolve_response,
    recorder=ResponsesStreamRecorder,
    stream_usage=False,
)

# `responses.stream()` calls `create(stream=True)`, so it is covered by `create`.
# `parse()` posts directly, so it is hooked itself.
#
# `retrieve` is not hooked. `responses.stream(response_id=...)` resumes, through
# `retrieve(stream=True)`, a background response whose generation the `create` call
# that started it already recorded; a plain `retrieve` is a read, never a generation.
# The generic wrapper records every call of the method it wraps, so a hook there would
# turn every poll into a record. The cost: a resumed stream is not recorded, so usage
# that arrives only on it (a background response polled or resumed to its end) is not
# in any record.
TARGETS: tuple[tuple[str, str, str, Surface], ...] = (
    ("openai.resources.responses", "Responses.create", "AsyncResponses.create", RESPONSES),
    ("openai.resources.responses", "Responses.parse", "AsyncResponses.parse", RESPONSES),
)
