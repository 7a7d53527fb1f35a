"""Fixtures for the LiteLLM integration tests: replayed traffic, the three ways to
register llmtap's logger, and waiting for LiteLLM's background logging."""

from __future__ import annotations

import os

# Before litellm is imported: never fetch the model cost map from the network.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import litellm
import pytest
import vcr

import llmtap
import llmtap_litellm
from llmtap.exporters import MemoryExporter
from llmtap_litellm.calls import CALLS
from support.cassettes import MATCH_ON, SHARED_CASSETTES, request_body

QUESTION = [{"role": "user", "content": "Say this is a test"}]
PREFIX = {"api.openai.com": "openai/", "api.anthropic.com": "anthropic/"}
TIMEOUT_S = 10.0
POLL_S = 0.01

STYLES = ("success_callback", "callbacks", "instrument")

_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


def _reset_litellm() -> None:
    for name in _LISTS:
        getattr(litellm, name)[:] = []
    llmtap_litellm.uninstrument()
    # LiteLLM reuses SDK clients across calls; a client made while llmtap's OpenAI
    # integration was on keeps its wrapped `with_raw_response` methods.
    litellm.in_memory_llm_clients_cache.flush_cache()


@pytest.fixture(autouse=True)
def _clean_litellm() -> Iterator[None]:
    """Every test starts and ends with no logger registered and no call in flight."""
    _reset_litellm()
    yield
    _reset_litellm()
    llmtap.uninstrument_openai()


def register(style: str) -> None:
    """Register llmtap the way a user would, in one of the three documented styles."""
    if style == "success_callback":
        litellm.success_callback = [llmtap.litellm_success_callback]
        litellm.failure_callback = [llmtap.litellm_failure_callback]
    elif style == "callbacks":
        litellm.callbacks = [llmtap.litellm_logger()]
    else:
        llmtap.instrument_litellm()


@pytest.fixture(params=STYLES)
def style(request: pytest.FixtureRequest) -> str:
    register(request.param)
    return str(request.param)


@pytest.fixture
def registered() -> None:
    register("callbacks")


@contextmanager
def replaying(path: Path, *, repeats: bool = False) -> Iterator[None]:
    """Serve the cassette's responses; matched on everything but the body, because
    LiteLLM rewrites request bodies."""
    with vcr.use_cassette(
        str(path), record_mode="none", match_on=MATCH_ON, allow_playback_repeats=repeats
    ):
        yield


def cassette(folder: str, name: str) -> Path:
    return SHARED_CASSETTES / folder / f"{name}.yaml"


def wait_for(memory: MemoryExporter, count: int) -> list[dict[str, Any]]:
    """Records once `count` have been exported, oldest first. LiteLLM logs on its own
    threads after returning; this polls llmtap's exporter with a deadline."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        llmtap_litellm.flush(timeout=TIMEOUT_S)
        records = memory.records
        if len(records) >= count or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    return sorted((r.to_dict() for r in records), key=lambda r: r["start_time"])


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop, where LiteLLM logs async calls, until `condition` holds
    or the deadline passes. LiteLLM signals nothing when it has logged, so this polls."""
    for _ in range(int(TIMEOUT_S / POLL_S)):
        if condition():
            return
        await asyncio.sleep(POLL_S)


async def await_for(memory: MemoryExporter, count: int) -> list[dict[str, Any]]:
    """As `wait_for`, for async calls."""
    await until(lambda: len(memory.records) >= count)
    return wait_for(memory, count)


def generations(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "generation"]


def text(record: dict[str, Any], choice: int = 0) -> str:
    return "".join(p["content"] for p in record["output"][choice]["parts"] if p["type"] == "text")


def call_for(interaction: dict[str, Any], operation: str) -> tuple[str, dict[str, Any]]:
    """(LiteLLM function name, its keyword arguments) that make this recorded request."""
    request = interaction["request"]
    split = urlsplit(request["uri"])
    body = request_body(interaction)
    model = PREFIX[split.netloc] + body["model"]
    base = f"{split.scheme}://{split.netloc}" + ("/v1" if "openai" in split.netloc else "")
    common = {"model": model, "api_key": "sk-test", "api_base": base}
    stream = bool(body.get("stream"))
    if operation == "embeddings":
        return "embedding", {**common, "input": body["input"]}
    if operation == "responses":
        return "responses", {**common, "input": body["input"], "stream": stream}
    if operation == "completion":
        return "text_completion", {**common, "prompt": body["prompt"], "stream": stream}
    messages = body.get("messages") or QUESTION
    settings = {k: body[k] for k in ("tools", "n", "max_tokens") if k in body}
    settings.setdefault("max_tokens", 1024)
    return "completion", {**common, "messages": messages, "stream": stream, **settings}


def run_sync(function: str, kwargs: dict[str, Any]) -> Any:
    result = getattr(litellm, function)(**kwargs)
    if kwargs.get("stream"):
        for _ in result:
            pass
    return result


async def run_async(function: str, kwargs: dict[str, Any]) -> Any:
    result = await getattr(litellm, "a" + function)(**kwargs)
    if kwargs.get("stream"):
        async for _ in result:
            pass
    return result


class Lite:
    """The helpers above, handed to tests as the `lite` fixture (test modules cannot
    import this conftest under pytest's importlib mode)."""

    replaying = staticmethod(replaying)
    cassette = staticmethod(cassette)
    generations = staticmethod(generations)
    text = staticmethod(text)
    call_for = staticmethod(call_for)
    run_sync = staticmethod(run_sync)
    run_async = staticmethod(run_async)
    question = QUESTION

    def __init__(self, memory: MemoryExporter) -> None:
        self.memory = memory

    def records(self, count: int) -> list[dict[str, Any]]:
        return wait_for(self.memory, count)

    async def arecords(self, count: int) -> list[dict[str, Any]]:
        return await await_for(self.memory, count)

    @staticmethod
    async def repeats_beyond(before: int) -> int:
        """LiteLLM's repeated end events for calls already recorded, once one arrived."""
        await until(lambda: CALLS.repeats > before)
        return CALLS.repeats - before


@pytest.fixture
def lite(memory: MemoryExporter) -> Lite:
    return Lite(memory)
