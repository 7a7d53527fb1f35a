"""Per-call and per-event overhead of `llmtap.instrument_openai()` on the Responses API.

llmtap's own caller-path cost, measured like the "canned create()" section of
`openai_overhead.py`: `Responses.create` / `AsyncResponses.create` are replaced (before
instrumenting, so llmtap wraps the replacement exactly as it wraps the SDK) by functions
that return a pre-parsed `Response`, or a stream of pre-parsed SDK event objects built
with `openai._models.construct_type` as the SDK builds them. The baseline is then about
a microsecond, so the difference is llmtap alone. Rounds interleave an uninstrumented and
an instrumented block (timed by `harness.py`, as the other overhead scripts are); each
side's figure is the median over rounds, gc enabled.

    python bench/responses_overhead.py            # about 30 s on 2 cores
    python bench/responses_overhead.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
from openai._models import construct_type
from openai.resources.responses import AsyncResponses, Responses
from openai.types.responses import Response, ResponseStreamEvent

import llmtap
from harness import (
    CLOCKS,
    TARGET_CALL_US,
    AsyncFakeStream,
    FakeStream,
    NoopExporter,
    Runner,
    acount,
    count,
    measure_case,
)

TARGET_EVENT_US = 0.5
RESULTS = Path(__file__).with_name("results") / "responses_overhead.json"
RESPONSE_ID = "resp_bench0000000000000000000000000000000000000000000000"
ITEM_ID = "msg_bench0000000000000000000000000000000000000000000000"


def _response(status: str, text: str, usage: bool) -> dict[str, Any]:
    output = []
    if text:
        output = [
            {
                "id": ITEM_ID,
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "text": text}],
            }
        ]
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1774963703,
        "status": status,
        "model": "gpt-4.1-nano-2025-04-14",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 24,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 200,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 224,
        }
        if usage
        else None,
    }


def stream_events(deltas: int) -> list[Any]:
    """The event sequence of a real Responses stream with `deltas` text deltas."""
    text = "tok" * deltas
    raw: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response("in_progress", "", False)},
        {"type": "response.in_progress", "response": _response("in_progress", "", False)},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {
                "id": ITEM_ID,
                "type": "message",
                "status": "in_progress",
                "content": [],
                "role": "assistant",
            },
        },
        {
            "type": "response.content_part.added",
            "item_id": ITEM_ID,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "annotations": [], "text": ""},
        },
        *(
            {
                "type": "response.output_text.delta",
                "item_id": ITEM_ID,
                "output_index": 0,
                "content_index": 0,
                "delta": "tok",
                "logprobs": [],
            }
            for _ in range(deltas)
        ),
        {
            "type": "response.output_text.done",
            "item_id": ITEM_ID,
            "output_index": 0,
            "content_index": 0,
            "text": text,
        },
        {
            "type": "response.content_part.done",
            "item_id": ITEM_ID,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "annotations": [], "text": text},
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": _response("completed", text, True)["output"][0],
        },
        {"type": "response.completed", "response": _response("completed", text, True)},
    ]
    events = []
    for number, event in enumerate(raw):
        event["sequence_number"] = number
        events.append(construct_type(type_=ResponseStreamEvent, value=event))
    return events


CASES: list[tuple[str, bool, int]] = [
    ("sync non-stream", False, 0),
    ("async non-stream", True, 0),
    ("sync stream 200", False, 200),
    ("async stream 200", True, 200),
    ("sync stream 10", False, 10),
]
REQUEST = {"model": "gpt-4.1-nano", "input": "Tell me a three sentence bedtime story."}


class Case:
    """One `responses.create` call; streams are read to the end."""

    api = "responses"

    def __init__(self, name: str, is_async: bool, deltas: int, events: list[Any]) -> None:
        self.name = name
        self.is_async = is_async
        self.content_chunks = deltas
        self.stream = deltas > 0
        self.chunks = self.seen = len(events) if deltas else 0
        self.kwargs: dict[str, Any] = dict(REQUEST)
        if deltas:
            self.kwargs.update(stream=True, _deltas=deltas)
        self.client = openai.OpenAI(api_key="sk-bench")
        self.aclient = openai.AsyncOpenAI(api_key="sk-bench")

    def sync_call(self) -> int:
        result = self.client.responses.create(**self.kwargs)
        return count(result) if self.stream else 0

    async def async_call(self) -> int:
        result = await self.aclient.responses.create(**self.kwargs)
        return await acount(result) if self.stream else 0


def _install_canned(events: dict[int, list[Any]], response: Any) -> Callable[[], None]:
    originals = (Responses.__dict__["create"], AsyncResponses.__dict__["create"])

    def create(self: Any, **kwargs: Any) -> Any:
        return FakeStream(events[kwargs["_deltas"]]) if kwargs.get("stream") else response

    async def acreate(self: Any, **kwargs: Any) -> Any:
        if kwargs.get("stream"):
            return AsyncFakeStream(events[kwargs["_deltas"]])
        return response

    Responses.create = create  # type: ignore[method-assign]
    AsyncResponses.create = acreate  # type: ignore[method-assign]

    def restore() -> None:
        Responses.create, AsyncResponses.create = originals  # type: ignore[method-assign]

    return restore


def set_instrumented(on: bool) -> None:
    if on:
        llmtap.instrument_openai()
    else:
        llmtap.uninstrument_openai()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of small blocks")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="block timer")
    args = parser.parse_args()
    rounds, block_ms, warmup_s = (3, 2.0, 0.1) if args.quick else (21, 10.0, 0.4)
    llmtap.configure(
        exporters=[NoopExporter()],
        flush_interval_s=3600.0,
        batch_size=1_000_000,
        queue_size=1_000_000,
    )
    events = {n: stream_events(n) for n in (200, 10)}
    response = construct_type(type_=Response, value=_response("completed", "tok" * 200, True))
    restore = _install_canned(events, response)
    runner = Runner(disable_gc=False, clock=args.clock)
    try:
        results = {}
        for name, is_async, deltas in CASES:
            case = Case(name, is_async, deltas, events.get(deltas, []))
            measured = measure_case(runner, case, set_instrumented, rounds, block_ms, warmup_s)
            results[name] = {k: measured[k] for k in ("baseline_us", "instrumented_us")}
    finally:
        restore()
        runner.close()
    python = sys.version.split()[0]
    print(f"llmtap Responses API overhead: openai {openai.__version__}, Python {python}")
    print(f"{'case':18} {'base µs':>9} {'instr µs':>9} {'ovh µs':>8}")
    for name, figures in results.items():
        figures["overhead_us"] = figures["instrumented_us"] - figures["baseline_us"]
        print(
            f"{name:18} {figures['baseline_us']:9.1f} {figures['instrumented_us']:9.1f}"
            f" {figures['overhead_us']:8.1f}"
        )
    events_200 = len(events[200])
    per_event = {
        "sync": (
            results["sync stream 200"]["overhead_us"] - results["sync non-stream"]["overhead_us"]
        )
        / events_200,
        "async": (
            results["async stream 200"]["overhead_us"] - results["async non-stream"]["overhead_us"]
        )
        / events_200,
        "slope": (
            results["sync stream 200"]["overhead_us"] - results["sync stream 10"]["overhead_us"]
        )
        / 190,
    }
    checks = [
        (
            "sync non-stream: overhead per call",
            results["sync non-stream"]["overhead_us"],
            TARGET_CALL_US,
        ),
        (
            "async non-stream: overhead per call",
            results["async non-stream"]["overhead_us"],
            TARGET_CALL_US,
        ),
        ("sync stream: per event, net", per_event["sync"], TARGET_EVENT_US),
        ("async stream: per event, net", per_event["async"], TARGET_EVENT_US),
        ("sync stream: per event, slope 200 vs 10", per_event["slope"], TARGET_EVENT_US),
    ]
    for label, value, target in checks:
        verdict = "PASS" if value <= target else "FAIL"
        print(f"  {verdict}  {label:42} {value:8.3f} µs (target ≤ {target} µs)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"cases": results, "per_event_us": per_event}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
