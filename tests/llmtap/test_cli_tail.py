"""`llmtap tail`: the last records, then each new one, as lines or JSON Lines."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import llmtap
from llmtap.cli import main, tail
from llmtap.exporters import MemoryExporter, SQLiteExporter
from llmtap.terminal import Paint

START = 1795313248.123456  # 2026-11-22T02:07:28.123456Z


@contextmanager
def recording(path: Path) -> Iterator[None]:
    llmtap.configure(exporters=[SQLiteExporter(path)])
    try:
        yield
    finally:
        llmtap.flush()
        llmtap.configure(exporters=[MemoryExporter()])


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def call(name: str, **fields: Any) -> None:
    llmtap.log_generation(model="gpt-4o-mini", provider="openai", name=name, **fields)


def names(out: str) -> list[str]:
    return [json.loads(line)["name"] for line in out.splitlines()]


def test_a_line_has_time_kind_provider_model_tokens_latency_ttft_status_and_name(
    tmp_path: Path, utc: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with recording(tmp_path / "llmtap.db"):
        call(
            "chat gpt-4o-mini",
            usage={"input_tokens": 1200, "output_tokens": 85, "cached_input_tokens": 1024},
            start_time=START,
            end_time=START + 0.8125,
            time_to_first_token_s=0.25,
            response_model="gpt-4o-mini-2024-07-18",
        )
        call("failing", status="error", error={"type": "RateLimitError", "message": "slow\ndown"})

    assert main(["tail", "--no-follow"]) == 0

    first, second = capsys.readouterr().out.splitlines()
    assert first.split() == [
        "02:07:28.123", "generation", "openai", "gpt-4o-mini-2024-07-18", "1,200/85",
        "(1,024", "cached)", "812.5ms", "ttft", "250.0ms", "ok", "chat", "gpt-4o-mini",
    ]  # fmt: skip
    assert second.endswith(" error      failing · RateLimitError: slow down")


def test_status_is_coloured_only_when_asked() -> None:
    record = {"status": "error", "kind": "generation", "name": "x"}

    assert "\x1b[31merror     \x1b[0m" in tail.line(record, Paint(True))
    assert "\x1b" not in tail.line(record, Paint(False))


def test_a_long_line_is_cut_to_the_terminal_width() -> None:
    record = {"status": "ok", "kind": "chain", "name": "a very long name " * 20}

    assert len(tail.line(record, Paint(False), columns=140)) == 140


def test_shows_the_last_n_in_write_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with recording(tmp_path / "llmtap.db"):
        for i in range(5):
            call(f"call {i}")
            llmtap.flush()

    assert main(["tail", "-n", "3", "--no-follow", "--json"]) == 0

    assert names(capsys.readouterr().out) == ["call 2", "call 3", "call 4"]


def test_follows_records_another_thread_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    written = threading.Event()

    def write() -> None:
        for i in range(3):
            call(f"new {i}")
            llmtap.flush()
            time.sleep(0.02)
        written.set()

    polls_after = 0
    deadline = time.monotonic() + 10

    def poll_then_stop(seconds: float) -> None:
        """Sleep; once the writer is done and one more poll has run, press Ctrl-C."""
        nonlocal polls_after
        time.sleep(seconds)
        polls_after += written.is_set()
        if polls_after > 1 or time.monotonic() > deadline:
            raise KeyboardInterrupt

    monkeypatch.setattr(tail, "sleep", poll_then_stop)
    with recording(tmp_path / "llmtap.db"):
        call("old")
        llmtap.flush()
        writer = threading.Thread(target=write)
        writer.start()
        assert main(["tail", "--json", "--interval", "0.01"]) == 0
        writer.join()

    assert names(capsys.readouterr().out) == ["old", "new 0", "new 1", "new 2"]


def test_follows_records_another_process_writes_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    with recording(path):
        call("old")
    command = [sys.executable, "-m", "llmtap", "tail", "--db", str(path), "-n", "1", "--json"]
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(
        [*command, "--interval", "0.05"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as tailing:
        assert tailing.stdout is not None
        assert tailing.stderr is not None
        output = tailing.stdout
        threading.Thread(target=lambda: [*map(lines.put, output)], daemon=True).start()
        try:
            assert json.loads(lines.get(timeout=20))["name"] == "old"
            with recording(path):
                call("new 0")
                call("new 1")
            followed = [json.loads(lines.get(timeout=20))["name"] for _ in range(2)]
        finally:
            os.kill(tailing.pid, signal.SIGINT)
            tailing.wait(timeout=20)
        err = tailing.stderr.read()

    assert followed == ["new 0", "new 1"]
    assert tailing.returncode == 0
    assert err == ""


def test_a_negative_count_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with recording(tmp_path / "llmtap.db"):
        call("x")

    assert main(["tail", "-n", "-1"]) == 2
    assert "-n must be 0 or more" in capsys.readouterr().err
