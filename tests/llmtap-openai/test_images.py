"""Images (`client.images.generate`, `.edit`, `.create_variation`): one part per image,
exact usage, and no base64 image bytes in any record."""

from __future__ import annotations

import asyncio
import base64
import io
import json
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

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()
BIG_B64 = base64.b64encode(b"\xff\xd8\xff" + bytes(30_000)).decode()  # a 30 kB "JPEG"
NO_USAGE = {
    "input_tokens": None,
    "output_tokens": None,
    "total_tokens": None,
    "cached_input_tokens": None,
    "cache_creation_input_tokens": None,
    "reasoning_tokens": None,
}


def _replay_json(name: str, is_async: bool, method: str, **call: Any) -> Any:
    """Replay a project cassette through `client.images.<method>`."""
    path = CASSETTES / f"{name}.yaml"
    cassette, _ = load_cassette(path)
    if not call:
        call = request_body(cassette["interactions"][0])
    with replay(path):
        return sdk_call(is_async, lambda client: getattr(client.images, method)(**call))


def _events(*events: dict[str, Any]) -> Any:
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return http.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


def _event(kind: str, data: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "b64_json": data,
        "created_at": 1763780000,
        "size": "1024x1024",
        "quality": "low",
        "background": "opaque",
        "output_format": "jpeg",
        **extra,
    }


STREAM_USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
    "output_tokens": 272,
    "total_tokens": 284,
}


@modes
def test_url_image_is_a_uri_part_with_its_revised_prompt(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(CASSETTES / "images_generate_url.yaml")
    response = _replay_json("images_generate_url", is_async, "generate")

    assert response.data[0].url == truth["image_urls"][0]
    (record,) = records_of(memory)
    assert record["operation"] == truth["operation"] == "image"
    assert record["name"] == "image dall-e-3"
    assert (record["provider"], record["server_address"]) == ("openai", "api.openai.com")
    assert record["status"] == "ok"
    assert record["request_model"] == truth["request_model"]
    assert record["response_model"] is None
    assert record["response_id"] is None
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": "A watercolor lighthouse at dawn"}]}
    ]
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "uri",
                    "modality": "image",
                    "uri": truth["image_urls"][0],
                    "revised_prompt": truth["revised_prompts"][0],
                }
            ],
            "finish_reason": None,
        }
    ]
    assert record["usage"] == NO_USAGE
    assert record["provider_usage"] is None
    assert record["settings"] == {"n": 1, "size": "1024x1024"}


@modes
def test_b64_image_is_a_sized_placeholder_and_usage_is_exact(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(CASSETTES / "images_generate_b64_with_usage.yaml")
    response = _replay_json("images_generate_b64_with_usage", is_async, "generate")

    assert response.data[0].b64_json == PNG_B64
    assert truth["image_b64_sizes"] == [len(PNG)]
    (record,) = records_of(memory)
    assert record["operation"] == "image"
    assert record["request_model"] == truth["request_model"] == "gpt-image-1"
    assert record["output"] == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "blob",
                    "modality": "image",
                    "mime_type": "image/png",
                    "content": None,
                    "size_bytes": truth["image_b64_sizes"][0],
                }
            ],
            "finish_reason": None,
        }
    ]
    assert record["usage"] == {
        **NO_USAGE,
        "input_tokens": truth["input_tokens"],
        "output_tokens": truth["output_tokens"],
        "total_tokens": truth["total_tokens"],
    }
    assert record["provider_usage"] == truth["usage"]
    assert record["settings"] == {"size": "1024x1024", "quality": "low"}
    assert PNG_B64[:24] not in json.dumps(record)


@modes
def test_edit_records_the_upload_as_a_placeholder(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    _, truth = load_cassette(CASSETTES / "images_edit.yaml")
    response = _replay_json(
        "images_edit",
        is_async,
        "edit",
        model="gpt-image-1",
        image=("square.png", PNG, "image/png"),
        prompt="Make the square blue",
    )

    assert response.data[0].b64_json == PNG_B64
    (record,) = records_of(memory)
    assert record["operation"] == truth["operation"] == "image.edit"
    assert record["name"] == "image.edit gpt-image-1"
    image_part = {
        "type": "blob",
        "modality": "image",
        "mime_type": "image/png",
        "content": None,
        "size_bytes": truth["upload_bytes"][0],
    }
    assert record["input"] == [
        {"role": "user", "parts": [image_part, {"type": "text", "content": "Make the square blue"}]}
    ]
    assert record["output"][0]["parts"] == [{**image_part, "size_bytes": len(PNG)}]
    assert record["usage"]["input_tokens"] == truth["input_tokens"] == 205
    assert record["usage"]["output_tokens"] == truth["output_tokens"]
    assert record["usage"]["total_tokens"] == truth["total_tokens"]
    assert record["provider_usage"]["input_tokens_details"] == {
        "image_tokens": 194,
        "text_tokens": 11,
    }
    assert PNG_B64[:24] not in json.dumps(record)


@pytest.mark.parametrize("source", ["path", "open_file", "bytes_io", "list"])
def test_uploads_are_sized_whatever_their_kind(
    source: str, tmp_path: Path, memory: Any, instrumented: None
) -> None:
    path = tmp_path / "square.png"
    path.write_bytes(PNG)
    with path.open("rb") as opened:
        image: Any = {
            "path": path,
            "open_file": opened,
            "bytes_io": io.BytesIO(PNG),
            "list": [path, io.BytesIO(PNG + PNG)],
        }[source]
        _replay_json("images_edit", False, "edit", model="gpt-image-1", image=image, prompt="Blue")

    (record,) = records_of(memory)
    parts = record["input"][0]["parts"]
    expected = {
        "path": [("image/png", len(PNG))],
        "open_file": [("image/png", len(PNG))],
        "bytes_io": [(None, len(PNG))],
        "list": [("image/png", len(PNG)), (None, 2 * len(PNG))],
    }[source]
    assert [(p["mime_type"], p["size_bytes"]) for p in parts[:-1]] == expected
    assert parts[-1] == {"type": "text", "content": "Blue"}


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # openai 3.x deprecates it
@modes
def test_variation_has_the_image_as_its_only_input(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    def respond(request: Any) -> Any:
        return http.Response(200, json={"created": 1763780000, "data": [{"b64_json": BIG_B64}]})

    sdk_call(
        is_async,
        lambda client: client.images.create_variation(
            image=("cat.png", PNG), model="dall-e-2", response_format="b64_json", n=1
        ),
        **served(respond, is_async),
    )

    (record,) = records_of(memory)
    assert record["operation"] == "image.variation"
    assert record["input"] == [
        {
            "role": "user",
            "parts": [
                {
                    "type": "blob",
                    "modality": "image",
                    "mime_type": "image/png",
                    "content": None,
                    "size_bytes": len(PNG),
                }
            ],
        }
    ]
    (part,) = record["output"][0]["parts"]
    assert (part["mime_type"], part["size_bytes"]) == ("image/jpeg", 30_003)
    assert record["settings"] == {"response_format": "b64_json", "n": 1}
    assert len(json.dumps(record)) < 2000


@modes
@pytest.mark.parametrize("method", ["generate", "edit"])
def test_stream_counts_partial_images_and_keeps_final_usage(
    method: str, is_async: bool, memory: Any, instrumented: None
) -> None:
    prefix = "image_generation" if method == "generate" else "image_edit"

    def respond(request: Any) -> Any:
        return _events(
            _event(f"{prefix}.partial_image", BIG_B64, partial_image_index=0),
            _event(f"{prefix}.partial_image", BIG_B64, partial_image_index=1),
            _event(f"{prefix}.completed", BIG_B64, usage=STREAM_USAGE),
        )

    arguments: dict[str, Any] = {"model": "gpt-image-1", "prompt": "A fox", "partial_images": 2}
    if method == "edit":
        arguments["image"] = ("fox.png", PNG, "image/png")
    events = sdk_call(
        is_async,
        lambda client: getattr(client.images, method)(stream=True, **arguments),
        **served(respond, is_async),
    )

    assert [e.type for e in events] == [
        f"{prefix}.partial_image",
        f"{prefix}.partial_image",
        f"{prefix}.completed",
    ]
    (record,) = records_of(memory)
    assert record["operation"] == ("image" if method == "generate" else "image.edit")
    assert record["stream"] is True
    assert record["status"] == "ok"
    assert record["chunks"] == 3
    assert 0 < record["time_to_first_token_s"] <= record["duration_s"]
    assert record["metadata"]["partial_image_count"] == 2
    assert record["output"][0]["parts"] == [
        {
            "type": "blob",
            "modality": "image",
            "mime_type": "image/jpeg",
            "content": None,
            "size_bytes": 30_003,
        }
    ]
    assert record["usage"]["input_tokens"] == 12
    assert record["usage"]["output_tokens"] == 272
    assert record["provider_usage"] == STREAM_USAGE
    assert record["settings"] == {"partial_images": 2}
    assert len(json.dumps(record)) < 2500


def test_stream_ending_before_the_final_image_is_incomplete(
    memory: Any, instrumented: None
) -> None:
    def respond(request: Any) -> Any:
        return _events(_event("image_generation.partial_image", BIG_B64, partial_image_index=0))

    sdk_call(
        False,
        lambda client: client.images.generate(model="gpt-image-1", prompt="A fox", stream=True),
        **served(respond, False),
    )

    (record,) = records_of(memory)
    assert record["status"] == "incomplete"
    assert record["output"] is None
    assert record["metadata"]["partial_image_count"] == 1
    assert record["usage"] == NO_USAGE


def test_svg_authoring_usage_is_kept_beside_the_image_usage(
    memory: Any, instrumented: None
) -> None:
    svg_usage = {
        "input_tokens": 20,
        "output_tokens": 300,
        "reasoning_tokens": 128,
        "total_tokens": 320,
        "model": "gpt-5-mini",
    }

    def respond(request: Any) -> Any:
        svg = base64.b64encode(b"<svg xmlns='http://www.w3.org/2000/svg'/>").decode()
        body = {
            "created": 1763780000,
            "data": [{"b64_json": svg}],
            "output_format": "svg",
            "svg_usage": svg_usage,
        }
        return http.Response(200, json=body)

    sdk_call(
        False,
        lambda client: client.images.generate(model="gpt-image-1", prompt="An icon"),
        **served(respond, False),
    )

    (record,) = records_of(memory)
    assert record["output"][0]["parts"][0]["mime_type"] == "image/svg+xml"
    assert record["metadata"]["openai.svg_usage"] == svg_usage
    assert record["usage"] == NO_USAGE


@modes
def test_raw_response_records_exactly_one_record(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    path = CASSETTES / "images_generate_b64_with_usage.yaml"
    cassette, truth = load_cassette(path)
    body = request_body(cassette["interactions"][0])

    async def araw() -> tuple[Any, Any]:
        client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
        raw = await client.images.with_raw_response.generate(**body)
        return raw, raw.parse()

    with replay(path):
        if is_async:
            raw, response = asyncio.run(araw())
        else:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            raw = client.images.with_raw_response.generate(**body)
            response = raw.parse()

    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.status_code == 200
    assert response.data[0].b64_json == PNG_B64
    (record,) = records_of(memory)
    assert record["usage"]["total_tokens"] == truth["total_tokens"]
    assert record["output"][0]["parts"][0]["size_bytes"] == len(PNG)
    assert PNG_B64[:24] not in json.dumps(record)
