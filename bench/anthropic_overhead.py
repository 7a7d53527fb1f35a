"""Per-call and per-chunk overhead of `llmtap.instrument_anthropic()` on the Anthropic SDK.

`messages.create` non-stream and with `stream=True`, and the `messages.stream()` helper,
sync and async, timed by `harness.py` exactly as `openai_overhead.py` times OpenAI:
interleaved rounds of an uninstrumented and an instrumented block, medians over rounds,
gc enabled, the worker kept out of the timed blocks.

    python bench/anthropic_overhead.py            # full run, a few minutes on 2 cores
    python bench/anthropic_overhead.py --quick    # smoke run, about 30 seconds

Results: a table per section, and bench/results/anthropic_overhead.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import anthropic
from anthropic._models import construct_type
from anthropic.types import Message, RawMessageStreamEvent

import llmtap
from harness import (
    ANSWER,
    SYSTEM,
    TURNS,
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
    sse_events,
)
from llmtap.exporters import SQLiteExporter

SDK_MAJOR = int(anthropic.__version__.split(".")[0])
HTTPX_NAME = "httpx2" if SDK_MAJOR >= 2 else "httpx"
httpx = importlib.import_module(HTTPX_NAME)

MODEL = "claude-sonnet-4-6"
RESPONSE_MODEL = "claude-sonnet-4-6"
MESSAGE_ID = "msg_01XFDUDYJgAACzvnptvVoYEL"
REQUEST: dict[str, Any] = {
    "model": MODEL,
    "system": SYSTEM,
    "messages": TURNS,
    "max_tokens": 512,
}
USAGE = {
    "input_tokens": 156,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 256,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 128,
    "service_tier": "standard",
}
# Events the SDK yields around a stream's text deltas: message_start and
# content_block_start before; content_block_stop, message_delta and message_stop after.
# The server also sends a ping after content_block_start, which the SDK drops.
EXTRA_EVENTS = 5


def message_json(text: str | None) -> dict[str, Any]:
    """A Message as api.anthropic.com sends it; `text=None` is message_start's snapshot."""
    done = text is not None
    usage = USAGE if done else {**USAGE, "output_tokens": 1}
    return {
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": RESPONSE_MODEL,
        "content": [{"type": "text", "text": text}] if done else [],
        "stop_reason": "end_turn" if done else None,
        "stop_sequence": None,
        "usage": usage,
    }


def message_body() -> bytes:
    return json.dumps(message_json(ANSWER)).encode()


def stream_events(deltas: int) -> list[dict[str, Any]]:
    """A text answer streamed as `deltas` text deltas, message_start to message_stop."""
    words = ANSWER.split(" ")
    return [
        {"type": "message_start", "message": message_json(None)},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        *(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": (" " if i else "") + words[i % len(words)]},
            }
            for i in range(deltas)
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 128},
        },
        {"type": "message_stop"},
    ]


def make_client(body: bytes, content_type: str, is_async: bool) -> Any:
    headers = {"content-type": content_type, "request-id": "req_011CTjvDnZ5mMQ3r5VbGvkGe"}

    def handler(request: Any) -> Any:
        return httpx.Response(200, headers=headers, content=body)

    async def ahandler(request: Any) -> Any:
        return handler(request)

    options: dict[str, Any] = {"api_key": "sk-ant-bench", "max_retries": 0}
    if is_async:
        transport = httpx.MockTransport(ahandler)
        return anthropic.AsyncAnthropic(
            http_client=httpx.AsyncClient(transport=transport), **options
        )
    transport = httpx.MockTransport(handler)
    return anthropic.Anthropic(http_client=httpx.Client(transport=transport), **options)


# -- cases ---------------------------------------------------------------------------

# (api, case, async, text deltas per stream; 0 = not a stream). "messages" is
# `messages.create`; "stream()" is the `messages.stream()` helper.
CASES = [
    ("messages", "sync non-stream", False, 0),
    ("messages", "async non-stream", True, 0),
    ("messages", "sync stream 200", False, 200),
    ("messages", "async stream 200", True, 200),
    ("messages", "sync stream 10", False, 10),
    ("messages", "async stream 10", True, 10),
    ("stream()", "sync stream 200", False, 200),
    ("stream()", "async stream 200", True, 200),
    ("stream()", "sync stream 10", False, 10),
]
CALLS_OF = {"stream()": "messages"}


class Case:
    def __init__(
        self, api: str, name: str, is_async: bool, content_chunks: int, canned: Canned | None
    ) -> None:
        self.api = api
        self.name = f"{api} {name}"
        self.is_async = is_async
        self.content_chunks = content_chunks
        self.stream = content_chunks > 0
        self.helper = api == "stream()"
        self.chunks = content_chunks + EXTRA_EVENTS if self.stream else 0
        # The helper yields its own events: the raw ones, plus a text event per delta.
        self.seen = self.chunks + content_chunks if self.helper else self.chunks
        if self.stream:
            body = sse_events(stream_events(content_chunks))
            client = make_client(body, "text/event-stream; charset=utf-8", is_async)
        else:
            client = make_client(message_body(), "application/json", is_async)
        if canned is not None:
            canned.attach(client.messages, content_chunks, is_async)
        self.resource = client.messages
        self.kwargs = dict(REQUEST)
        if self.stream and not self.helper:
            self.kwargs["stream"] = True
        if canned is not None and self.stream and not self.helper:
            self.kwargs["content_chunks_for_bench"] = content_chunks

    def sync_call(self) -> int:
        # Methods are looked up on every call: instrumenting patches the classes.
        if self.helper:
            with self.resource.stream(**self.kwargs) as stream:
                return count(stream)
        result = self.resource.create(**self.kwargs)
        return count(result) if self.stream else 0

    async def async_call(self) -> int:
        if self.helper:
            async with self.resource.stream(**self.kwargs) as stream:
                return await acount(stream)
        result = await self.resource.create(**self.kwargs)
        return await acount(result) if self.stream else 0


class Canned:
    """Canned results in place of `[Async]Messages.create`, and of the `_post` through
    which a client's `messages.stream()` sends its request.

    Installed before `instrument_anthropic()`, so llmtap wraps them as it wraps the SDK's
    own methods. Events and the message are built with the SDK's own `construct_type`
    from the same JSON the mock transport serves, so they are the objects the SDK yields.
    The helper still does its own work on every event (it builds the message snapshot),
    which the baseline pays too.
    """

    def __init__(self) -> None:
        from anthropic.resources import messages

        llmtap.uninstrument_anthropic()
        self.classes = (messages.Messages, messages.AsyncMessages)
        self.originals = [cls.__dict__["create"] for cls in self.classes]
        message = construct_type(type_=Message, value=json.loads(message_body()))
        self.events = {
            n: [
                construct_type(type_=RawMessageStreamEvent, value=event)
                for event in stream_events(n)
                if event["type"] != "ping"  # the SDK never yields it
            ]
            for n in {n for _, _, _, n in CASES if n}
        }
        events = self.events

        def create(resource: Any, **kwargs: Any) -> Any:
            n = kwargs.get("content_chunks_for_bench")
            return message if n is None else FakeStream(events[n])

        async def acreate(resource: Any, **kwargs: Any) -> Any:
            n = kwargs.get("content_chunks_for_bench")
            return message if n is None else AsyncFakeStream(events[n])

        self.replacements = (create, acreate)

    def attach(self, resource: Any, n: int, is_async: bool) -> None:
        """The resource's `stream()` posts through `_post`: answer it with `n` events."""
        events = self.events.get(n, [])

        def post(*args: Any, **kwargs: Any) -> Any:
            return AsyncFakeStream(events) if is_async else FakeStream(events)

        async def apost(*args: Any, **kwargs: Any) -> Any:
            return post()

        resource._post = apost if is_async else post

    def install(self) -> None:
        llmtap.uninstrument_anthropic()
        for cls, replacement in zip(self.classes, self.replacements, strict=True):
            cls.create = replacement

    def restore(self) -> None:
        llmtap.uninstrument_anthropic()
        for cls, original in zip(self.classes, self.originals, strict=True):
            cls.create = original


def set_instrumented(on: bool) -> None:
    if on:
        llmtap.instrument_anthropic()
    else:
        llmtap.uninstrument_anthropic()


def unit(api: str) -> str:
    return "event"


def section(
    runner: Runner, args: argparse.Namespace, title: str, canned: bool, exporter: Any
) -> dict[str, Any]:
    replacement = Canned() if canned else None
    return run_section(
        runner,
        title,
        [Case(*case, replacement) for case in CASES],
        set_instrumented,
        unit,
        transport="canned create()" if canned else f"{HTTPX_NAME}.MockTransport",
        exporter=exporter,
        canned=replacement,
        rounds=args.rounds,
        block_ms=args.block_ms / 6 if canned else args.block_ms,
        warmup_s=args.warmup_s,
        calls_of=CALLS_OF,
    )


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0])
    info = machine(
        {"anthropic": anthropic.__version__, "http_library": f"{HTTPX_NAME} {version(HTTPX_NAME)}"},
        ("llmtap", "llmtap-anthropic", "wrapt"),
    )
    print_intro(
        info,
        f"llmtap {info['llmtap']} / anthropic {info['anthropic']} / {info['http_library']}",
        args,
        "Events per stream = text deltas + 5\n(message_start, content_block_start; "
        "content_block_stop, message_delta, message_stop; the SDK drops the ping); the "
        "per-event\nfigures divide by "
        "those. The stream() helper's own-cost baseline includes the helper's own work.",
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
                "llmtap's own cost (canned create() and _post: no HTTP, no parsing), "
                "no-op exporter",
                True,
                NoopExporter(),
            ),
        ]

    results, elapsed = run_sections(args, sections)
    finish("anthropic_overhead", info, args, results, elapsed, "15 events")


if __name__ == "__main__":
    main()
