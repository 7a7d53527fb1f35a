"""Per-call and per-chunk overhead of `llmtap.instrument_openai()` on the OpenAI SDK.

Chat completions and the Responses API, each non-stream and streaming, sync and async.
Runs in one process against an in-process mock transport (no network, no sockets):
`httpx2.MockTransport` for openai >= 3, `httpx.MockTransport` for openai 1.x and 2.x.
For every case, 30 interleaved rounds each time one block of calls uninstrumented and
one block instrumented (toggled with instrument/uninstrument between blocks, the order
alternating per round); the per-call time of a block is its wall time over its calls,
and each side's figure is the median over rounds. The background worker is kept out of
the timed blocks (flush interval of an hour; `llmtap.flush()` runs between blocks and
is timed separately as the off-path "worker" cost).

    python bench/openai_overhead.py            # full run, about 2 minutes on 2 cores
    python bench/openai_overhead.py --quick    # smoke run, about 15 seconds

Results: a table per exporter configuration, and bench/results/openai_overhead.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import openai

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

OPENAI_MAJOR = int(openai.__version__.split(".")[0])
HTTPX_NAME = "httpx2" if OPENAI_MAJOR >= 3 else "httpx"
httpx = importlib.import_module(HTTPX_NAME)

MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
FINGERPRINT = "fp_06737a9306"

REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": MESSAGES,
    "temperature": 0.2,
    "max_tokens": 512,
}
USAGE = {
    "prompt_tokens": 412,
    "completion_tokens": 128,
    "total_tokens": 540,
    "prompt_tokens_details": {"cached_tokens": 256, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion",
            "created": 1741569952,
            "model": RESPONSE_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": ANSWER,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }
    ).encode()


def stream_body(content_chunks: int) -> bytes:
    """`content_chunks` content chunks, a finish chunk, a usage chunk, then [DONE]."""
    words = ANSWER.split(" ")

    def chunk(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        data = {
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
            "object": "chat.completion.chunk",
            "created": 1741569952,
            "model": RESPONSE_MODEL,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
            "choices": choices,
            "usage": usage,
        }
        return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

    events = []
    for i in range(content_chunks):
        delta: dict[str, Any] = {"content": words[i % len(words)] + " "}
        if i == 0:
            delta = {"role": "assistant", "content": "", "refusal": None}
        events.append(
            chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
        )
    events.append(chunk([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    events.append(chunk([], USAGE))
    events.append(b"data: [DONE]\n\n")
    return b"".join(events)


# The same conversation through the Responses API: the system prompt as `instructions`,
# the turns as input items.
RESPONSES_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "instructions": MESSAGES[0]["content"],
    "input": MESSAGES[1:],
    "temperature": 0.2,
    "max_output_tokens": 512,
}
RESPONSE_ID = "resp_0a5e72c4d8eb43c50069cbcbf7fa78819b82d7e42163ef3bd0"
ITEM_ID = "msg_0a5e72c4d8eb43c50069cbcbf837b4819bbcf7a94eaadabb54"
RESPONSES_USAGE = {
    "input_tokens": 412,
    "input_tokens_details": {"cached_tokens": 256},
    "output_tokens": 128,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 540,
}
# Events of a Responses stream around its text deltas: created, in_progress,
# output_item.added and content_part.added before; output_text.done,
# content_part.done, output_item.done and completed after.
RESPONSES_EXTRA_EVENTS = 8


def response_json(text: str | None) -> dict[str, Any]:
    """A Response as api.openai.com sends it (as in the recorded cassettes); `text=None`
    is the in-progress snapshot that `response.created` and `response.in_progress` carry."""
    done = text is not None
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1774963703,
        "status": "completed" if done else "in_progress",
        "background": False,
        "completed_at": 1774963705 if done else None,
        "error": None,
        "frequency_penalty": 0.0,
        "incomplete_details": None,
        "instructions": RESPONSES_REQUEST["instructions"],
        "max_output_tokens": 512,
        "max_tool_calls": None,
        "model": RESPONSE_MODEL,
        "output": [output_message(text, "completed")] if done else [],
        "parallel_tool_calls": True,
        "presence_penalty": 0.0,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default" if done else "auto",
        "store": True,
        "temperature": 0.2,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": RESPONSES_USAGE if done else None,
        "user": None,
        "metadata": {},
    }


def output_message(text: str | None, status: str) -> dict[str, Any]:
    content = [] if text is None else [output_text_part(text)]
    return {
        "id": ITEM_ID,
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def responses_body() -> bytes:
    return json.dumps(response_json(ANSWER)).encode()


def responses_stream_body(deltas: int) -> bytes:
    """A Responses SSE stream: `deltas` output_text.delta events and the events around
    them, each as `event: <type>` and `data: {...}` lines, as api.openai.com sends it."""
    words = ANSWER.split(" ")
    pieces = [(" " if i else "") + words[i % len(words)] for i in range(deltas)]
    text = "".join(pieces)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_json(None)},
        {"type": "response.in_progress", "response": response_json(None)},
        {
            "type": "response.output_item.added",
            "item": output_message(None, "in_progress"),
            "output_index": 0,
        },
        {
            "type": "response.content_part.added",
            "content_index": 0,
            "item_id": ITEM_ID,
            "output_index": 0,
            "part": output_text_part(""),
        },
    ]
    for piece in pieces:
        events.append(
            {
                "type": "response.output_text.delta",
                "content_index": 0,
                "delta": piece,
                "item_id": ITEM_ID,
                "logprobs": [],
                # The server pads each delta's event to hide its length.
                "obfuscation": "ecfPPAhPeN4ZJTprQvGP7wW"[: max(2, 16 - len(piece))],
                "output_index": 0,
            }
        )
    events += [
        {
            "type": "response.output_text.done",
            "content_index": 0,
            "item_id": ITEM_ID,
            "logprobs": [],
            "output_index": 0,
            "text": text,
        },
        {
            "type": "response.content_part.done",
            "content_index": 0,
            "item_id": ITEM_ID,
            "output_index": 0,
            "part": output_text_part(text),
        },
        {
            "type": "response.output_item.done",
            "item": output_message(text, "completed"),
            "output_index": 0,
        },
        {"type": "response.completed", "response": response_json(text)},
    ]
    out = []
    for sequence_number, event in enumerate(events):
        event["sequence_number"] = sequence_number
        data = json.dumps(event, separators=(",", ":"))
        out.append(f"event: {event['type']}\ndata: {data}\n\n".encode())
    return b"".join(out)


def mock_transport(body: bytes, content_type: str) -> Any:
    headers = {
        "content-type": content_type,
        "x-request-id": "req_6f1c0b7e2d9a4c8b",
        "openai-processing-ms": "412",
        "openai-version": "2020-10-01",
    }

    def handler(request: Any) -> Any:
        return httpx.Response(200, headers=headers, content=body)

    return httpx.MockTransport(handler)


def make_client(body: bytes, content_type: str, is_async: bool) -> Any:
    transport = mock_transport(body, content_type)
    if is_async:
        return openai.AsyncOpenAI(
            api_key="sk-bench",
            base_url="https://api.openai.com/v1",
            http_client=httpx.AsyncClient(transport=transport),
            max_retries=0,
        )
    return openai.OpenAI(
        api_key="sk-bench",
        base_url="https://api.openai.com/v1",
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )


# -- cases ---------------------------------------------------------------------------


def parse(model: Any, data: dict[str, Any]) -> Any:
    validate = getattr(model, "model_validate", None) or model.parse_obj  # pydantic 2 or 1
    return validate(data)


class CannedCreate:
    """Puts canned-result functions in place of `[Async]Completions.create` and
    `[Async]Responses.create`.

    Installed before `instrument_openai()`, so llmtap wraps them exactly as it wraps the
    SDK's own methods (and `uninstrument_openai()` puts them back); `restore()` then puts
    the SDK's methods back. Baseline calls cost a function call, so the difference is
    llmtap's own caller-path cost, free of the SDK's HTTP, parsing and noise.

    Chat objects are validated models; Responses objects are built with the SDK's own
    `construct_type` from the same JSON the mock transport serves, so both are the
    objects the SDK would return or yield.
    """

    def __init__(self) -> None:
        from openai._models import construct_type
        from openai.resources import responses
        from openai.resources.chat import completions
        from openai.types.chat import ChatCompletion, ChatCompletionChunk
        from openai.types.responses import Response, ResponseStreamEvent

        llmtap.uninstrument_openai()
        self.classes = (
            completions.Completions,
            completions.AsyncCompletions,
            responses.Responses,
            responses.AsyncResponses,
        )
        self.originals = [cls.__dict__["create"] for cls in self.classes]
        chat_response = parse(ChatCompletion, json.loads(completion_body()))
        responses_response = construct_type(type_=Response, value=json.loads(responses_body()))
        chat_chunks: dict[int, list[Any]] = {}
        events: dict[int, list[Any]] = {}
        for api, _, _, n in CASES:
            if n and api == "chat":
                chat_chunks[n] = [parse(ChatCompletionChunk, d) for d in sse_data(stream_body(n))]
            elif n:
                events[n] = [
                    construct_type(type_=ResponseStreamEvent, value=d)
                    for d in sse_data(responses_stream_body(n))
                ]

        def canned(response: Any, chunks: dict[int, list[Any]]) -> tuple[Any, Any]:
            def create(resource: Any, **kwargs: Any) -> Any:
                n = kwargs.get("content_chunks_for_bench")
                return response if n is None else FakeStream(chunks[n])

            async def acreate(resource: Any, **kwargs: Any) -> Any:
                n = kwargs.get("content_chunks_for_bench")
                return response if n is None else AsyncFakeStream(chunks[n])

            return create, acreate

        self.replacements = (
            *canned(chat_response, chat_chunks),
            *canned(responses_response, events),
        )

    def install(self) -> None:
        llmtap.uninstrument_openai()
        for cls, replacement in zip(self.classes, self.replacements, strict=True):
            cls.create = replacement

    def restore(self) -> None:
        llmtap.uninstrument_openai()
        for cls, original in zip(self.classes, self.originals, strict=True):
            cls.create = original


class Case:
    def __init__(
        self, api: str, name: str, is_async: bool, content_chunks: int, canned: bool
    ) -> None:
        self.api = api
        self.name = f"{api} {name}"
        self.is_async = is_async
        self.content_chunks = content_chunks
        self.stream = content_chunks > 0
        chat = api == "chat"
        # What the caller iterates. Chat: content chunks, the finish chunk, the usage
        # chunk. Responses: the text deltas and the events around them.
        extra = 2 if chat else RESPONSES_EXTRA_EVENTS
        self.chunks = self.seen = content_chunks + extra if self.stream else 0
        if self.stream:
            body = stream_body(content_chunks) if chat else responses_stream_body(content_chunks)
            client = make_client(body, "text/event-stream; charset=utf-8", is_async)
        else:
            body = completion_body() if chat else responses_body()
            client = make_client(body, "application/json", is_async)
        self.client = client
        self.resource = client.chat.completions if chat else client.responses
        self.kwargs = dict(REQUEST if chat else RESPONSES_REQUEST)
        if self.stream:
            self.kwargs["stream"] = True
        if self.stream and chat:
            # Both sides ask for usage themselves: llmtap then injects nothing and hides
            # nothing, so the two sides send the same request and see the same chunks.
            # (Responses streams always carry usage.)
            self.kwargs["stream_options"] = {"include_usage": True}
        if canned and self.stream:
            self.kwargs["content_chunks_for_bench"] = content_chunks

    def sync_call(self) -> int:
        # `create` is looked up on every call: instrumenting patches the class.
        result = self.resource.create(**self.kwargs)
        return count(result) if self.stream else 0

    async def async_call(self) -> int:
        result = await self.resource.create(**self.kwargs)
        return await acount(result) if self.stream else 0


# (api, case, async, content chunks or text deltas per stream; 0 = not a stream)
CASES = [
    ("chat", "sync non-stream", False, 0),
    ("chat", "async non-stream", True, 0),
    ("chat", "sync stream 200", False, 200),
    ("chat", "async stream 200", True, 200),
    ("chat", "sync stream 10", False, 10),
    ("responses", "sync non-stream", False, 0),
    ("responses", "async non-stream", True, 0),
    ("responses", "sync stream 200", False, 200),
    ("responses", "async stream 200", True, 200),
    ("responses", "sync stream 10", False, 10),
]


def unit(api: str) -> str:
    return "chunk" if api == "chat" else "event"


def set_instrumented(on: bool) -> None:
    if on:
        llmtap.instrument_openai()
    else:
        llmtap.uninstrument_openai()


def section(
    runner: Runner, args: argparse.Namespace, title: str, canned: bool, exporter: Any
) -> dict[str, Any]:
    return run_section(
        runner,
        title,
        [Case(*case, canned) for case in CASES],
        set_instrumented,
        unit,
        transport="canned create()" if canned else f"{HTTPX_NAME}.MockTransport",
        exporter=exporter,
        canned=CannedCreate() if canned else None,
        rounds=args.rounds,
        # Canned calls are short: shorter blocks keep the section's length in line.
        block_ms=args.block_ms / 6 if canned else args.block_ms,
        warmup_s=args.warmup_s,
    )


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0])
    info = machine(
        {"openai": openai.__version__, "http_library": f"{HTTPX_NAME} {version(HTTPX_NAME)}"},
        ("llmtap", "llmtap-openai", "wrapt"),
    )
    print_intro(
        info,
        f"llmtap {info['llmtap']} / openai {info['openai']} / {info['http_library']}",
        args,
        "Chat streams ask for stream_options.include_usage\non both sides, so llmtap "
        "injects nothing and hides nothing; chunks per call = content chunks + finish + "
        "usage.\nResponses streams: events per call = text deltas + 8 (created, in_progress, "
        "output_item.added,\ncontent_part.added; output_text.done, content_part.done, "
        "output_item.done, completed).",
    )

    def sections(runner: Runner, tmp: Path) -> list[dict[str, Any]]:
        return [
            section(
                runner,
                args,
                f"End to end ({HTTPX_NAME}.MockTransport), no-op exporter",
                False,
                NoopExporter(),
            ),
            section(
                runner,
                args,
                f"End to end ({HTTPX_NAME}.MockTransport), SQLite exporter",
                False,
                SQLiteExporter(tmp / "llmtap.db"),
            ),
            # The SDK's create() dominates the end-to-end figures (and their noise); with
            # a canned create() under llmtap's wrappers the baseline is a function call,
            # so llmtap's own share is measured precisely. Same arguments, pre-parsed
            # chunks.
            section(
                runner,
                args,
                "llmtap's own cost (canned create(): no SDK work), no-op exporter",
                True,
                NoopExporter(),
            ),
        ]

    results, elapsed = run_sections(args, sections)
    finish(
        "openai_overhead",
        info,
        args,
        results,
        elapsed,
        "12 chat, 18 Responses",
        {"stream_options_include_usage_on_both_sides": True},
    )


if __name__ == "__main__":
    main()
