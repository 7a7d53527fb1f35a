"""LLM chat and completion calls, from LlamaIndex's start, in-progress and end events.

On the caller's path a call only keeps references (the messages list copied, the last
response) and, for streams, stamps the first chunk and notes the finish reason and the
chunk that carries usage. Messages, output and usage are mapped by the resolver, on
llmtap's worker.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.messages import Message, field, text_message, text_part, tool_definitions
from llmtap.record import Record
from llmtap.usage import from_anthropic_format, merge_usage
from llmtap_llamaindex.calls import ModelCall
from llmtap_llamaindex.messages import chat_message, chat_messages, tool_calls_of
from llmtap_llamaindex.models import ModelInfo
from llmtap_llamaindex.usage import has_usage, response_usage


def finish_reason_of(raw: Any) -> str | None:
    """OpenAI's `choices[0].finish_reason` or Anthropic's `stop_reason`."""
    if raw is None:
        return None
    choices = field(raw, "choices")
    reason = field(choices[0], "finish_reason") if choices else field(raw, "stop_reason")
    return str(reason) if reason else None


class LLMCall(ModelCall):
    def __init__(
        self,
        *,
        operation: str,
        model: str | None,
        parent: Record | None,
        info: ModelInfo,
        stream: bool,
        inputs: Any,
        request: Mapping[str, Any],
    ) -> None:
        super().__init__(f"{operation} {model}" if model else operation, operation, parent, info)
        self.record.request_model = model
        self.record.stream = stream
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else inputs
        self.tools = request.get("tools")
        self.response: Any = None
        self.usage_source: Any = None
        self.finish_reason: str | None = None
        self.chunks = 0
        self.first_chunk_at: float | None = None
        # Text per choice index of an OpenAI stream: with n > 1, LlamaIndex merges the
        # choices' deltas into one message, so its message is not choice 0's text.
        self.choice_texts: dict[int, list[str]] = {}
        # Anthropic stream events LlamaIndex does not yield (see taps.py).
        self.stream_start: Any = None
        self.stream_usage: Any = None

    def on_chunk(self, response: Any) -> None:
        now = time.perf_counter()
        self.chunks += 1
        if self.first_chunk_at is None:
            self.first_chunk_at = now
        record = self.record
        if record.time_to_first_token_s is None and field(response, "delta"):
            record.time_to_first_token_s = now - self.started
        raw = field(response, "raw")
        if raw is not None:
            if has_usage(raw):
                self.usage_source = raw
            reason = finish_reason_of(raw)
            if reason:
                self.finish_reason = reason
            for choice in field(raw, "choices") or ():
                text = field(field(choice, "delta"), "content")
                if text:
                    # The index is as the provider sent it: anything but an int is 0.
                    index = field(choice, "index")
                    index = index if isinstance(index, int) else 0
                    self.choice_texts.setdefault(index, []).append(text)
        self.response = response

    def on_provider_event(self, event: Any) -> None:
        kind = field(event, "type")
        if kind == "message_start":
            self.stream_start = field(event, "message")
        elif kind == "message_delta":
            self.stream_usage = field(event, "usage")

    def on_end(self, response: Any) -> None:
        if response is not None:
            self.response = response

    def complete(self, carries_usage: bool) -> None:
        record = self.record
        if record.stream:
            record.chunks = self.chunks
            # A stream of tool calls has no text delta: its first chunk is its first token.
            if record.time_to_first_token_s is None and self.first_chunk_at is not None:
                record.time_to_first_token_s = self.first_chunk_at - self.started
        # The output is read now, not on the worker: agents rewrite the response's
        # message after the call (the workflow ReActAgent keeps only the answer).
        output = _output_message(self.response)
        record.resolver = partial(_resolve, self, output, carries_usage)


def _output_message(response: Any) -> Message | None:
    if response is None:
        return None
    message = field(response, "message")
    if message is not None:
        return chat_message(message)
    return text_message("assistant", str(field(response, "text") or ""))


def _resolve(call: LLMCall, output: Message | None, carries_usage: bool, record: Record) -> None:
    """Map the call's LlamaIndex objects onto its record (runs on the worker)."""
    inputs = call.inputs
    if isinstance(inputs, str):
        record.input = [text_message("user", inputs)]
    else:
        record.input = chat_messages(inputs)
    if call.tools:
        record.tools = tool_definitions(call.tools)
    response = call.response
    if response is None or output is None:
        return
    raw = field(response, "raw")
    extra = field(field(response, "message"), "additional_kwargs") or {}
    reason = call.finish_reason or finish_reason_of(raw) or extra.get("stop_reason")
    if reason:
        output["finish_reason"] = reason
        record.finish_reason = str(reason)
    record.output = [output]
    if len(call.choice_texts) > 1:
        _split_choices(record.output, call.choice_texts)
    record.tool_calls = tool_calls_of(record.output)
    source = call.usage_source if call.usage_source is not None else raw
    start = call.stream_start
    record.response_id = field(raw, "id") or field(source, "id") or field(start, "id")
    record.response_model = field(raw, "model") or field(source, "model") or field(start, "model")
    if not carries_usage:
        return
    if start is not None:
        usage = merge_usage(field(start, "usage"), call.stream_usage)
        record.usage, record.provider_usage = from_anthropic_format(usage), usage
    else:
        record.usage, record.provider_usage = response_usage(response, source)


def _split_choices(output: list[Message], texts: dict[int, list[str]]) -> None:
    """One output message per choice of an n > 1 stream, from the chunks themselves."""
    first = output[0]
    kept = [part for part in first["parts"] if part.get("type") != "text"]
    first["parts"] = [text_part("".join(texts.get(0, ()))), *kept]
    for index in sorted(i for i in texts if i != 0):
        output.append(text_message("assistant", "".join(texts[index])))
