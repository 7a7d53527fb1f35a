"""Audio (`client.audio.speech`, `.transcriptions`, `.translations`): text, usage and
sizes are exact, and no audio, uploaded or generated, ever reaches a record."""

from __future__ import annotations

import asyncio
import gc
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from support.cassettes import PROJECT_CASSETTES, load_cassette, records_of, replay, request_body
from support.fake_openai import http
from support.sdk_calls import call as sdk_call
from support.sdk_calls import served

CASSETTES = PROJECT_CASSETTES / "openai"
modes = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
# openai 3.x marks translations deprecated; the warning is the SDK's, not llmtap's.
sdk_deprecations = pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xf3\xe4\xc4" + bytes(10)
WAV = (
    b"RIFF4\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80>\x00\x00\x00}\x00\x00"
    b"\x02\x00\x10\x00data\x10\x00\x00\x00" + bytes(16)
)
TOKENS_USAGE = {
    "type": "tokens",
    "input_tokens": 14,
    "input_token_details": {"text_tokens": 0, "audio_tokens": 14},
    "output_tokens": 6,
    "total_tokens": 20,
}
NO_USAGE = {
    "input_tokens": None,
    "output_tokens": None,
    "total_tokens": None,
    "cached_input_tokens": None,
    "cache_creation_input_tokens": None,
    "reasoning_tokens": None,
}


def _replay(name: str, is_async: bool, make_call: Callable[[Any], Any]) -> Any:
    with replay(CASSETTES / f"{name}.yaml"):
        return sdk_call(is_async, make_call)


def _upload(name: str) -> tuple[str, bytes, str]:
    return (name, WAV, "audio/wav")


def _audio_part(size: int | None, mime_type: str | None = "audio/wav") -> dict[str, Any]:
    return {
        "type": "blob",
        "modality": "audio",
        "mime_type": mime_type,
        "content": None,
        "size_bytes": size,
    }


def _assert_no_audio(record: dict[str, Any]) -> None:
    text = json.dumps(record)
    assert "RIFF" not in text
    assert "SUQz" not in text  # base64 of "ID3"
    assert len(text) < 2500


# ---- speech -----------------------------------------------------------------------------


@modes
def test_speech_is_recorded_with_its_content_type_and_size(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    cassette, truth = load_cassette(CASSETTES / "audio_speech_mp3.yaml")
    body = request_body(cassette["interactions"][0])
    response = _replay("audio_speech_mp3", is_async, lambda c: c.audio.speech.create(**body))

    assert response.content == MP3  # vcrpy replays the !!binary body byte for byte
    (record,) = records_of(memory)
    assert record["operation"] == truth["operation"] == "speech"
    assert record["name"] == "speech tts-1"
    assert (record["provider"], record["server_address"]) == ("openai", "api.openai.com")
    assert record["status"] == "ok"
    assert record["request_model"] == truth["request_model"]
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello from llmtap."}]}
    ]
    assert record["system_instructions"] is None
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [_audio_part(truth["audio_bytes"], truth["content_type"])],
            "finish_reason": None,
        }
    ]
    assert truth["audio_bytes"] == len(MP3)
    assert record["metadata"] == {
        "content_type": truth["content_type"],
        "audio_bytes": truth["audio_bytes"],
    }
    assert record["settings"] == {"voice": "alloy", "response_format": "mp3"}
    assert record["usage"] == NO_USAGE
    _assert_no_audio(record)


def test_speech_instructions_are_system_instructions(memory: Any, instrumented: None) -> None:
    def respond(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "audio/wav"}, content=WAV)

    sdk_call(
        False,
        lambda c: c.audio.speech.create(
            model="gpt-4o-mini-tts",
            voice="coral",
            input="Welcome back.",
            instructions="Speak warmly.",
            response_format="wav",
            speed=1.25,
        ),
        **served(respond, False),
    )

    (record,) = records_of(memory)
    assert record["system_instructions"] == [{"type": "text", "content": "Speak warmly."}]
    assert record["settings"] == {"voice": "coral", "response_format": "wav", "speed": 1.25}
    assert record["metadata"] == {"content_type": "audio/wav", "audio_bytes": len(WAV)}


def test_speech_as_server_sent_events_has_no_audio_size(memory: Any, instrumented: None) -> None:
    events = b'data: {"type":"speech.audio.delta","audio":"SUQzBAAAAAAAAP/z5MQ="}\n\n'

    def respond(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=events)

    response = sdk_call(
        False,
        lambda c: c.audio.speech.create(
            model="gpt-4o-mini-tts", voice="coral", input="Hi.", stream_format="sse"
        ),
        **served(respond, False),
    )

    assert response.content == events
    (record,) = records_of(memory)
    assert record["metadata"] == {"content_type": "text/event-stream"}
    assert record["output"][0]["parts"] == [_audio_part(None, None)]
    assert record["settings"] == {"voice": "coral", "stream_format": "sse"}
    _assert_no_audio(record)


@sdk_deprecations
def test_failed_transcription_keeps_what_was_sent(memory: Any, instrumented: None) -> None:
    def respond(request: Any) -> Any:
        error = {"message": "Audio file is too short.", "type": "invalid_request_error"}
        return http.Response(400, json={"error": error})

    with pytest.raises(openai.BadRequestError):
        sdk_call(
            False,
            lambda c: c.audio.translations.create(model="whisper-1", file=_upload("a.wav")),
            **served(respond, False),
        )

    (record,) = records_of(memory)
    assert record["operation"] == "translation"
    assert record["status"] == "error"
    assert record["error"]["status_code"] == 400
    assert record["input"] == [{"role": "user", "parts": [_audio_part(len(WAV))]}]
    assert record["metadata"] == {"file_name": "a.wav", "file_size_bytes": len(WAV)}
    assert record["output"] is None


@modes
def test_speech_raw_response_records_exactly_one_record(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    cassette, _ = load_cassette(CASSETTES / "audio_speech_mp3.yaml")
    body = request_body(cassette["interactions"][0])

    async def araw() -> tuple[Any, Any]:
        raw = await openai.AsyncOpenAI(
            api_key="sk-test", max_retries=0
        ).audio.speech.with_raw_response.create(**body)
        return raw, raw.parse()

    with replay(CASSETTES / "audio_speech_mp3.yaml"):
        if is_async:
            raw, content = asyncio.run(araw())
        else:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            raw = client.audio.speech.with_raw_response.create(**body)
            content = raw.parse()

    assert raw.headers["content-type"] == "audio/mpeg"
    assert raw.http_response.status_code == 200
    assert content.content == MP3
    (record,) = records_of(memory)
    assert record["metadata"] == {"content_type": "audio/mpeg", "audio_bytes": len(MP3)}


def test_speech_streamed_by_the_caller_is_never_read_by_llmtap(
    memory: Any, instrumented: None
) -> None:
    cassette, _ = load_cassette(CASSETTES / "audio_speech_mp3.yaml")
    body = request_body(cassette["interactions"][0])
    with replay(CASSETTES / "audio_speech_mp3.yaml"):
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        with client.audio.speech.with_streaming_response.create(**body) as response:
            received = b"".join(response.iter_bytes())
        del response
        gc.collect()

    assert received == MP3
    (record,) = records_of(memory)
    assert record["status"] == "ok"
    assert record["metadata"] == {"openai.response_mode": "streaming_response"}
    assert record["input"][0]["parts"][0]["content"] == "Hello from llmtap."


# ---- transcriptions and translations --------------------------------------------------


@modes
def test_transcription_with_token_usage(is_async: bool, memory: Any, instrumented: None) -> None:
    _, truth = load_cassette(CASSETTES / "audio_transcription_tokens_usage.yaml")
    result = _replay(
        "audio_transcription_tokens_usage",
        is_async,
        lambda c: c.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=_upload(truth["upload_name"])
        ),
    )

    assert result.text == truth["output_text"]
    (record,) = records_of(memory)
    assert record["operation"] == truth["operation"] == "transcription"
    assert record["name"] == "transcription gpt-4o-transcribe"
    assert record["status"] == "ok"
    assert record["input"] == [{"role": "user", "parts": [_audio_part(truth["upload_bytes"])]}]
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": truth["output_text"]}],
            "finish_reason": None,
        }
    ]
    assert record["usage"] == {
        **NO_USAGE,
        "input_tokens": truth["input_tokens"],
        "output_tokens": truth["output_tokens"],
        "total_tokens": truth["total_tokens"],
    }
    assert record["provider_usage"] == TOKENS_USAGE
    assert truth["upload_bytes"] == len(WAV)
    assert record["metadata"] == {
        "file_name": truth["upload_name"],
        "file_size_bytes": truth["upload_bytes"],
    }
    _assert_no_audio(record)


@modes
def test_transcription_with_duration_usage(is_async: bool, memory: Any, instrumented: None) -> None:
    _, truth = load_cassette(CASSETTES / "audio_transcription_duration_usage.yaml")
    _replay(
        "audio_transcription_duration_usage",
        is_async,
        lambda c: c.audio.transcriptions.create(
            model="whisper-1", file=_upload(truth["upload_name"]), prompt="A greeting."
        ),
    )

    (record,) = records_of(memory)
    assert record["request_model"] == truth["request_model"] == "whisper-1"
    assert record["input"][0]["parts"] == [
        _audio_part(truth["upload_bytes"]),
        {"type": "text", "content": "A greeting."},
    ]
    assert record["output"][0]["parts"] == [{"type": "text", "content": truth["output_text"]}]
    assert record["usage"] == NO_USAGE
    assert record["provider_usage"] == {"type": "duration", "seconds": 2.0}
    assert record["metadata"] == {
        "file_name": "hello.wav",
        "file_size_bytes": len(WAV),
        "audio_seconds": truth["audio_seconds"],
    }


@sdk_deprecations
@modes
def test_translation(is_async: bool, memory: Any, instrumented: None) -> None:
    _, truth = load_cassette(CASSETTES / "audio_translation.yaml")
    result = _replay(
        "audio_translation",
        is_async,
        lambda c: c.audio.translations.create(
            model="whisper-1", file=_upload(truth["upload_name"]), temperature=0
        ),
    )

    assert result.text == truth["output_text"]
    (record,) = records_of(memory)
    assert record["operation"] == truth["operation"] == "translation"
    assert record["name"] == "translation whisper-1"
    assert record["input"] == [{"role": "user", "parts": [_audio_part(truth["upload_bytes"])]}]
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Hello, how are you?"}]
    assert record["usage"] == NO_USAGE
    assert record["provider_usage"] is None
    assert record["settings"] == {"temperature": 0}
    assert record["metadata"] == {"file_name": "bonjour.wav", "file_size_bytes": len(WAV)}


@modes
def test_plain_text_formats_are_recorded_as_text(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    def respond(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "text/plain"}, content=b"Hi there.\n")

    result = sdk_call(
        is_async,
        lambda c: c.audio.transcriptions.create(
            model="whisper-1", file=_upload("hi.wav"), response_format="text"
        ),
        **served(respond, is_async),
    )

    assert result == "Hi there.\n"
    (record,) = records_of(memory)
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Hi there.\n"}]
    assert record["settings"] == {"response_format": "text"}
    assert record["usage"] == NO_USAGE


def test_verbose_json_duration_is_the_audio_seconds(memory: Any, instrumented: None) -> None:
    def respond(request: Any) -> Any:
        body = {"task": "transcribe", "language": "english", "duration": 3.5, "text": "Hi."}
        return http.Response(200, json=body)

    sdk_call(
        False,
        lambda c: c.audio.transcriptions.create(
            model="whisper-1", file=_upload("hi.wav"), response_format="verbose_json"
        ),
        **served(respond, False),
    )

    (record,) = records_of(memory)
    assert record["metadata"]["audio_seconds"] == 3.5
    assert record["provider_usage"] is None


@pytest.mark.parametrize("source", ["path", "open_file", "bytes_io"])
def test_uploads_are_sized_whatever_their_kind(
    source: str, tmp_path: Path, memory: Any, instrumented: None
) -> None:
    path = tmp_path / "note.mp3"
    path.write_bytes(MP3)

    def respond(request: Any) -> Any:
        return http.Response(200, json={"text": "Note."})

    with path.open("rb") as opened:
        file: Any = {"path": path, "open_file": opened, "bytes_io": io.BytesIO(MP3)}[source]
        sdk_call(
            False,
            lambda c: c.audio.transcriptions.create(model="whisper-1", file=file),
            **served(respond, False),
        )

    (record,) = records_of(memory)
    named = source != "bytes_io"
    expected = {"file_size_bytes": len(MP3), **({"file_name": "note.mp3"} if named else {})}
    assert record["metadata"] == expected
    assert record["input"][0]["parts"] == [_audio_part(len(MP3), "audio/mpeg" if named else None)]


def _transcript_events(*events: dict[str, Any]) -> Any:
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    return http.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


@modes
def test_transcription_stream_keeps_text_and_final_usage(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    def respond(request: Any) -> Any:
        return _transcript_events(
            {"type": "transcript.text.delta", "delta": "Hello"},
            {"type": "transcript.text.delta", "delta": " from"},
            {"type": "transcript.text.delta", "delta": " llmtap."},
            {"type": "transcript.text.done", "text": "Hello from llmtap.", "usage": TOKENS_USAGE},
        )

    events = sdk_call(
        is_async,
        lambda c: c.audio.transcriptions.create(
            model="gpt-4o-mini-transcribe", file=_upload("hello.wav"), stream=True
        ),
        **served(respond, is_async),
    )

    assert [e.type for e in events] == ["transcript.text.delta"] * 3 + ["transcript.text.done"]
    (record,) = records_of(memory)
    assert record["stream"] is True
    assert record["status"] == "ok"
    assert record["chunks"] == 4
    assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Hello from llmtap."}]
    assert record["usage"]["input_tokens"] == 14
    assert record["usage"]["output_tokens"] == 6
    assert record["provider_usage"] == TOKENS_USAGE


def test_transcription_stream_cut_before_done_is_incomplete(
    memory: Any, instrumented: None
) -> None:
    def respond(request: Any) -> Any:
        return _transcript_events(
            {"type": "transcript.text.delta", "delta": "Hel"},
            {"type": "transcript.text.delta", "delta": "lo"},
        )

    sdk_call(
        False,
        lambda c: c.audio.transcriptions.create(
            model="gpt-4o-mini-transcribe", file=_upload("hello.wav"), stream=True
        ),
        **served(respond, False),
    )

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["output"][0]["parts"] == [{"type": "text", "content": "Hello"}]
    assert record["usage"] == NO_USAGE


@modes
def test_transcription_raw_response_records_exactly_one_record(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    path = CASSETTES / "audio_transcription_tokens_usage.yaml"

    async def araw() -> tuple[Any, Any]:
        client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
        raw = await client.audio.transcriptions.with_raw_response.create(
            model="gpt-4o-transcribe", file=_upload("hello.wav")
        )
        return raw, raw.parse()

    with replay(path):
        if is_async:
            raw, result = asyncio.run(araw())
        else:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            raw = client.audio.transcriptions.with_raw_response.create(
                model="gpt-4o-transcribe", file=_upload("hello.wav")
            )
            result = raw.parse()

    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.status_code == 200
    assert result.text == "Hello from llmtap."
    (record,) = records_of(memory)
    assert record["usage"]["total_tokens"] == 20
    assert record["metadata"]["file_name"] == "hello.wav"
