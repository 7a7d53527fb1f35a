"""One round for one contestant, inside the contestant's venv: `python worker.py NAME OUT`.

For every case it times blocks of calls uninstrumented (baseline) and instrumented in
this same process, and writes per-block µs per call to OUT as JSON. `--mode e2e` runs
the SDK over the mock transport; `--mode stub` first replaces the SDK's request layer
with canned parsed objects (stub.py), before the contestant is set up. Where the contestant
can be turned off, baseline and instrumented blocks alternate (the order flipping every
pair); where it cannot, every baseline block is measured before it is turned on. The
exporters are drained, the processors flushed and garbage collected before each block,
outside the timed region; work a tracer does in its own threads during a block counts.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import traffic
from contestants import CONTESTANTS, SDKS, Tracer
from stub import Stub

CHUNKS = (0, 10, 200)
Case = tuple[str, bool, int]  # provider, async, content chunks (0: not a stream)
MakeClient = Callable[[str, int, bool], Any]  # (provider, chunks, async) -> a bare client


def case_name(provider: str, is_async: bool, chunks: int) -> str:
    kind = f"stream{chunks}" if chunks else "nonstream"
    return f"{provider} {'async' if is_async else 'sync'} {kind}"


def sync_call(client: Any, provider: str, chunks: int) -> int:
    """One call; returns the chunks (stream events) the caller saw."""
    if provider == "openai":
        create = client.chat.completions.create
        if not chunks:
            create(**traffic.OPENAI_REQUEST)
            return 0
        stream = create(**traffic.OPENAI_REQUEST, stream=True, **traffic.OPENAI_STREAM_OPTIONS)
    else:
        if not chunks:
            client.messages.create(**traffic.ANTHROPIC_REQUEST)
            return 0
        stream = client.messages.create(**traffic.ANTHROPIC_REQUEST, stream=True)
    seen = 0
    for _ in stream:
        seen += 1
    return seen


async def async_call(client: Any, provider: str, chunks: int) -> int:
    if provider == "openai":
        create = client.chat.completions.create
        if not chunks:
            await create(**traffic.OPENAI_REQUEST)
            return 0
        stream = await create(
            **traffic.OPENAI_REQUEST, stream=True, **traffic.OPENAI_STREAM_OPTIONS
        )
    else:
        if not chunks:
            await client.messages.create(**traffic.ANTHROPIC_REQUEST)
            return 0
        stream = await client.messages.create(**traffic.ANTHROPIC_REQUEST, stream=True)
    seen = 0
    async for _ in stream:
        seen += 1
    return seen


class Side:
    """One side of a case: a client and a way to time `n` calls on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: Any, case: Case) -> None:
        self.loop, self.client, self.case = loop, client, case

    def call(self) -> int:
        provider, is_async, chunks = self.case
        if is_async:
            return self.loop.run_until_complete(async_call(self.client, provider, chunks))
        return sync_call(self.client, provider, chunks)

    def block(self, n: int) -> tuple[float, float]:
        """µs per call over `n` calls, timed with perf_counter_ns (async: inside the loop),
        and µs of CPU per call spent in other threads meanwhile (process CPU time minus
        this thread's)."""
        provider, is_async, chunks = self.case
        cpu, mine = time.process_time_ns(), time.thread_time_ns()
        if is_async:

            async def run() -> int:
                start = time.perf_counter_ns()
                for _ in range(n):
                    await async_call(self.client, provider, chunks)
                return time.perf_counter_ns() - start

            elapsed = self.loop.run_until_complete(run())
        else:
            start = time.perf_counter_ns()
            for _ in range(n):
                sync_call(self.client, provider, chunks)
            elapsed = time.perf_counter_ns() - start
        others = (time.process_time_ns() - cpu) - (time.thread_time_ns() - mine)
        return elapsed / n / 1e3, others / n / 1e3


class Worker:
    def __init__(
        self, tracer: Tracer, providers: tuple[str, ...], args: Any, make_client: MakeClient
    ) -> None:
        self.tracer, self.providers, self.args = tracer, providers, args
        self.make_client = make_client
        self.loop = asyncio.new_event_loop()
        self.on: str | None = None

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    def cases(self) -> list[Case]:
        return [(p, a, n) for p in self.providers for a in (False, True) for n in CHUNKS]

    def sides(self, case: Case) -> tuple[Side, Side]:
        provider, is_async, chunks = case
        bare = self.make_client(provider, chunks, is_async)
        wrapped = self.tracer.wrap(provider, self.make_client(provider, chunks, is_async))
        return Side(self.loop, bare, case), Side(self.loop, wrapped, case)

    def switch(self, provider: str | None) -> None:
        """Instrument `provider` only (None: nothing), where the contestant can toggle."""
        if self.tracer.disable is None or provider == self.on:
            return
        if self.on is not None:
            self.tracer.disable(self.on)
        if provider is not None:
            self.tracer.enable(provider)
        self.on = provider

    def timed(self, side: Side, n: int, provider: str | None) -> tuple[float, float]:
        """A block's wall µs per call, and its off-path CPU µs per call: other threads'
        CPU during the block plus the CPU of the flush after it (deferred export work a
        tracer's worker would otherwise do after the block)."""
        self.switch(provider)
        self.tracer.drain()
        gc.collect()
        wall, others = side.block(n)
        cpu = time.process_time_ns()
        self.tracer.drain()
        return wall, others + (time.process_time_ns() - cpu) / n / 1e3

    def calls_per_block(self, side: Side) -> int:
        """Warm the baseline up and size blocks to about --block-ms of baseline time."""
        deadline = time.perf_counter() + self.args.warmup_s
        calls, start = 0, time.perf_counter()
        while calls < 3 or time.perf_counter() < deadline:
            side.call()
            calls += 1
        per_call = (time.perf_counter() - start) / calls
        return max(1, round(float(self.args.block_ms) / 1e3 / per_call))

    def warm_instrumented(self, side: Side, case: Case, expected: int) -> None:
        for _ in range(3):
            seen = side.call()
            if seen != expected:
                raise RuntimeError(
                    f"{case_name(*case)}: instrumented saw {seen} chunks, not {expected}"
                )

    def interleaved(self) -> dict[str, Any]:
        results = {}
        for case in self.cases():
            try:
                results[case_name(*case)] = self.interleaved_case(case)
            except Exception as error:  # a peer that breaks on one case still runs the rest
                self.switch(None)
                results[case_name(*case)] = {"error": f"{type(error).__name__}: {error}"}
        return results

    def interleaved_case(self, case: Case) -> dict[str, Any]:
        base, instr = self.sides(case)
        self.switch(None)
        n = self.calls_per_block(base)
        expected = base.call()
        self.switch(case[0])
        self.warm_instrumented(instr, case, expected)
        base_blocks, instr_blocks = [], []
        for pair in range(self.args.pairs):
            order = ("base", "instr") if pair % 2 == 0 else ("instr", "base")
            for which in order:
                if which == "base":
                    base_blocks.append(self.timed(base, n, None))
                else:
                    instr_blocks.append(self.timed(instr, n, case[0]))
        return self.case_result(n, expected, base_blocks, instr_blocks)

    def baseline_first(self) -> dict[str, Any]:
        sides, sizes, base_blocks = {}, {}, {}
        for case in self.cases():
            sides[case] = self.sides(case)
            sizes[case] = n = self.calls_per_block(sides[case][0])
            base_blocks[case] = [
                self.timed(sides[case][0], n, None) for _ in range(self.args.pairs)
            ]
        for provider in self.providers:
            self.tracer.enable(provider)
        results = {}
        for case in self.cases():
            base, instr = sides[case]
            expected = base.call()
            try:
                self.warm_instrumented(instr, case, expected)
                instr_blocks = [
                    self.timed(instr, sizes[case], None) for _ in range(self.args.pairs)
                ]
            except Exception as error:
                results[case_name(*case)] = {"error": f"{type(error).__name__}: {error}"}
                continue
            results[case_name(*case)] = self.case_result(
                sizes[case], expected, base_blocks[case], instr_blocks
            )
        return results

    @staticmethod
    def case_result(
        n: int, chunks: int, base: list[tuple[float, float]], instr: list[tuple[float, float]]
    ) -> dict[str, Any]:
        """Per block: wall µs per call, and other threads' CPU µs per call."""
        return {
            "calls_per_block": n,
            "chunks_seen": chunks,
            "base_us": [wall for wall, _ in base],
            "instr_us": [wall for wall, _ in instr],
            "base_bg_cpu_us": [cpu for _, cpu in base],
            "instr_bg_cpu_us": [cpu for _, cpu in instr],
        }

    def capture(self) -> dict[str, dict[str, bool]]:
        """Whether the exact canned token counts appear in what the tracer exported, for
        one sync non-stream call and one sync 10-chunk stream per provider."""
        found: dict[str, dict[str, bool]] = {}
        for provider in self.providers:
            found[provider] = {}
            for kind, chunks in (("nonstream", 0), ("stream", 10)):
                _, instr = self.sides((provider, False, chunks))
                self.switch(provider)
                self.tracer.drain()
                try:
                    instr.call()
                except Exception:  # reported with the timing case that failed
                    found[provider][kind] = False
                    continue
                found[provider][kind] = has_usage(self.tracer.exported(), provider)
        self.switch(None)
        return found


def has_usage(text: str, provider: str) -> bool:
    """Both counts present as whole numbers. Anthropic input may be reported raw (1187)
    or with the cache read added (2211), as llmtap and the OTel conventions do."""

    def present(number: int) -> bool:
        return re.search(rf"(?<![\d.]){number}(?![\d.])", text) is not None

    inputs = [traffic.INPUT_TOKENS]
    if provider == "anthropic":
        inputs.append(traffic.INPUT_TOKENS + traffic.CACHED_TOKENS)
    return present(traffic.OUTPUT_TOKENS) and any(present(n) for n in inputs)


def versions(distributions: Sequence[str]) -> dict[str, str]:
    found = {}
    for name in (*SDKS, *distributions):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def start_sink(log: Path) -> tuple[subprocess.Popen[str], str]:
    sink = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("sink.py")), str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None
    port = sink.stdout.readline().strip()
    return sink, f"http://127.0.0.1:{port}"


def sink_requests(log: Path) -> list[str]:
    if not log.exists():
        return []
    lines = log.read_bytes().split(b"\n")
    return [
        line.decode().rsplit(" ", 1)[0]
        for line in lines
        if re.match(rb"^(GET|POST|PATCH|PUT) /\S* \d+$", line)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("contestant", choices=sorted(CONTESTANTS))
    parser.add_argument("out", type=Path)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--block-ms", type=float, default=30.0)
    parser.add_argument("--warmup-s", type=float, default=0.2)
    parser.add_argument("--mode", choices=("e2e", "stub"), default="e2e")
    args = parser.parse_args()

    spec = CONTESTANTS[args.contestant]
    scratch = tempfile.TemporaryDirectory(prefix="peers-sink-")
    sink_log = Path(scratch.name) / "requests.log"
    os.environ["PEERS_SINK_LOG"] = str(sink_log)
    sink, sink_url = start_sink(sink_log)
    result: dict[str, Any] = {
        "contestant": args.contestant,
        "mode": args.mode,
        "versions": versions(spec.distributions),
    }
    tracer: Tracer | None = None
    try:
        make_client: MakeClient = traffic.client
        if args.mode == "stub":  # before the contestant imports or patches anything
            make_client = Stub(spec.providers, CHUNKS).client
        tracer = spec.setup(sink_url)
        result["method"] = tracer.method
        result["interleaved"] = tracer.disable is not None
        worker = Worker(tracer, spec.providers, args, make_client)
        # Everything imported so far is long-lived: keep it out of the collections that
        # run before each block (they would cost tens of ms each) and inside them.
        gc.freeze()
        started = time.perf_counter()
        cpu = time.process_time()
        result["cases"] = worker.interleaved() if tracer.disable else worker.baseline_first()
        result["elapsed_s"] = time.perf_counter() - started
        result["cpu_s"] = time.process_time() - cpu
        result["capture"] = worker.capture()
        worker.close()
    except Exception:
        result["error"] = traceback.format_exc()
    finally:
        if tracer is not None:
            tracer.drain()  # uploads in flight land before the sink stops
        time.sleep(0.2)  # let a last upload land before counting
        result["sink_requests"] = sink_requests(sink_log)
        sink.terminate()
        sink.wait()
        scratch.cleanup()
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
