"""`llmtap stats`: exact totals and percentiles per model and provider, over a time window."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import llmtap
from llmtap.cli import main
from llmtap.exporters import MemoryExporter, SQLiteExporter
from llmtap.summary import percentile
from llmtap.timewindow import parse_moment, window

NOW = time.time()
HOUR = 3600.0


@contextmanager
def recording(path: Path) -> Iterator[None]:
    """The real pipeline into a store at `path`, flushed and detached afterwards."""
    llmtap.configure(exporters=[SQLiteExporter(path)])
    try:
        yield
    finally:
        llmtap.flush()
        llmtap.configure(exporters=[MemoryExporter()])


def call(model: str, provider: str, start: float, duration: float, **fields: Any) -> None:
    llmtap.log_generation(
        model=model, provider=provider, start_time=start, end_time=start + duration, **fields
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """20 OpenAI calls (0.1s..2.0s), 3 calls to a model without a price, one old call."""
    path = tmp_path / "llmtap.db"
    with recording(path):
        with llmtap.span("agent", kind="chain"), llmtap.span("ChatOpenAI", kind="llm"):
            for i in range(20):
                call(
                    "gpt-4o-mini",
                    "openai",
                    NOW - HOUR / 2 + i,
                    (i + 1) / 10,
                    usage={
                        "input_tokens": 100 + i,
                        "output_tokens": 10 + i,
                        "cached_input_tokens": 64 if i < 5 else 0,
                    },
                    time_to_first_token_s=(i + 1) / 100 if i % 2 == 0 else None,
                    stream=i % 2 == 0,
                    cost_usd=0.25,
                    status="error" if i in (3, 7) else "ok",
                )
        for i in range(3):
            call(
                "house-model-1",
                "local",
                NOW - HOUR / 4 + i,
                1.0 + i,
                usage={"input_tokens": 1000, "output_tokens": 200, "reasoning_tokens": 50},
            )
        call(
            "gpt-4o-mini",
            "openai",
            NOW - 48 * HOUR,
            5.0,
            usage={"input_tokens": 7, "output_tokens": 7},
            cost_usd=1.0,
        )
    return path


def stats_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["stats", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_counts_tokens_and_cost_per_provider_and_model(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = stats_json(capsys, "--db", str(db))

    openai, local = found["groups"]
    assert (openai["provider"], openai["model"]) == ("openai", "gpt-4o-mini")
    assert openai["calls"] == 21
    assert openai["errors"] == 2
    assert openai["input_tokens"] == sum(100 + i for i in range(20)) + 7
    assert openai["output_tokens"] == sum(10 + i for i in range(20)) + 7
    assert openai["cached_input_tokens"] == 5 * 64
    assert openai["reasoning_tokens"] is None
    assert openai["cost_usd"] == pytest.approx(20 * 0.25 + 1.0)
    assert openai["calls_without_cost"] == 0
    assert (local["provider"], local["calls"], local["reasoning_tokens"]) == (
        "local",
        3,
        150,
    )
    assert local["cost_usd"] is None
    assert local["calls_without_cost"] == 3


def test_framework_steps_and_spans_are_not_counted_as_calls(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = stats_json(capsys, "--db", str(db))

    assert found["total"]["calls"] == 24  # generations only: not the chain, not the llm step
    assert found["total"]["input_tokens"] == sum(100 + i for i in range(20)) + 7 + 3000


def test_latency_and_ttft_percentiles_are_nearest_rank(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    found = stats_json(capsys, "--db", str(db), "--since", "1h")

    openai = found["groups"][0]
    # 0.1s .. 2.0s: the 10th, 19th and 20th of 20 values.
    assert openai["latency_s"] == pytest.approx({"p50": 1.0, "p95": 1.9, "p99": 2.0})
    # Streams only (i even): 0.01, 0.03, .. 0.19; the 5th, 10th and 10th of 10.
    assert openai["ttft_s"] == pytest.approx({"p50": 0.09, "p95": 0.19, "p99": 0.19})
    assert found["groups"][1]["ttft_s"] == {"p50": None, "p95": None, "p99": None}
    # Over all 23 calls in the window: 0.1..2.0 and 1.0, 2.0, 3.0.
    assert found["total"]["latency_s"] == pytest.approx({"p50": 1.1, "p95": 2.0, "p99": 3.0})


def test_since_and_until_bound_the_window(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recent = stats_json(capsys, "--db", str(db), "--since", "1h")
    old = stats_json(capsys, "--db", str(db), "--until", "24h")

    assert [g["calls"] for g in recent["groups"]] == [20, 3]
    assert recent["groups"][0]["cost_usd"] == pytest.approx(5.0)
    assert [(g["model"], g["calls"]) for g in old["groups"]] == [("gpt-4o-mini", 1)]


def test_by_provider_and_by_model(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    by_provider = stats_json(capsys, "--db", str(db), "--by", "provider")
    by_model = stats_json(capsys, "--db", str(db), "--by", "model")

    assert [(g["provider"], g["model"], g["calls"]) for g in by_provider["groups"]] == [
        ("openai", "", 21),
        ("local", "", 3),
    ]
    assert [(g["provider"], g["model"]) for g in by_model["groups"]] == [
        ("", "gpt-4o-mini"),
        ("", "house-model-1"),
    ]


def test_table_shows_each_group_a_total_and_unknown_cost(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--db", str(db), "--since", "1h"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [
        "provider", "model", "calls", "errors", "in", "out", "cached", "reasoning", "cost",
        "p50", "p95", "p99", "ttft", "p50", "ttft", "p95", "ttft", "p99",
    ]  # fmt: skip
    assert lines[3].split() == [
        "openai", "gpt-4o-mini", "20", "2", "2,190", "390", "320", "-", "$5",
        "1.00s", "1.90s", "2.00s", "90.0ms", "190.0ms", "190.0ms",
    ]  # fmt: skip
    assert lines[4].split()[:9] == [
        "local", "house-model-1", "3", "0", "3,000", "600", "-", "150", "unknown",
    ]  # fmt: skip
    assert lines[5].split()[:8] == ["total", "23", "2", "5,190", "990", "320", "150", "$5"]
    assert "(+3 unknown)" in lines[5]


def test_an_empty_window_says_so(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(db), "--since", "2099-01-01"]) == 0

    assert capsys.readouterr().out.splitlines()[-1] == "No generations in this window."


def test_a_bad_window_is_a_usage_error(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--db", str(db), "--since", "yesterday"]) == 2

    assert "'yesterday' is neither a duration" in capsys.readouterr().err


# -- the pieces ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7.0], 99, 7.0),
        ([1.0, 2.0], 50, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 95, 4.0),
        ([float(i) for i in range(1, 101)], 95, 95.0),
        ([float(i) for i in range(1, 101)], 99, 99.0),
    ],
)
def test_percentile_is_the_nearest_rank(values: list[float], p: int, expected: float) -> None:
    assert percentile(values, p) == expected


def test_durations_count_back_from_now() -> None:
    assert parse_moment("90s", now=1000.0) == 910.0
    assert parse_moment("30m", now=10_000.0) == 8200.0
    assert parse_moment("24h", now=100_000.0) == 13_600.0
    assert parse_moment("7d", now=1_000_000.0) == 395_200.0
    assert parse_moment("2w", now=2_000_000.0) == 790_400.0


def test_iso_times_with_an_offset_are_exact() -> None:
    assert parse_moment("2026-11-22T02:07:28Z") == 1795313248.0
    assert parse_moment("2026-11-22T04:07:28+02:00") == 1795313248.0


def test_iso_times_without_an_offset_are_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert parse_moment("2026-11-22T07:37:28") == 1795313248.0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_window_refuses_since_after_until() -> None:
    with pytest.raises(ValueError, match="--since 1h is not before --until 2h"):
        window("1h", "2h")
