"""`llmtap ui`'s JSON API over a small store of known records: exact figures, filters,
pagination and the bounded search."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from llmtap import Record, Usage
from llmtap.exporters import SQLiteExporter
from llmtap.record import ErrorInfo, iso_utc
from llmtap.store import Store
from llmtap.summary import summarise
from llmtap.ui import queries
from llmtap.ui.server import UIServer

T0 = 1_789_999_200.0  # 2026-09-21T14:00:00Z, a whole hour
HOUR = 3600.0


def _generation(ident: str, trace: str, start: float, **values: Any) -> Record:
    defaults: dict[str, Any] = {
        "name": "openai.chat",
        "operation": "chat",
        "provider": "openai",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini",
        "start_time": start,
        "end_time": start + 1.5,
        "duration_s": 1.5,
    }
    return Record(id=ident, trace_id=trace, **{**defaults, **values})


def _records() -> list[Record]:
    """Five traces, oldest first; trace t3 is an agent run with two generations and a tool."""
    return [
        _generation(
            "g1",
            "t1",
            T0,
            usage=Usage(input_tokens=100, output_tokens=20, cached_input_tokens=64),
            cost_usd=0.000027,
            thread_id="conv-1",
            user_id="ada",
            tags=["checkout"],
            input=[{"role": "user", "parts": [{"type": "text", "content": "Où est la gare?"}]}],
            output=[{"role": "assistant", "parts": [{"type": "text", "content": "Tout droit."}]}],
        ),
        _generation(
            "g2",
            "t2",
            T0 + HOUR,
            provider="anthropic",
            request_model="claude-haiku-4-5",
            response_model=None,
            status="error",
            error=ErrorInfo("RateLimitError", "slow down", 429),
            thread_id="conv-1",
            user_id="ada",
        ),
        _generation(
            "g3a",
            "t3",
            T0 + 2 * HOUR + 0.1,
            parent_id="a3",
            usage=Usage(input_tokens=1000, output_tokens=300, reasoning_tokens=200),
            cost_usd=0.00033,
            time_to_first_token_s=0.25,
            stream=True,
            user_id="bob",
            tags=["eval"],
        ),
        Record(
            id="tool3",
            trace_id="t3",
            parent_id="a3",
            name="lookup",
            kind="tool",
            start_time=T0 + 2 * HOUR + 1.7,
            duration_s=0.2,
            user_id="bob",
            tags=["eval"],
        ),
        _generation(
            "g3b",
            "t3",
            T0 + 2 * HOUR + 2.0,
            parent_id="a3",
            request_model="gpt-4.1-nano",
            response_model="gpt-4.1-nano-2025-04-14",
            usage=Usage(input_tokens=2000, output_tokens=50),
            duration_s=0.5,
            status="incomplete",
            user_id="bob",
            tags=["eval"],
        ),
        Record(
            id="a3",
            trace_id="t3",
            name="agent",
            kind="agent",
            start_time=T0 + 2 * HOUR,
            duration_s=2.6,
            user_id="bob",
            tags=["eval"],
        ),
        _generation(
            "g4",
            "t4",
            T0 + 3 * HOUR,
            usage=Usage(input_tokens=7, output_tokens=3),
            cost_usd=0.000003,
            thread_id="conv-1",
            user_id="ada",
        ),
        _generation(
            "g5",
            "t5",
            T0 + 4 * HOUR,
            provider="mistral_ai",
            request_model="mistral-small-latest",
            response_model="mistral-small-latest",
            usage=Usage(input_tokens=5, output_tokens=5),
            status="incomplete",
            output=[{"role": "assistant", "parts": [{"type": "text", "content": "50% done_"}]}],
        ),
    ]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ui.db"
    exporter = SQLiteExporter(path)
    exporter.export(_records())
    exporter.shutdown()
    return path


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with Store(db) as opened:
        yield opened


@pytest.fixture
def port(db: Path) -> Iterator[int]:
    server = UIServer("127.0.0.1", 0, db)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def get(port: int, path: str, **query: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path + ("?" + urlencode(query) if query else ""))
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    return response.status, body


def trace_ids(port: int, **query: str) -> list[str]:
    status, body = get(port, "/api/traces", **query)
    assert status == 200, body
    return [t["trace_id"] for t in body["traces"]]


def test_traces_are_listed_newest_first_with_exact_totals(port: int) -> None:
    status, body = get(port, "/api/traces")
    assert status == 200
    assert [t["trace_id"] for t in body["traces"]] == ["t5", "t4", "t3", "t2", "t1"]
    assert body["next"] is None
    assert body["partial"] is False
    agent = body["traces"][2]
    assert agent == {
        "trace_id": "t3",
        "id": "a3",
        "name": "agent",
        "kind": "agent",
        "provider": None,
        "model": None,
        "root_status": "ok",
        "status": "incomplete",
        "start_time": iso_utc(T0 + 2 * HOUR),
        "duration_s": 2.6,
        "thread_id": None,
        "user_id": "bob",
        "tags": ["eval"],
        "records": 4,
        "calls": 2,
        "errors": 0,
        "input_tokens": 3000,
        "output_tokens": 350,
        "cached_input_tokens": None,
        "reasoning_tokens": 200,
        "cost_usd": 0.00033,
        "calls_without_cost": 1,
        "models": ["gpt-4o-mini", "gpt-4.1-nano-2025-04-14"],
        "providers": ["openai"],
    }
    failed = body["traces"][3]
    assert (failed["status"], failed["errors"], failed["input_tokens"]) == ("error", 1, None)
    assert failed["cost_usd"] is None
    assert failed["models"] == ["claude-haiku-4-5"]


def test_pages_follow_the_cursor_and_cover_every_trace_once(port: int) -> None:
    seen: list[str] = []
    query: dict[str, str] = {"limit": "2"}
    pages = 0
    while True:
        status, body = get(port, "/api/traces", **query)
        assert status == 200
        seen += [t["trace_id"] for t in body["traces"]]
        pages += 1
        if body["next"] is None:
            break
        query["cursor"] = body["next"]
    assert seen == ["t5", "t4", "t3", "t2", "t1"]
    assert pages == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"provider": "anthropic"}, ["t2"]),
        ({"provider": "openai"}, ["t4", "t3", "t1"]),
        ({"model": "gpt-4.1-nano"}, ["t3"]),  # the requested name
        ({"model": "gpt-4.1-nano-2025-04-14"}, ["t3"]),  # or the one that answered
        ({"status": "error"}, ["t2"]),
        ({"status": "incomplete"}, ["t5", "t3"]),
        ({"status": "ok"}, ["t4", "t1"]),
        ({"tag": "eval"}, ["t3"]),
        ({"tag": "check"}, []),
        ({"thread": "conv-1"}, ["t4", "t2", "t1"]),
        ({"user": "ada"}, ["t4", "t2", "t1"]),
        ({"q": "gare"}, ["t1"]),
        ({"q": "Où"}, ["t1"]),  # non-ASCII, stored escaped or not
        ({"q": "TOUT DROIT"}, ["t1"]),  # case-insensitive for ASCII
        ({"q": "50%"}, ["t5"]),  # LIKE wildcards are literal
        ({"q": "done_"}, ["t5"]),
        ({"q": "openai"}, []),  # only inputs and outputs are searched
        ({"since": iso_utc(T0 + HOUR), "until": iso_utc(T0 + 3 * HOUR)}, ["t3", "t2"]),
        ({"model": "gpt-4o-mini", "status": "ok", "thread": "conv-1"}, ["t4", "t1"]),
    ],
)
def test_filters(port: int, query: dict[str, str], expected: list[str]) -> None:
    assert trace_ids(port, **query) == expected


def test_search_stops_at_its_budget_and_continues_from_there(store: Store) -> None:
    f = queries.TraceFilter(q="gare")
    first = queries.list_traces(store, f, budget=2)
    assert first["traces"] == []
    assert first["partial"] is True
    assert first["searched_to"] == iso_utc(T0 + 3 * HOUR)
    second = queries.list_traces(store, f, queries.parse_cursor(first["next"]), budget=2)
    assert second["partial"] is True
    third = queries.list_traces(store, f, queries.parse_cursor(second["next"]), budget=2)
    assert [t["trace_id"] for t in third["traces"]] == ["t1"]
    assert (third["partial"], third["next"]) == (False, None)


def test_a_trace_is_every_record_in_start_order(port: int, store: Store) -> None:
    status, body = get(port, "/api/traces/t3")
    assert status == 200
    assert body == {"trace_id": "t3", "records": store.trace("t3")}
    assert [r["id"] for r in body["records"]] == ["a3", "g3a", "tool3", "g3b"]
    assert body["records"][1]["usage"]["reasoning_tokens"] == 200


def test_a_thread_is_its_runs_oldest_first(port: int) -> None:
    status, body = get(port, "/api/threads/conv-1")
    assert status == 200
    assert [r["id"] for r in body["records"]] == ["g1", "g2", "g4"]
    assert body["truncated"] is False


@pytest.mark.parametrize("path", ["/api/traces/nope", "/api/threads/nope", "/api/other"])
def test_unknown_ids_are_404(port: int, path: str) -> None:
    status, body = get(port, path)
    assert status == 404
    assert body["error"]


@pytest.mark.parametrize(
    "query",
    [{"status": "bogus"}, {"since": "yesterday"}, {"cursor": "x"}, {"limit": "0"}],
)
def test_bad_parameters_are_400(port: int, query: dict[str, str]) -> None:
    status, body = get(port, "/api/traces", **query)
    assert status == 400
    assert body["error"]


def test_dashboard_buckets_equal_stats_for_each_hour(store: Store) -> None:
    until = T0 + 5 * HOUR
    board = queries.dashboard(store, T0, until)
    assert board["bucket_s"] == 300
    assert board["buckets"][0] == T0
    assert len(board["buckets"]) == 60
    assert board["models"][0] == "gpt-4o-mini"
    assert board["total"] == {
        "calls": 6,
        "errors": 1,
        "input_tokens": 3112,
        "output_tokens": 378,
        "cached_input_tokens": 64,
        "reasoning_tokens": 200,
        "cost_usd": pytest.approx(0.00036),
    }
    first = board["series"]["gpt-4o-mini"][0]
    assert first == {
        "calls": 1,
        "errors": 0,
        "input_tokens": 100,
        "output_tokens": 20,
        "cached_input_tokens": 64,
        "reasoning_tokens": None,
        "cost_usd": 0.000027,
        "latency_p50": 1.5,
        "latency_p95": 1.5,
        "ttft_p50": None,
        "ttft_p95": None,
    }
    agent_bucket = board["buckets"].index(T0 + 2 * HOUR)
    groups, _ = summarise(store, T0 + 2 * HOUR, T0 + 2 * HOUR + 300, by="model")
    point = board["series"]["gpt-4o-mini"][agent_bucket]
    (group,) = [g for g in groups if g.model == "gpt-4o-mini"]
    assert point["ttft_p50"] == group.ttft_s[50] == 0.25
    assert point["input_tokens"] == group.input_tokens == 1000
    assert board["series"]["claude-haiku-4-5"][12]["errors"] == 1
    assert sum(p is not None for p in board["series"]["gpt-4o-mini"]) == 3


def test_cached_buckets_follow_late_records(store: Store, db: Path) -> None:
    """A record written now that started in a past bucket replaces that bucket's figures."""
    cache = queries.BucketCache()
    window = (T0, T0 + 5 * HOUR)
    fresh = queries.dashboard(store, *window)
    assert queries.dashboard(store, *window, cache=cache) == fresh
    assert queries.dashboard(store, *window, cache=cache) == fresh
    exporter = SQLiteExporter(db)
    late = _generation("late", "t9", T0 + 60, usage=Usage(input_tokens=1, output_tokens=1))
    exporter.export([late])
    exporter.shutdown()
    cached = queries.dashboard(store, *window, cache=cache)
    assert cached == queries.dashboard(store, *window)
    assert cached["series"]["gpt-4o-mini"][0]["calls"] == 2
    assert cached["total"]["calls"] == 7


def test_dashboard_over_http_takes_a_window(port: int) -> None:
    status, body = get(port, "/api/dashboard", since=iso_utc(T0), until=iso_utc(T0 + 86400))
    assert status == 200
    assert body["bucket_s"] == 3600
    assert body["total"]["calls"] == 6
    status, body = get(port, "/api/dashboard", since="all")
    assert status == 200
    assert body["since"] == iso_utc(T0 // body["bucket_s"] * body["bucket_s"])
    assert body["total"]["calls"] == 6


def test_facets_list_every_value(port: int, db: Path) -> None:
    status, body = get(port, "/api/facets")
    assert status == 200
    assert body == {
        "store": str(db),
        "providers": ["anthropic", "mistral_ai", "openai"],
        "models": [
            "claude-haiku-4-5",
            "gpt-4.1-nano",
            "gpt-4.1-nano-2025-04-14",
            "gpt-4o-mini",
            "mistral-small-latest",
        ],
        "statuses": ["ok", "error", "incomplete"],
        "tags": ["checkout", "eval"],
        "threads": ["conv-1"],
        "users": ["ada", "bob"],
    }


def test_changes_follow_new_records(port: int, db: Path) -> None:
    _, before = get(port, "/api/changes")
    assert before == {"last_rowid": 8}
    exporter = SQLiteExporter(db)
    exporter.export([_generation("g6", "t6", T0 + 5 * HOUR)])
    exporter.shutdown()
    _, after = get(port, "/api/changes")
    assert after == {"last_rowid": 9}
    assert trace_ids(port, limit="1") == ["t6"]


def test_bucket_sizes_keep_charts_readable() -> None:
    assert queries.bucket_size(0, 3600) == 60
    assert queries.bucket_size(0, 86400) == 3600
    assert queries.bucket_size(0, 7 * 86400) == 3 * 3600
    assert queries.bucket_size(0, 30 * 86400) == 86400
    assert queries.bucket_size(0, 365 * 86400) == 7 * 86400
    assert queries.bucket_size(0, 30 * 365 * 86400) == 183 * 86400
