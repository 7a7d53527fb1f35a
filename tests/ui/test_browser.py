"""`llmtap ui` end to end in headless Chromium, over a store recorded by replaying the
shared cassettes through the real OpenAI and Anthropic SDKs with llmtap on.

The page is driven as a person would: filter the list, open a trace, click each call,
visit the dashboard and a thread. Every number the page shows is checked against the
records in the store, formatted by the `llmtap` command's own formatters, and each view is
saved as a screenshot in tests/ui/artifacts/. Run with `nox -s ui`, which installs
Playwright (the library only: the browser is Debian's `chromium`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llmtap
from llmtap.exporters import MemoryExporter, SQLiteExporter
from llmtap.store import Store
from llmtap.table import count, seconds, usd
from llmtap.ui.server import UIServer
from support.cassettes import SHARED_CASSETTES, load_cassette, replay, request_body

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
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
THREAD = "conv-e2e"

if not SHARED_CASSETTES.is_dir():
    pytest.skip("../shared/cassettes is not present", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: run `nox -s ui`"
)
if not CHROMIUM.is_file():
    pytest.skip("Debian's chromium is not installed: run `nox -s ui`", allow_module_level=True)

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")
from support.fake_anthropic import fit  # noqa: E402  (needs anthropic)

OPENAI_CASSETTES = [
    "chat_nonstream_gpt4o_mini",
    "chat_nonstream_gpt5_nano_reasoning_tokens",
    "chat_prompt_caching_cached_tokens",
    "chat_stream_include_usage_gpt4",
    "chat_stream_parallel_tool_calls_include_usage",
    "error_chat_404_model_not_found",
]
ANTHROPIC_CASSETTES = [
    "messages_nonstream_extended_thinking",
    "messages_stream_sonnet4",
    "messages_prompt_caching_create_then_read",
    "error_messages_404_model_not_found",
]


def _replay_openai(name: str) -> None:
    path = SHARED_CASSETTES / "openai" / f"{name}.yaml"
    cassette, _ = load_cassette(path)
    with replay(path):
        client = openai.OpenAI(api_key="sk-test", max_retries=0)
        for interaction in cassette["interactions"]:
            body = request_body(interaction)
            try:
                result = client.chat.completions.create(**body)
                if body.get("stream"):
                    for _ in result:
                        pass
            except openai.APIError:
                pass


def _replay_anthropic(name: str) -> None:
    path = SHARED_CASSETTES / "anthropic" / f"{name}.yaml"
    cassette, _ = load_cassette(path)
    with replay(path):
        client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
        for interaction in cassette["interactions"]:
            body = request_body(interaction)
            resource = (
                client.beta.messages
                if "beta=true" in interaction["request"]["uri"]
                else client.messages
            )
            try:
                result = resource.create(**fit(resource.create, body))
                if body.get("stream"):
                    for _ in result:
                        pass
            except anthropic.APIError:
                pass


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store the page reads: every call of the cassettes above, one agent run of two
    calls with a tool round trip in a thread, and the rest as traces of their own."""
    path = tmp_path_factory.mktemp("ui") / "llmtap.db"
    llmtap.configure(exporters=[SQLiteExporter(path)])
    llmtap.instrument_openai()
    llmtap.instrument_anthropic()
    try:
        with llmtap.context(thread_id=THREAD, user_id="ada", tags=["e2e"]):
            with llmtap.span("weather-agent", kind="agent"):
                _replay_openai("chat_tool_calls_roundtrip")
            _replay_anthropic("messages_nonstream_tool_use_parallel")
        for name in OPENAI_CASSETTES:
            _replay_openai(name)
        for name in ANTHROPIC_CASSETTES:
            _replay_anthropic(name)
        assert llmtap.flush(timeout=30)
    finally:
        llmtap.uninstrument_openai()
        llmtap.uninstrument_anthropic()
        llmtap.configure(exporters=[MemoryExporter()])
    return path


@pytest.fixture(scope="module")
def records(db: Path) -> list[dict[str, Any]]:
    with Store(db) as store:
        return [json.loads(data) for data in store.scan()]


@pytest.fixture(scope="module")
def base_url(db: Path) -> Iterator[str]:
    server = UIServer("127.0.0.1", 0, db)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1600, "height": 1000},
            # The page's policy forbids eval, which Playwright's wait_for_function uses.
            bypass_csp=True,
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = browser.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    yield opened
    opened.close()
    assert errors == [], f"the page logged errors: {errors}"


def _open(page: Any, url: str) -> None:
    page.goto(url)
    _ready(page)


def _ready(page: Any) -> None:
    page.wait_for_function("document.body.dataset.ready === (location.hash || '#/')")


def _shot(page: Any, name: str) -> None:
    assert "[object " not in page.inner_text("body"), "a value was drawn as text"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _roots_newest_first(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    roots = [r for r in records if r["parent_id"] is None]
    return sorted(roots, key=lambda r: r["start_time"], reverse=True)


def _trace_ids_where(records: list[dict[str, Any]], test: Any) -> list[str]:
    matching = {r["trace_id"] for r in records if test(r)}
    return [r["trace_id"] for r in _roots_newest_first(records) if r["trace_id"] in matching]


def _rows(page: Any) -> list[str]:
    rows = page.locator("[data-testid=trace-row]")
    return [rows.nth(i).get_attribute("data-trace-id") for i in range(rows.count())]


def _text(page: Any, testid: str) -> str:
    return str(page.locator(f"[data-testid={testid}]").first.inner_text()).strip()


def test_the_list_filters_by_model_and_status(page: Any, base_url: str, records: Any) -> None:
    _open(page, base_url)
    assert _rows(page) == [r["trace_id"] for r in _roots_newest_first(records)]
    _shot(page, "1-trace-list")

    page.select_option("[data-testid=filter-status]", "error")
    _ready(page)
    errors = _trace_ids_where(records, lambda r: r["status"] == "error")
    assert len(errors) == 2
    assert _rows(page) == errors

    page.select_option("[data-testid=filter-status]", "")
    _ready(page)
    page.select_option("[data-testid=filter-model]", "gpt-4o-mini")
    _ready(page)
    wanted = _trace_ids_where(
        records, lambda r: "gpt-4o-mini" in (r["request_model"], r["response_model"])
    )
    assert wanted
    assert _rows(page) == wanted
    # Every row's figures are its trace's generations' sums.
    row = page.locator("[data-testid=trace-row]").first
    generations = [r for r in records if r["trace_id"] == wanted[0] and r["kind"] == "generation"]
    assert row.locator("[data-testid=trace-calls]").inner_text() == count(len(generations))
    assert row.locator("[data-testid=trace-input]").inner_text() == count(
        sum(g["usage"]["input_tokens"] or 0 for g in generations)
    )
    _shot(page, "2-trace-list-filtered")

    page.fill("[data-testid=filter-q]", "seattle")
    page.press("[data-testid=filter-q]", "Enter")
    _ready(page)

    def says_seattle(record: dict[str, Any]) -> bool:
        text = json.dumps([record["input"], record["output"], record["system_instructions"]])
        return "seattle" in text.lower()

    found = set(_trace_ids_where(records, says_seattle))
    assert found
    assert _rows(page) == [t for t in wanted if t in found]
    _shot(page, "2-trace-list-searched")


def test_a_trace_shows_the_records_numbers(page: Any, base_url: str, records: Any) -> None:
    _open(page, base_url)
    (agent,) = [r for r in records if r["name"] == "weather-agent"]
    page.click(f"[data-testid=trace-row][data-trace-id='{agent['trace_id']}']")
    _ready(page)
    in_trace = [r for r in records if r["trace_id"] == agent["trace_id"]]
    generations = [r for r in in_trace if r["kind"] == "generation"]
    assert page.locator("[data-testid=span-row]").count() == len(in_trace) == 3
    assert page.locator("[data-testid=bar]").count() == 3
    assert _text(page, "trace-calls") == "2"
    assert _text(page, "trace-input") == count(sum(g["usage"]["input_tokens"] for g in generations))
    assert _text(page, "trace-output") == count(
        sum(g["usage"]["output_tokens"] for g in generations)
    )
    costs = [g["cost_usd"] for g in generations]
    assert _text(page, "trace-cost") == usd(sum(costs))

    for index, generation in enumerate(generations):
        page.click(f"[data-testid=span-row][data-record-id='{generation['id']}']")
        usage = generation["usage"]
        assert _text(page, "value-input-tokens") == count(usage["input_tokens"])
        assert _text(page, "value-output-tokens") == count(usage["output_tokens"])
        assert _text(page, "value-total-tokens") == count(usage["total_tokens"])
        assert _text(page, "value-cost") == usd(generation["cost_usd"])
        assert _text(page, "value-latency") == seconds(generation["duration_s"])
        assert _text(page, "value-model") == generation["response_model"]
        roles = page.locator("[data-testid=input-messages] [data-testid=message]")
        assert [roles.nth(i).get_attribute("data-role") for i in range(roles.count())] == [
            m["role"] for m in generation["input"]
        ]
        _shot(page, f"3-trace-call-{index + 1}")
    # The second call carries the tool calls' results back.
    assert page.locator("[data-testid=part-tool-result]").count() == 2


def test_cached_and_reasoning_tokens_and_ttft(page: Any, base_url: str, records: Any) -> None:
    shown = 0
    for record in records:
        usage = record["usage"]
        if not (usage["cached_input_tokens"] or usage["reasoning_tokens"]):
            continue
        _open(page, f"{base_url}#/trace/{record['trace_id']}?record={record['id']}")
        if usage["cached_input_tokens"]:
            assert _text(page, "value-cached-tokens") == count(usage["cached_input_tokens"])
        if usage["reasoning_tokens"]:
            assert _text(page, "value-reasoning-tokens") == count(usage["reasoning_tokens"])
            if record["output"] and any(
                p["type"] == "reasoning" for m in record["output"] for p in m["parts"]
            ):
                assert page.locator("[data-testid=part-reasoning]").count() >= 1
        if record["time_to_first_token_s"] is not None:
            assert _text(page, "value-ttft") == seconds(record["time_to_first_token_s"])
            assert page.locator("[data-testid=ttft-marker]").count() == 1
        shown += 1
        _shot(page, f"4-usage-{shown}")
    assert shown >= 3


def test_an_error_is_shown_with_its_status(page: Any, base_url: str, records: Any) -> None:
    failed = next(r for r in records if r["status"] == "error")
    _open(page, f"{base_url}#/trace/{failed['trace_id']}")
    error = failed["error"]
    assert _text(page, "detail-error") == (
        f"{error['type']} (HTTP {error['status_code']}): {error['message']}"
    )
    _shot(page, "5-error")


def test_the_dashboard_totals_and_charts(page: Any, base_url: str, records: Any) -> None:
    _open(page, f"{base_url}#/dashboard?since=all")
    generations = [r for r in records if r["kind"] == "generation"]
    assert _text(page, "total-calls") == count(len(generations))
    assert _text(page, "total-input") == count(
        sum(g["usage"]["input_tokens"] or 0 for g in generations)
    )
    assert _text(page, "total-output") == count(
        sum(g["usage"]["output_tokens"] or 0 for g in generations)
    )
    errors = sum(g["status"] == "error" for g in generations)
    assert _text(page, "total-errors").startswith(f"{errors} (")
    for chart in ("calls", "tokens", "cost", "errors", "latency", "ttft"):
        assert page.locator(f"[data-testid=chart-{chart}] canvas").count() == 1, chart
    _shot(page, "6-dashboard")


def test_the_thread_shows_its_runs_in_order(page: Any, base_url: str, records: Any) -> None:
    _open(page, base_url)
    page.locator(f"a[href='#/thread/{THREAD}']").first.click()
    _ready(page)
    in_thread = sorted(
        (r for r in records if r["thread_id"] == THREAD), key=lambda r: r["start_time"]
    )
    runs = list(dict.fromkeys(r["trace_id"] for r in in_thread))
    _shot(page, "7-thread")
    assert len(runs) == 2
    shown = page.locator("[data-testid=thread-run]")
    assert [shown.nth(i).get_attribute("data-trace-id") for i in range(shown.count())] == runs
    # Each call shows the user's last message and the answer.
    first_run = shown.nth(0).locator("[data-testid=message]")
    roles = [first_run.nth(i).get_attribute("data-role") for i in range(first_run.count())]
    assert roles == ["user", "assistant", "user", "assistant"]
    _shot(page, "7-thread")


def test_the_list_shows_new_records_live(page: Any, db: Path, tmp_path: Path) -> None:
    """A record written while the list is open appears without a reload."""
    copy = tmp_path / "live.db"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    server = UIServer("127.0.0.1", 0, copy)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        _open(page, server.url)
        before = _rows(page)
        with sqlite3.connect(copy) as reader:
            (newest,) = reader.execute("SELECT max(start_time) FROM records").fetchone()
        exporter = SQLiteExporter(copy)
        late = llmtap.Record(id="live-1", trace_id="live", name="late", start_time=newest + 1)
        exporter.export([late])
        exporter.shutdown()
        page.wait_for_selector("[data-testid=trace-row][data-trace-id='live']", timeout=10_000)
        assert _rows(page) == ["live", *before]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
