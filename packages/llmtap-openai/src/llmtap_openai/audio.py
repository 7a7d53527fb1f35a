"""Audio: speech (`/audio/speech`), transcriptions and translations.

Audio is never kept in a record, in either direction: an uploaded file is described by
name, size and type (read at call time, before the SDK consumes it), and generated
speech by its content type and size.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from llmtap.generation import Generation
from llmtap.messages import Message, Part, blob_part, field, text_part
from llmtap.record import Record, Status
from llmtap.stainless import given
from llmtap.streams import StreamRecorder
from llmtap.usage import from_input_output_format, raw_usage
from llmtap_openai.request import Request
from llmtap_openai.uploads import Upload
from llmtap_openai.wrappers import Surface


def _output(parts: list[Part]) -> list[Message]:
    return [{"role": "assistant", "parts": parts, "finish_reason": None}]


class SpeechRequest(Request):
    """Text to speech. `instructions` (how to speak) are the call's system instructions:
    they are prompt content, so the content switch strips them."""

    __slots__ = ()

    SETTINGS = frozenset({"voice", "response_format", "speed", "stream_format"})

    def apply(self, record: Record) -> None:
        super().apply(record)
        text: Any = self.kwargs.get("input")
        if given(text):
            record.input = [{"role": "user", "parts": [text_part(text)]}]
        instructions: Any = self.kwargs.get("instructions")
        if given(instructions):
            record.system_instructions = [text_part(instructions)]


def _body_size(http_response: Any) -> int | None:
    """The body's length when the SDK has already read it into memory, as a plain or
    `with_raw_response` call does. Never reads it: a body still to be read is unknown."""
    if not getattr(http_response, "is_stream_consumed", False):
        return None
    try:
        return len(http_response.content)
    except Exception:  # httpx's ResponseNotRead: the caller streamed it without keeping it
        return None


def resolve_speech(request: SpeechRequest, response: Any, record: Record) -> None:
    """Fill a record from the binary speech response (runs on the worker)."""
    request.apply(record)
    http_response = getattr(response, "response", None)
    headers = getattr(http_response, "headers", None)
    content_type = headers.get("content-type") if headers is not None else None
    mime_type = content_type.split(";")[0].strip() if content_type else None
    # stream_format="sse" answers with events carrying base64 audio: type and size unknown.
    is_audio = mime_type is None or mime_type.startswith("audio/")
    size = _body_size(http_response) if is_audio else None
    if content_type:
        record.metadata["content_type"] = content_type
    if size is not None:
        record.metadata["audio_bytes"] = size
    record.output = _output([blob_part("audio", mime_type if is_audio else None, size)])


class TranscriptionRequest(Request):
    """Speech to text (transcriptions and translations): the file is described, not kept."""

    __slots__ = ("audio",)

    SETTINGS = frozenset(
        {
            "language",
            "languages",
            "response_format",
            "temperature",
            "timestamp_granularities",
            "include",
            "chunking_strategy",
        }
    )

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        super().__init__(client, kwargs)
        file = kwargs.get("file")
        self.audio = Upload.of(file) if given(file) else None

    def apply(self, record: Record) -> None:
        super().apply(record)
        parts: list[Part] = []
        audio = self.audio
        if audio is not None:
            parts.append(audio.part("audio"))
            if audio.name is not None:
                record.metadata["file_name"] = audio.name
            if audio.size_bytes is not None:
                record.metadata["file_size_bytes"] = audio.size_bytes
        prompt: Any = self.kwargs.get("prompt")
        if given(prompt):
            parts.append(text_part(prompt))
        record.input = [{"role": "user", "parts": parts}] if parts else None


def _apply_transcription(record: Record, text: Any, usage: Any, duration: Any) -> None:
    """Text, and usage: tokens (GPT-4o transcribe models) or audio seconds (whisper-1)."""
    record.output = _output([text_part(text)] if text else [])
    record.usage = from_input_output_format(usage)
    record.provider_usage = raw_usage(usage)
    seconds = field(usage, "seconds") if usage is not None else None
    if seconds is None:
        seconds = duration  # verbose_json reports the audio's duration without usage
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        record.metadata["audio_seconds"] = seconds


def resolve_transcription(request: TranscriptionRequest, response: Any, record: Record) -> None:
    """Fill a record from a transcription or translation: an object, or a plain string
    for the `text`, `srt` and `vtt` formats (runs on the worker)."""
    request.apply(record)
    if isinstance(response, str):
        _apply_transcription(record, response, None, None)
    else:
        usage = field(response, "usage")
        _apply_transcription(record, field(response, "text"), usage, field(response, "duration"))


class TranscriptionStreamRecorder(StreamRecorder):
    """Keeps the text deltas (strings) and the final event's text and usage."""

    __slots__ = ("done", "final_text", "request", "seen", "texts", "usage")

    def __init__(self, generation: Generation, request: TranscriptionRequest, _hide: bool):
        super().__init__(generation)
        self.request = request
        self.seen = 0
        self.texts: list[str] = []
        self.done = False
        self.final_text: Any = None
        self.usage: Any = None

    def observe(self, chunk: Any) -> bool:
        self.seen += 1
        kind = getattr(chunk, "type", None)
        if kind == "transcript.text.delta":
            delta = getattr(chunk, "delta", None)
            if delta:
                if not self.texts:
                    self.generation.mark_first_token()
                self.texts.append(delta)
        elif kind == "transcript.text.done":
            self.done = True
            self.final_text = getattr(chunk, "text", None)
            self.usage = getattr(chunk, "usage", None)
        elif kind == "transcript.text.segment":  # diarized streams (3.x)
            self.generation.mark_first_token()
        return True

    def chunk_count(self) -> int:
        return self.seen

    def complete(self, status: Status) -> Status:
        self.generation.record.resolver = partial(_resolve_stream, self)
        if status == "ok" and not self.done:
            return "incomplete"  # the stream ended before the final text
        return status


def _resolve_stream(recorder: TranscriptionStreamRecorder, record: Record) -> None:
    recorder.request.apply(record)
    final = recorder.final_text
    text = final if final is not None else "".join(recorder.texts)
    _apply_transcription(record, text, recorder.usage, None)


SPEECH = Surface(operation="speech", request=SpeechRequest, resolve=resolve_speech)
TRANSCRIPTION = Surface(
    operation="transcription",
    request=TranscriptionRequest,
    resolve=resolve_transcription,
    recorder=TranscriptionStreamRecorder,
)
TRANSLATION = Surface(
    operation="translation", request=TranscriptionRequest, resolve=resolve_transcription
)

# (module, sync method, async method, surface)
TARGETS: tuple[tuple[str, str, str, Surface], ...] = (
    ("openai.resources.audio.speech", "Speech.create", "AsyncSpeech.create", SPEECH),
    (
        "openai.resources.audio.transcriptions",
        "Transcriptions.create",
        "AsyncTranscriptions.create",
        TRANSCRIPTION,
    ),
    (
        "openai.resources.audio.translations",
        "Translations.create",
        "AsyncTranslations.create",
        TRANSLATION,
    ),
)
