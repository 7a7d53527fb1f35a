"""Per-call and per-chunk overhead of `llmtap.instrument_mistralai()` on the Mistral SDK.

`chat.complete` and `chat.stream`, sync and async, timed by `harness.py` exactly as
`openai_overhead.py` times OpenAI: interleaved rounds of an uninstrumented and an
instrumented block, medians over rounds, gc enabled, the worker kept out of the timed
blocks.

    python bench/mistral_overhead.py            # full run, a few minutes on 2 cores
    python bench/mistral_overhead.py --quick    # smoke run, about 30 seconds

Results: a table per section, and bench/results/mistral_overhead.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import llmtap
from harness import (
    ANSWER,
    MESSAGES,
    AsyncFakeStream,
    FakeStream,
    NoopExporter,
    Runner,
    acount,
    count,
    finish,
    machine,
    parse_args,
    print_intro,
    run_section,
    run_sections,
    sse_data,
)
from llmtap.exporters import SQLiteExporter

SDK_VERSION = version("mistralai")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])
HTTPX_NAME = "httpx2" if SDK_MAJOR >= 3 else "httpx"
httpx = importlib.import_module(HTTPX_NAME)
if SDK_MAJOR >= 2:
    from mistralai.client import Mistral, models
    from mistralai.client.chat import Chat
else:  # 1.x
    from mistralai import Mistral, models  # type: ignore[attr-defined,no-redef]
    from mistralai.chat import Chat  # type: ignore[no-redef]

MODEL = "mistral-small-latest"
RESPONSE_MODEL = "mistral-small-2506"
RESPONSE_ID = "0a5e72c4d8eb43c5b82d7e42163ef3bd"
REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": MESSAGES,
    "temperature": 0.2,
    "max_tokens": 512,
}
USAGE = {"prompt_tokens": 412, "completion_tokens": 128, "total_tokens": 540}
# Chunks around a stream's text chunks: the role chunk before, the finish chunk (with
# the usage, which Mistral sends unasked) after.
EXTRA_CHUNKS = 2


def completion_body() -> bytes:
    return json.dumps(
        {
            "id": RESPONSE_ID,
            "object": "chat.completion",
            "created": 1763780000,
            "model": RESPONSE_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": ANSWER,
                        "tool_calls": None,
                        "prefix": False,
                    },
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }
    ).encode()


def stream_body(content_chunks: int) -> bytes:
    """The role chunk, `content_chunks` text chunks, the finish chunk with usage, [DONE]."""
    words = ANSWER.split(" ")

    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        data = {
            "id": RESPONSE_ID,
            "object": "chat.completion.chunk",
            "created": 1763780000,
            "model": RESPONSE_MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            **extra,
        }
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    events = [chunk({"role": "assistant", "content": ""})]
    events += [
        chunk({"content": (" " if i else "") + words[i % len(words)]})
        for i in range(content_chunks)
    ]
    events.append(chunk({"content": ""}, "stop", usage=USAGE))
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


def make_client(body: bytes, content_type: str, is_async: bool) -> Any:
    headers = {"content-type": content_type, "x-kong-request-id": "0a5e72c4d8eb43c50069cbcb"}

    def handler(request: Any) -> Any:
        return httpx.Response(200, headers=headers, content=body)

    async def ahandler(request: Any) -> Any:
        return handler(request)

    if is_async:
        client = httpx.AsyncClient(transport=httpx.MockTransport(ahandler))
        return Mistral(api_key="bench", async_client=client)
    return Mistral(api_key="bench", client=httpx.Client(transport=httpx.MockTransport(handler)))


# -- cases ---------------------------------------------------------------------------

# (api, case, async, text chunks per stream; 0 = not a stream): `chat.complete[_async]`
# and `chat.stream[_async]`.
CASES = [
    ("chat", "sync non-stream", False, 0),
    ("chat", "async non-stream", True, 0),
    ("chat", "sync stream 200", False, 200),
    ("chat", "async stream 200", True, 200),
    ("chat", "sync stream 10", False, 10),
    ("chat", "async stream 10", True, 10),
]
METHODS = ("complete", "complete_async", "stream", "stream_async")


class Case:
    def __init__(
        self, api: str, name: str, is_async: bool, content_chunks: int, canned: bool
    ) -> None:
        self.api = api
        self.name = f"{api} {name}"
        self.is_async = is_async
        self.content_chunks = content_chunks
        self.stream = content_chunks > 0
        self.chunks = self.seen = content_chunks + EXTRA_CHUNKS if self.stream else 0
        if self.stream:
            body = stream_body(content_chunks)
            client = make_client(body, "text/event-stream", is_async)
        else:
            client = make_client(completion_body(), "application/json", is_async)
        self.resource = client.chat
        self.method = METHODS[self.stream * 2 + is_async]
        self.kwargs = dict(REQUEST)
        if canned and self.stream:
            self.kwargs["content_chunks_for_bench"] = content_chunks

    def sync_call(self) -> int:
        # Looked up on every call: instrumenting patches the class.
        result = getattr(self.resource, self.method)(**self.kwargs)
        return count(result) if self.stream else 0

    async def async_call(self) -> int:
        result = await getattr(self.resource, self.method)(**self.kwargs)
        return await acount(result) if self.stream else 0


class Canned:
    """Canned results in place of `Chat.complete[_async]` and `Chat.stream[_async]`.

    Installed before `instrument_mistralai()`, so llmtap wraps them as it wraps the SDK's
    own methods. The objects are validated with the SDK's own models from the same JSON
    the mock transport serves, as the SDK builds them.
    """

    def __init__(self) -> None:
        llmtap.uninstrument_mistralai()
        self.originals = [Chat.__dict__[name] for name in METHODS]
        response = models.ChatCompletionResponse.model_validate_json(completion_body())
        chunks = {
            n: [
                models.CompletionEvent.model_validate({"data": data})
                for data in sse_data(stream_body(n))
            ]
            for n in {n for _, _, _, n in CASES if n}
        }

        def complete(resource: Any, **kwargs: Any) -> Any:
            return response

        async def complete_async(resource: Any, **kwargs: Any) -> Any:
            return response

        def stream(resource: Any, **kwargs: Any) -> Any:
            return FakeStream(chunks[kwargs["content_chunks_for_bench"]])

        async def stream_async(resource: Any, **kwargs: Any) -> Any:
            return AsyncFakeStream(chunks[kwargs["content_chunks_for_bench"]])

        self.replacements = (complete, complete_async, stream, stream_async)

    def install(self) -> None:
        llmtap.uninstrument_mistralai()
        for name, replacement in zip(METHODS, self.replacements, strict=True):
            setattr(Chat, name, replacement)

    def restore(self) -> None:
        llmtap.uninstrument_mistralai()
        for name, original in zip(METHODS, self.originals, strict=True):
            setattr(Chat, name, original)


def set_instrumented(on: bool) -> None:
    if on:
        llmtap.instrument_mistralai()
    else:
        llmtap.uninstrument_mistralai()


def unit(api: str) -> str:
    return "chunk"


def section(
    runner: Runner, args: argparse.Namespace, title: str, canned: bool, exporter: Any
) -> dict[str, Any]:
    return run_section(
        runner,
        title,
        [Case(*case, canned) for case in CASES],
        set_instrumented,
        unit,
        transport="canned chat methods" if canned else f"{HTTPX_NAME}.MockTransport",
        exporter=exporter,
        canned=Canned() if canned else None,
        rounds=args.rounds,
        block_ms=args.block_ms / 6 if canned else args.block_ms,
        warmup_s=args.warmup_s,
    )


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0])
    info = machine(
        {"mistralai": SDK_VERSION, "http_library": f"{HTTPX_NAME} {version(HTTPX_NAME)}"},
        ("llmtap", "llmtap-mistralai", "wrapt"),
    )
    print_intro(
        info,
        f"llmtap {info['llmtap']} / mistralai {info['mistralai']} / {info['http_library']}",
        args,
        "Chunks per stream = text chunks + 2\n(the role chunk; the finish chunk, which "
        "carries the usage).",
    )

    def sections(runner: Runner, tmp: Path) -> list[dict[str, Any]]:
        mock = f"End to end ({HTTPX_NAME}.MockTransport)"
        return [
            section(runner, args, f"{mock}, no-op exporter", False, NoopExporter()),
            section(
                runner, args, f"{mock}, SQLite exporter", False, SQLiteExporter(tmp / "llmtap.db")
            ),
            section(
                runner,
                args,
                "llmtap's own cost (canned chat methods: no HTTP, no parsing), no-op exporter",
                True,
                NoopExporter(),
            ),
        ]

    results, elapsed = run_sections(args, sections)
    finish("mistral_overhead", info, args, results, elapsed, "12 chunks")


if __name__ == "__main__":
    main()
