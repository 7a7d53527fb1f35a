"""`llmtap ui` on a large store: API response times over 1,000,000 records.

Builds (or reuses) a synthetic store with a realistic spread: 30 days of traffic, six
models over three providers, 60% single calls and 40% agent runs (an agent span, a tool
span and two to four generations), a fifth of traces in one of 50,000 threads, 5,000
users, a few tags, 2% errors and 1% cut-off streams, each generation with short GenAI
input and output messages. Records are written through `SQLiteExporter` in batches, as
the pipeline does, so the file has the real schema and indexes.

Then it serves the store with the UI's own server on a free loopback port and times each
API request over HTTP (median and worst of `--repeats`): the trace list's first page,
filtered pages, a deep page, a text search, one trace, one thread, the dashboard over 24
hours, 7 and 30 days, the filter facets and the live-update poll. The first request is
shown apart: the dashboard keeps whole past buckets between requests, so later ones only
scan what is new.

    python bench/ui_load.py                      # 1,000,000 records (about 2 minutes to build)
    python bench/ui_load.py -n 100000            # quicker
    python bench/ui_load.py --db /path/big.db    # reuse a store built before
    python bench/ui_load.py --chromium /usr/bin/chromium   # and page loads (needs playwright)

Results: a table, and bench/results/ui_load.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from llmtap import Record, Usage
from llmtap.exporters import SQLiteExporter
from llmtap.ids import new_span_id, new_trace_id
from llmtap.record import ErrorInfo
from llmtap.store import Store
from llmtap.ui.server import UIServer

RESULTS = Path(__file__).resolve().parent / "results" / "ui_load.json"
DAY = 86400.0

MODELS = [
    ("openai", "gpt-4o-mini", 0.35, 0.15, 0.60),
    ("openai", "gpt-4.1-nano", 0.20, 0.10, 0.40),
    ("anthropic", "claude-sonnet-4-5", 0.15, 3.00, 15.0),
    ("anthropic", "claude-haiku-4-5", 0.15, 1.00, 5.00),
    ("mistral_ai", "mistral-small-latest", 0.10, 0.10, 0.30),
    ("mistral_ai", "mistral-large-latest", 0.05, 2.00, 6.00),
]
TAGS = ["checkout", "support", "search", "eval", "batch"]
QUESTIONS = [
    "What is the refund policy for orders shipped abroad?",
    "Summarise this support ticket in two sentences.",
    "Translate the product description into French.",
    "Which of these invoices are overdue?",
    "Write a SQL query that lists the top customers by revenue.",
]


def _generation(
    rng: random.Random, trace_id: str, parent: str | None, start: float, context: dict[str, Any]
) -> Record:
    provider, model, _, price_in, price_out = rng.choices(MODELS, [m[2] for m in MODELS])[0]
    tin = rng.randint(50, 4000)
    tout = rng.randint(5, 800)
    cached = rng.choice([None, None, 0, tin // 2])
    stream = rng.random() < 0.5
    duration = 0.2 + tout * rng.uniform(0.004, 0.02)
    roll = rng.random()
    status = "error" if roll < 0.02 else "incomplete" if roll < 0.03 else "ok"
    question = rng.choice(QUESTIONS)
    answer = f"Here is the answer to {question.lower()} " + "Lorem ipsum dolor sit amet. " * 8
    record = Record(
        id=new_span_id(),
        trace_id=trace_id,
        parent_id=parent,
        name=f"{provider}.chat",
        operation="chat",
        provider=provider,
        integration=f"llmtap-{provider.split('_')[0]}",
        request_model=model,
        response_model=None if status == "error" else model,
        input=[
            {"role": "system", "parts": [{"type": "text", "content": "You are helpful."}]},
            {"role": "user", "parts": [{"type": "text", "content": question}]},
        ],
        output=None
        if status == "error"
        else [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": answer}],
                "finish_reason": "stop",
            }
        ],
        settings={"temperature": 0.2, "max_tokens": 1024},
        usage=Usage()
        if status == "error"
        else Usage(input_tokens=tin, output_tokens=tout, cached_input_tokens=cached),
        stream=stream,
        chunks=tout if stream else None,
        start_time=start,
        end_time=start + duration,
        duration_s=duration,
        time_to_first_token_s=rng.uniform(0.1, 0.6) if stream and status != "error" else None,
        cost_usd=None if status == "error" else (tin * price_in + tout * price_out) / 1e6,
        status=status,  # type: ignore[arg-type]
        error=ErrorInfo("RateLimitError", "Rate limit reached", 429) if status == "error" else None,
        **context,
    )
    return record


def _trace(rng: random.Random, start: float, threads: int, users: int) -> list[Record]:
    trace_id = new_trace_id()
    context: dict[str, Any] = {
        "thread_id": f"thread-{rng.randrange(threads)}" if rng.random() < 0.2 else None,
        "user_id": f"user-{rng.randrange(users)}",
        "tags": rng.sample(TAGS, rng.randint(0, 2)),
    }
    if rng.random() < 0.6:
        return [_generation(rng, trace_id, None, start, context)]
    agent = Record(
        id=new_span_id(), trace_id=trace_id, name="agent", kind="agent", start_time=start, **context
    )
    records = [agent]
    moment = start + 0.001
    for step in range(rng.randint(2, 4)):
        generation = _generation(rng, trace_id, agent.id, moment, context)
        records.append(generation)
        moment = (generation.end_time or moment) + 0.001
        if step == 0:
            tool = Record(
                id=new_span_id(),
                trace_id=trace_id,
                parent_id=agent.id,
                name="search_orders",
                kind="tool",
                start_time=moment,
                end_time=moment + 0.05,
                duration_s=0.05,
                **context,
            )
            records.append(tool)
            moment += 0.051
    agent.end_time = moment
    agent.duration_s = moment - start
    agent.status = "error" if any(r.status == "error" for r in records) else "ok"
    # A span ends after its children, so it is written last.
    return [*records[1:], agent]


def build(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    exporter = SQLiteExporter(path)
    now = time.time()
    # Traces average 2.6 records (0.6 x 1 + 0.4 x 5); spread them evenly over 30 days.
    traces = int(count / 2.6)
    step = 30 * DAY / traces
    batch: list[Record] = []
    written = 0
    began = time.perf_counter()
    moment = now - 30 * DAY
    while written + len(batch) < count:
        moment += rng.expovariate(1 / step)
        batch.extend(_trace(rng, min(moment, now - 1), threads=50_000, users=5_000))
        if len(batch) >= 5000:
            exporter.export(batch)
            written += len(batch)
            batch = []
            if written % 100_000 < 5000:
                rate = written / (time.perf_counter() - began)
                print(f"  {written:,} records written ({rate:,.0f}/s)", flush=True)
    if batch:
        exporter.export(batch)
    exporter.shutdown()


def _get(port: int, path: str) -> tuple[float, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    began = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - began
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status} {body[:200]!r}")
    return elapsed, json.loads(body)


def _cases(store: Store) -> dict[str, str]:
    """The requests timed, with ids and cursors picked from the store itself."""
    (agent_trace,) = store.query(
        "SELECT trace_id FROM records WHERE kind = 'agent' ORDER BY start_time DESC LIMIT 1"
    )[0]
    (thread_id,) = store.query(
        "SELECT thread_id FROM records WHERE thread_id IS NOT NULL ORDER BY start_time DESC LIMIT 1"
    )[0]
    first, last = store.query("SELECT min(start_time), max(start_time) FROM records")[0]
    deep = store.query(
        "SELECT start_time, rowid FROM records WHERE parent_id IS NULL AND start_time >= ? "
        "ORDER BY start_time LIMIT 1",
        (first + (last - first) * 0.05,),
    )[0]
    lists = {
        "list: first page": {},
        "list: model + status=error": {"model": "claude-haiku-4-5", "status": "error"},
        "list: provider, 24h": {"provider": "anthropic", "since": "24h"},
        "list: tag": {"tag": "eval"},
        "list: user (rare)": {"user": "user-17"},
        "list: thread": {"thread": thread_id},
        "list: deep page (day 2 of 30)": {"cursor": f"{deep[0]!r}:{deep[1]}"},
        "list: text search (common)": {"q": "overdue"},
        "list: text search (no match)": {"q": "zebra crossing"},
    }
    return {
        **{name: f"/api/traces?{urlencode(query)}" for name, query in lists.items()},
        "trace view": f"/api/traces/{quote(agent_trace)}",
        "thread view": f"/api/threads/{quote(thread_id)}",
        "dashboard 24h": "/api/dashboard?since=24h",
        "dashboard 7d": "/api/dashboard?since=7d",
        "dashboard 30d": "/api/dashboard?since=30d",
        "facets": "/api/facets",
        "live poll": "/api/changes",
    }


def measure(path: Path, repeats: int) -> dict[str, dict[str, Any]]:
    """Each API request over HTTP, `repeats` times."""
    with Store(path) as store:
        cases = _cases(store)
    server = UIServer("127.0.0.1", 0, path)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, url in cases.items():
            times = []
            body: dict[str, Any] = {}
            for _ in range(repeats):
                elapsed, body = _get(port, url)
                times.append(elapsed * 1000)
            shown = len(body.get("traces", body.get("records", body.get("models", []))))
            results[name] = {
                "url": url,
                "first_ms": times[0],
                "median_ms": statistics.median(times),
                "max_ms": max(times),
                "items": shown,
                "partial": body.get("partial"),
            }
            print(
                f"{name:32} {times[0]:9.1f} first {statistics.median(times):9.1f} median "
                f"{max(times):9.1f} max ms  {shown:5} items"
                + ("  (partial: search budget reached)" if body.get("partial") else ""),
                flush=True,
            )
    finally:
        server.shutdown()
        server.server_close()
    return results


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def measure_pages(path: Path, chromium: str, repeats: int) -> dict[str, dict[str, float]]:
    """Page loads in headless Chromium (Playwright drives Debian's browser): from
    navigation to the view drawn with its data, first visit and then warm."""
    from playwright.sync_api import sync_playwright

    with Store(path) as store:
        cases = _cases(store)
    trace_id = cases["trace view"].rsplit("/", 1)[1]
    thread_id = cases["thread view"].rsplit("/", 1)[1]
    views = {
        "page: trace list": "#/",
        "page: list, model + status=error": "#/?model=claude-haiku-4-5&status=error",
        "page: list, text search": "#/?q=overdue",
        "page: trace view": f"#/trace/{trace_id}",
        "page: thread view": f"#/thread/{thread_id}",
        "page: dashboard 24h": "#/dashboard?since=24h",
        "page: dashboard 30d": "#/dashboard?since=30d",
    }
    server = UIServer("127.0.0.1", 0, path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    results: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
            browser = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium,
                headless=True,
                args=CHROMIUM_FLAGS,
                bypass_csp=True,  # wait_for_function evaluates a string
            )
            page = browser.new_page()
            for name, fragment in views.items():
                times = []
                for _ in range(repeats):
                    page.goto("about:blank")
                    began = time.perf_counter()
                    page.goto(server.url + fragment)
                    page.wait_for_function(
                        "document.body.dataset.ready === (location.hash || '#/')",
                        timeout=120_000,
                    )
                    times.append((time.perf_counter() - began) * 1000)
                results[name] = {"first_ms": times[0], "median_ms": statistics.median(times)}
                print(
                    f"{name:32} {times[0]:9.1f} first {statistics.median(times):9.1f} median ms",
                    flush=True,
                )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="records in the store")
    parser.add_argument("--db", type=Path, help="store to build or reuse")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--chromium",
        metavar="PATH",
        help="also time page loads in this Chromium (e.g. Debian's), driven by Playwright",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.db or Path(scratch) / "ui_load.db"
        if not path.exists():
            print(f"building {args.n:,} records in {path}", flush=True)
            began = time.perf_counter()
            build(path, args.n)
            print(f"built in {time.perf_counter() - began:.0f} s", flush=True)
        with Store(path) as store:
            info = store.info()
        print(f"{info.records:,} records, {info.size_bytes / 1e6:,.0f} MB")
        results = measure(path, args.repeats)
        if args.chromium:
            results.update(measure_pages(path, args.chromium, args.repeats))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps({"records": info.records, "repeats": args.repeats, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
