"""Embeddings (`client.embeddings.create`): counts, dimensions and usage are exact, and
no vector, float or base64, ever reaches a record."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from support.cassettes import SHARED_CASSETTES, load_cassette, records_of, replay, request_body
from support.fake_openai import http

SHARED = sorted((SHARED_CASSETTES / "openai").glob("embeddings_*.yaml"))
modes = pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])

DIMENSIONS = 256
VECTORS = [[(i + 1) / 1024 + d / 4096 for d in range(DIMENSIONS)] for i in range(3)]


def _call(is_async: bool, make_call: Callable[[Any], Any], **client_options: Any) -> Any:
    options = {"api_key": "sk-test", "max_retries": 0, **client_options}
    if not is_async:
        return make_call(openai.OpenAI(**options))

    async def run() -> Any:
        return await make_call(openai.AsyncOpenAI(**options))

    return asyncio.run(run())


def _packed(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


class EmbeddingServer:
    """Answers /embeddings with VECTORS, as floats or base64 as the request asks."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def respond(self, request: Any) -> Any:
        body = json.loads(request.content)
        self.requests.append(body)
        packed = body.get("encoding_format") == "base64"
        count = len(body["input"]) if isinstance(body["input"], list) else 1
        data = [
            {"object": "embedding", "index": i, "embedding": _packed(v) if packed else v}
            for i, v in enumerate(VECTORS[:count])
        ]
        usage = {"prompt_tokens": 9, "total_tokens": 9}
        return http.Response(
            200,
            json={
                "object": "list",
                "data": data,
                "model": "text-embedding-3-small",
                "usage": usage,
            },
        )

    def options(self, is_async: bool) -> dict[str, Any]:
        if not is_async:
            return {"http_client": http.Client(transport=http.MockTransport(self.respond))}

        async def arespond(request: Any) -> Any:
            return self.respond(request)

        return {"http_client": http.AsyncClient(transport=http.MockTransport(arespond))}


@modes
@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.stem)
def test_shared_cassette_matches_truth(
    path: Path, is_async: bool, memory: Any, instrumented: None
) -> None:
    cassette, truth = load_cassette(path)
    body = request_body(cassette["interactions"][0])
    (interaction,) = truth["interactions"]
    with replay(path):
        response = _call(is_async, lambda client: client.embeddings.create(**body))

    assert len(response.data[0].embedding) == interaction["embedding_dims"]
    (record,) = records_of(memory)
    assert record["operation"] == truth["operation"] == "embeddings"
    assert record["name"] == f"embeddings {truth['request_model']}"
    assert (record["provider"], record["integration"]) == ("openai", "llmtap-openai")
    assert record["server_address"] == interaction["host"]
    assert record["status"] == "ok"
    assert record["stream"] is False
    assert record["request_model"] == truth["request_model"]
    assert record["response_model"] == truth["response_model"]
    assert record["response_id"] == truth["response_id"] is None
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "text", "content": body["input"]}]}
    ]
    assert record["output"] is None
    assert record["finish_reason"] is None
    assert record["usage"] == {
        "input_tokens": truth["input_tokens"],
        "output_tokens": None,
        "total_tokens": truth["total_tokens"],
        "cached_input_tokens": None,
        "cache_creation_input_tokens": None,
        "reasoning_tokens": None,
    }
    assert truth["output_tokens"] is None
    assert truth["total_tokens"] == truth["input_tokens"]
    assert record["provider_usage"] == {
        "prompt_tokens": truth["input_tokens"],
        "total_tokens": truth["total_tokens"],
    }
    assert record["metadata"] == {
        "embedding_count": interaction["embedding_count"],
        "embedding_dimensions": interaction["embedding_dims"],
        "encoding_format": "float",
    }
    assert record["settings"] == {k: v for k, v in body.items() if k == "dimensions"}
    assert len(json.dumps(record)) < 2500  # 512 or 1536 floats would be 5-30 kB


@modes
def test_base64_vectors_are_sized_never_stored(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    server = EmbeddingServer()
    response = _call(
        is_async,
        lambda client: client.embeddings.create(
            model="text-embedding-3-small", input=["a", "b"], encoding_format="base64"
        ),
        **server.options(is_async),
    )

    payloads = [item.embedding for item in response.data]
    assert payloads == [_packed(VECTORS[0]), _packed(VECTORS[1])]
    (record,) = records_of(memory)
    assert record["metadata"] == {
        "embedding_count": 2,
        "embedding_dimensions": DIMENSIONS,
        "encoding_format": "base64",
    }
    assert record["settings"] == {"encoding_format": "base64"}
    text = json.dumps(record)
    assert not any(payload[:40] in text for payload in payloads)
    assert len(text) < 2500


def test_the_sdk_asking_for_base64_by_itself_is_recorded_as_the_caller_sees_it(
    memory: Any, instrumented: None
) -> None:
    server = EmbeddingServer()
    response = _call(
        False,
        lambda client: client.embeddings.create(model="text-embedding-3-small", input="a"),
        **server.options(False),
    )

    assert server.requests[0]["encoding_format"] == "base64"  # the SDK's own choice
    assert response.data[0].embedding == pytest.approx(VECTORS[0])
    (record,) = records_of(memory)
    assert record["metadata"]["encoding_format"] == "float"
    assert record["metadata"]["embedding_dimensions"] == DIMENSIONS
    assert record["settings"] == {}


@modes
def test_inputs_are_messages_and_token_arrays_only_counts(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    server = EmbeddingServer()
    batch: list[Any] = [[9906, 1917, 0, 1], [4438, 527]]
    _call(
        is_async,
        lambda client: client.embeddings.create(
            model="text-embedding-3-small", input=batch, dimensions=DIMENSIONS, user="u-7"
        ),
        **server.options(is_async),
    )
    batch.append([1, 2, 3])  # changed after the call: the record keeps what was sent

    (record,) = records_of(memory)
    assert record["input"] == [
        {"role": "user", "parts": [{"type": "tokens", "count": 4}]},
        {"role": "user", "parts": [{"type": "tokens", "count": 2}]},
    ]
    assert record["settings"] == {"dimensions": DIMENSIONS, "user": "u-7"}
    assert record["metadata"]["embedding_count"] == 2


def test_a_list_of_texts_is_one_message_each(memory: Any, instrumented: None) -> None:
    server = EmbeddingServer()
    _call(
        False,
        lambda client: client.embeddings.create(
            model="text-embedding-3-small", input=["alpha", "beta", "gamma"]
        ),
        **server.options(False),
    )

    (record,) = records_of(memory)
    assert [m["parts"] for m in record["input"]] == [
        [{"type": "text", "content": "alpha"}],
        [{"type": "text", "content": "beta"}],
        [{"type": "text", "content": "gamma"}],
    ]
    assert record["metadata"]["embedding_count"] == 3


@modes
def test_raw_response_records_exactly_one_record(
    is_async: bool, memory: Any, instrumented: None
) -> None:
    path = SHARED[0]
    cassette, truth = load_cassette(path)
    body = request_body(cassette["interactions"][0])

    async def araw() -> tuple[Any, Any]:
        client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
        raw = await client.embeddings.with_raw_response.create(**body)
        return raw, raw.parse()

    with replay(path):
        if is_async:
            raw, response = asyncio.run(araw())
        else:
            client = openai.OpenAI(api_key="sk-test", max_retries=0)
            raw = client.embeddings.with_raw_response.create(**body)
            response = raw.parse()

    assert raw.headers["content-type"] == "application/json"
    assert raw.http_response.status_code == 200
    assert response.usage.prompt_tokens == truth["input_tokens"]
    (record,) = records_of(memory)
    assert record["usage"]["input_tokens"] == truth["input_tokens"]
    assert record["metadata"]["embedding_count"] == truth["interactions"][0]["embedding_count"]
