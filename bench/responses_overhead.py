"""Per-call and per-event overhead of `llmtap.instrument_openai()` on the Responses API.

llmtap's own caller-path cost, measured like the "canned create()" section of
`openai_overhead.py`: `Responses.create` / `AsyncResponses.create` are replaced (before
instrumenting, so llmtap wraps the replacement exactly as it wraps the SDK) by functions
that return a pre-parsed `Response`, or a stream of pre-parsed SDK event objects built
with `openai._models.construct_type` as the SDK builds them. The baseline is then about
a microsecond, so the difference is llmtap alone. Rounds interleave an uninstrumented and
an instrumented block; each side's figure is the median over rounds, gc enabled.

    python bench/responses_overhead.py            # about 30 s on 2 cores
    python bench/responses_overhead.py --quick    # a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
from openai._models import construct_type
from openai.resources.responses import AsyncResponses, Responses
from openai.types.responses import Response, ResponseStreamEvent

import llmtap

TARGET_CALL_US = 20.0
TARGET_EVENT_US = 0.5
RESULTS = Path(__file__).with_name("results") / "responses_overhead.json"
RESPONSE_ID = "resp_bench0000000000000000000000000000000000000000000000"
ITEM_ID = "msg_bench0000000000000000000000000000000000000000000000"


class NullExporter:
    def export(self, records: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass


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


class CannedStream:
    """Stands in for `openai.Stream`: iterates pre-parsed events, closes, `with`."""

    def __init__(self, events: list[Any]) -> None:
        self._events = events

    def __iter__(self) -> Iterator[Any]:
        yield from self._events

    async def _aiter(self) -> Any:
        for event in self._events:
            yield event

    def __aiter__(self) -> Any:
        return self._aiter()

    def close(self) -> None:
        pass


CASES: list[tuple[str, bool, int]] = [
    ("sync non-stream", False, 0),
    ("async non-stream", True, 0),
    ("sync stream 200", False, 200),
    ("async stream 200", True, 200),
    ("sync stream 10", False, 10),
]
REQUEST = {"model": "gpt-4.1-nano", "input": "Tell me a three sentence bedtime story."}


def _install_canned(events: dict[int, list[Any]], response: Any) -> Callable[[], None]:
    originals = (Responses.__dict__["create"], AsyncResponses.__dict__["create"])

    def create(self: Any, **kwargs: Any) -> Any:
        return CannedStream(events[kwargs["_deltas"]]) if kwargs.get("stream") else response

    async def acreate(self: Any, **kwargs: Any) -> Any:
        return create(self, **kwargs)

    Responses.create = create  # type: ignore[method-assign]
    AsyncResponses.create = acreate  # type: ignore[method-assign]

    def restore() -> None:
        Responses.create, AsyncResponses.create = originals  # type: ignore[method-assign]

    return restore


def _block(case: tuple[str, bool, int], calls: int) -> float:
    """Mean µs per call over `calls` calls (stream read to the end)."""
    _, is_async, deltas = case
    client = openai.OpenAI(api_key="sk-bench")
    aclient = openai.AsyncOpenAI(api_key="sk-bench")
    extra = {"stream": True, "_deltas": deltas} if deltas else {}
    if not is_async:
        start = time.perf_counter_ns()
        for _ in range(calls):
            result = client.responses.create(**REQUEST, **extra)
            if deltas:
                for _event in result:
                    pass
        return (time.perf_counter_ns() - start) / calls / 1000

    async def run() -> float:
        start = time.perf_counter_ns()
        for _ in range(calls):
            result = await aclient.responses.create(**REQUEST, **extra)
            if deltas:
                async for _event in result:
                    pass
        return (time.perf_counter_ns() - start) / calls / 1000

    return asyncio.run(run())


def measure(case: tuple[str, bool, int], rounds: int, calls: int) -> dict[str, float]:
    base, instr = [], []
    for number in range(rounds):
        for instrumented in (False, True) if number % 2 == 0 else (True, False):
            if instrumented:
                llmtap.instrument_openai()
            try:
                (instr if instrumented else base).append(_block(case, calls))
            finally:
                if instrumented:
                    llmtap.uninstrument_openai()
                    llmtap.flush()
    return {"baseline_us": statistics.median(base), "instrumented_us": statistics.median(instr)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds of small blocks")
    args = parser.parse_args()
    rounds, calls = (3, 50) if args.quick else (21, 300)
    llmtap.configure(exporters=[NullExporter()], flush_interval_s=3600.0, queue_size=1_000_000)
    events = {n: stream_events(n) for n in (200, 10)}
    response = construct_type(type_=Response, value=_response("completed", "tok" * 200, True))
    restore = _install_canned(events, response)
    try:
        for case in CASES:  # warm-up
            measure(case, 1, 5)
        results = {case[0]: measure(case, rounds, calls) for case in CASES}
    finally:
        restore()
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
