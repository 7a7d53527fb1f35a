"""Legacy Completions (`/completions`): a prompt in, one text per choice out.

The prompt may be a string, a list of strings, or token arrays; each prompt becomes one
user message. Streams carry usage only when `stream_options` asks for it, exactly as
chat streams do, so the same policy adds it and hides the extra chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import Message, field, text_field, text_message
from llmtap.record import Record, Status
from llmtap.stainless import given
from llmtap.streams import StreamRecorder
from llmtap.usage import from_openai_format, raw_usage
from llmtap_openai.request import Request
from llmtap_openai.wrappers import Surface


def text_inputs(value: Any) -> list[Message] | None:
    """A prompt or embeddings input as user messages, one per text.

    A token array is recorded as its length only: the ids mean nothing without the
    tokenizer, and a batch of them can run to megabytes.
    """
    if not given(value):
        return None
    if isinstance(value, str):
        return [text_message("user", value)]
    items = list(value)
    if items and all(isinstance(item, int) for item in items):  # a single token array
        return [_tokens_message(len(items))]
    return [
        text_message("user", item) if isinstance(item, str) else _tokens_message(len(item))
        for item in items
    ]


def _tokens_message(count: int) -> Message:
    return {"role": "user", "parts": [{"type": "tokens", "count": count}]}


def snapshot(value: Any) -> Any:
    """A list is copied, because callers reuse their lists after the call."""
    return list(value) if isinstance(value, list) else value


class CompletionRequest(Request):
    """A legacy completion request; the prompt list is copied."""

    __slots__ = ("prompt",)

    SETTINGS = frozenset(
        {
            "temperature",
            "top_p",
            "max_tokens",
            "n",
            "best_of",
            "echo",
            "logprobs",
            "stop",
            "seed",
            "presence_penalty",
            "frequency_penalty",
            "logit_bias",
            "user",
        }
    )

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(client, kwargs)
        self.prompt = snapshot(kwargs.get("prompt"))

    def apply(self, record: Record) -> None:
        super().apply(record)
        record.input = text_inputs(self.prompt)


def _output(texts: Mapping[int, str], finish_reasons: Mapping[int, str | None]) -> list[Message]:
    """One assistant message per choice, in choice order."""
    return [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": texts[i]}] if texts.get(i) else [],
            "finish_reason": finish_reasons.get(i),
        }
        for i in sorted(texts.keys() | finish_reasons.keys())
    ]


def _finish(record: Record, output: list[Message], usage: Any, fingerprint: Any) -> None:
    record.output = output
    record.finish_reason = output[0]["finish_reason"] if output else None
    record.usage = from_openai_format(usage)
    record.provider_usage = raw_usage(usage)
    if fingerprint:
        record.metadata["openai.system_fingerprint"] = fingerprint


def resolve_completion(request: CompletionRequest, response: Any, record: Record) -> None:
    """Fill a record from a `Completion` (runs on the worker)."""
    request.apply(record)
    record.response_id = text_field(response, "id")
    record.response_model = text_field(response, "model")
    texts: dict[int, str] = {}
    finish_reasons: dict[int, str | None] = {}
    for position, choice in enumerate(field(response, "choices") or ()):
        index = field(choice, "index")
        index = index if isinstance(index, int) else position
        texts[index] = field(choice, "text") or ""
        finish_reasons[index] = field(choice, "finish_reason")
    output = _output(texts, finish_reasons)
    _finish(record, output, field(response, "usage"), field(response, "system_fingerprint"))


class CompletionStreamRecorder(StreamRecorder):
    """Reads each chunk as it passes and keeps only strings, never chunk objects.

    Legacy chunks are flat (id, model, choices with `text`), so everything the record
    needs is read on the spot; keeping the chunks would cost more in garbage collection
    than reading them. The common chunk (one choice, index 0, text only) takes a short
    path; the usage chunk llmtap asked for is hidden from the caller.
    """

    __slots__ = (
        "fingerprint",
        "finish_reasons",
        "hide_usage_chunk",
        "request",
        "response_id",
        "response_model",
        "seen",
        "started",
        "texts",
        "texts0",
        "usage",
    )

    def __init__(
        self, generation: Generation, request: CompletionRequest, hide_usage_chunk: bool
    ) -> None:
        super().__init__(generation)
        self.request = request
        self.hide_usage_chunk = hide_usage_chunk
        self.seen = 0
        self.started = False
        self.response_id: Any = None
        self.response_model: Any = None
        self.fingerprint: Any = None
        self.texts0: list[str] = []
        self.texts: dict[int, list[str]] = {0: self.texts0}
        self.finish_reasons: dict[int, str] = {}
        self.usage: Any = None

    def observe(self, chunk: Any) -> bool:
        self.seen += 1
        if self.started:
            try:
                (choice,) = chunk.choices
                text = choice.text
                if (
                    text
                    and not choice.index
                    and choice.finish_reason is None
                    and chunk.usage is None
                ):
                    self.texts0.append(text)
                    return True
            except (AttributeError, TypeError, ValueError):
                pass  # an unusual chunk: read it in full below
        return self._read(chunk)

    def _read(self, chunk: Any) -> bool:
        if self.response_id is None:
            self.response_id = text_field(chunk, "id")
            self.response_model = text_field(chunk, "model")
            self.fingerprint = getattr(chunk, "system_fingerprint", None)
        choices = getattr(chunk, "choices", None)
        for choice in choices or ():
            index = getattr(choice, "index", 0) or 0
            text = getattr(choice, "text", None)
            if text:
                if not self.started:
                    self.started = True
                    self.generation.mark_first_token()
                self.texts.setdefault(index, []).append(text)
            finish_reason = getattr(choice, "finish_reason", None)
            if finish_reason:
                self.finish_reasons[index] = finish_reason
        usage = getattr(chunk, "usage", None)
        if usage is None:
            return True
        self.usage = usage
        return bool(choices) or not self.hide_usage_chunk

    def chunk_count(self) -> int:
        return self.seen

    def complete(self, status: Status) -> Status:
        self.generation.record.resolver = partial(_resolve_stream, self)
        if status == "ok" and not self.finish_reasons:
            return "incomplete"  # the server ended the stream before any choice finished
        return status


def _resolve_stream(recorder: CompletionStreamRecorder, record: Record) -> None:
    """Fill a record from what a completion stream left (runs on the worker)."""
    recorder.request.apply(record)
    record.response_id = recorder.response_id
    record.response_model = recorder.response_model
    texts = {index: "".join(pieces) for index, pieces in recorder.texts.items() if pieces}
    output = _output(texts, recorder.finish_reasons)
    _finish(record, output, recorder.usage, recorder.fingerprint)


COMPLETION = Surface(
    operation="completion",
    request=CompletionRequest,
    resolve=resolve_completion,
    recorder=CompletionStreamRecorder,
    stream_usage=True,
)

# (module, sync method, async method, surface)
TARGETS: tuple[tuple[str, str, str, Surface], ...] = (
    ("openai.resources.completions", "Completions.create", "AsyncCompletions.create", COMPLETION),
)
