"""The OpenAI and Anthropic cassettes, driven through LlamaIndex's OpenAI and Anthropic
LLMs (chat, stream_chat, achat, astream_chat) and OpenAI embeddings, with the provider
integrations off and on: each call gives one generation equal to the truth file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from llamaindex_support import (
    anthropic_llm,
    check_layers,
    generations,
    openai_embedding,
    openai_llm,
    skip_if_model_refused,
    text_of,
    token_sums,
)

from support.cassettes import SHARED_CASSETTES, load_cassette, records_of, replay, request_body

if not SHARED_CASSETTES.is_dir():
    pytest.skip("../shared/cassettes is not present", allow_module_level=True)

QUESTION = [ChatMessage(role="user", content="Say this is a test")]


def _cassettes(folder: str, operations: set[str]) -> list[Path]:
    found = []
    for path in sorted((SHARED_CASSETTES / folder).glob("*.yaml")):
        _, truth = load_cassette(path)
        if {i.get("operation") for i in truth["interactions"]} <= operations:
            found.append(path)
    return found


CHAT = _cassettes("openai", {"chat"}) + _cassettes("anthropic", {"messages"})
EMBEDDINGS = _cassettes("openai", {"embeddings"})


# The error cassettes ask for models that do not exist, and LlamaIndex refuses unknown
# names before any request; a known name gets the recorded error response instead.
KNOWN = {"openai": "gpt-4o-mini", "anthropic": "claude-3-haiku-20240307"}


def _llm(truth: dict[str, Any], body: dict[str, Any], stream: bool) -> Any:
    model = KNOWN[truth["provider"]] if truth["status_code"] >= 400 else body["model"]
    if truth["provider"] == "anthropic":
        return anthropic_llm(model, max_tokens=body.get("max_tokens") or 1024)
    options = {}
    if stream and body.get("stream_options"):  # as recorded: LlamaIndex never asks itself
        options["additional_kwargs"] = {"stream_options": body["stream_options"]}
    return openai_llm(model, **options)


def _drive(path: Path, use_async: bool) -> list[BaseException]:
    cassette, truth = load_cassette(path)
    errors: list[BaseException] = []
    with replay(path):
        for interaction in cassette["interactions"]:
            body = request_body(interaction)
            stream = bool(body.get("stream"))
            llm = _llm(truth, body, stream)
            try:
                if use_async:
                    asyncio.run(_call_async(llm, stream))
                elif stream:
                    for _ in llm.stream_chat(QUESTION):
                        pass
                else:
                    llm.chat(QUESTION)
            except Exception as error:  # the error cassettes' status errors
                skip_if_model_refused(error)
                errors.append(error)
    return errors


async def _call_async(llm: Any, stream: bool) -> None:
    if stream:
        async for _ in await llm.astream_chat(QUESTION):
            pass
    else:
        await llm.achat(QUESTION)


def _expected_input(call: dict[str, Any]) -> int | None:
    tokens = call.get("input_tokens")
    if tokens is not None and call["provider"] == "anthropic":
        tokens += (call.get("cache_read_input_tokens") or 0) + (
            call.get("cache_creation_input_tokens") or 0
        )
    return tokens


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("path", CHAT, ids=[f"{p.parent.name}/{p.stem}" for p in CHAT])
def test_chat_cassette(memory: Any, provider_layer: bool, path: Path, use_async: bool) -> None:
    _, truth = load_cassette(path)
    errors = _drive(path, use_async)
    records = records_of(memory)
    calls = [i for i in truth["interactions"] if i.get("operation")]
    gens = check_layers(records, provider_layer) if not errors else generations(records)
    assert len(gens) == len(calls)
    for gen, call in zip(gens, calls, strict=True):
        assert gen["provider"] == call["provider"]
        if call["status_code"] >= 400:
            assert gen["status"] == "error"
            assert gen["error"]["type"] == type(errors[0]).__name__
            assert gen["usage"]["input_tokens"] is None
            continue
        assert gen["status"] == "ok"
        assert gen["stream"] is call["streaming"]
        assert gen["response_model"] == call["response_model"]
        if call.get("response_id"):
            assert gen["response_id"] == call["response_id"]
        usage = gen["usage"]
        assert usage["input_tokens"] == _expected_input(call)
        assert usage["output_tokens"] == call["output_tokens"]
        cached = call.get("cached_tokens") or call.get("cache_read_input_tokens")
        if cached:
            assert usage["cached_input_tokens"] == cached
        if call.get("reasoning_tokens"):
            assert usage["reasoning_tokens"] == call["reasoning_tokens"]
        # Recorded with n=2, replayed to a request without `n` (LlamaIndex sends none):
        # llmtap-openai rightly expects one choice then; only LlamaIndex's record, which
        # reads each chunk's choice index, splits them.
        if not (provider_layer and len(call.get("output_texts") or ()) > 1):
            assert text_of(gen) == (call.get("output_text") or "")
        assert [c["name"] for c in gen["tool_calls"] or ()] == call.get("tool_calls", [])
        if call["streaming"] and call.get("output_text"):
            assert 0 < gen["time_to_first_token_s"] <= gen["duration_s"]
    assert not errors or truth["status_code"] >= 400
    wanted = (
        sum(_expected_input(c) or 0 for c in calls),
        sum(c.get("output_tokens") or 0 for c in calls),
    )
    assert token_sums(records) == wanted


@pytest.mark.parametrize("path", EMBEDDINGS, ids=[p.stem for p in EMBEDDINGS])
def test_embeddings_cassette(memory: Any, provider_layer: bool, path: Path) -> None:
    cassette, cassette_truth = load_cassette(path)
    truth = cassette_truth["interactions"][0]
    body = request_body(cassette["interactions"][0])
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    with replay(path):
        vectors = openai_embedding(body["model"]).get_text_embedding_batch(texts)
    assert len(vectors) == truth["embedding_count"]

    records = records_of(memory)
    (gen,) = check_layers(records, provider_layer)
    assert gen["operation"] == "embeddings"
    assert gen["provider"] == "openai"
    assert gen["response_model"] == truth["response_model"]
    assert gen["usage"]["input_tokens"] == truth["input_tokens"]
    assert gen["usage"]["output_tokens"] is None
    assert token_sums(records) == (truth["input_tokens"], 0)
    step = next(r for r in records if r["integration"] == "llmtap-llamaindex")
    assert step["metadata"]["embedding_count"] == truth["embedding_count"]
    assert step["metadata"]["embedding_dimensions"] == len(vectors[0])
    assert [m["parts"][0]["content"] for m in step["input"]] == texts
