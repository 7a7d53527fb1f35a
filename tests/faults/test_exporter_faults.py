"""Exporters that raise, stall, find the disk full or the store locked: the caller never
notices, and every record that did not arrive is counted by `llmtap.stats()` and reported
by `llmtap doctor`."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import llmtap
from faults.support_faults import COMPLETION_TOKENS, FakeOpenAI, ask, doctor
from llmtap.cli.doctor import loss_problems
from llmtap.exporters import JSONLExporter, MemoryExporter, SQLiteExporter
from llmtap.exporters import sqlite as sqlite_exporter
from llmtap.record import Record
from llmtap.store import Store


class RaisingExporter:
    def export(self, records: Sequence[Record]) -> None:
        raise RuntimeError("the collector is down")

    def shutdown(self) -> None:
        pass


class StalledExporter:
    """Never returns from export() until the test lets it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.records: list[Record] = []

    def export(self, records: Sequence[Record]) -> None:
        self.release.wait()
        self.records.extend(records)

    def shutdown(self) -> None:
        pass


@pytest.fixture
def client() -> Iterator[object]:
    llmtap.instrument_openai()
    yield FakeOpenAI().client()
    llmtap.uninstrument_openai()


@pytest.fixture
def baseline() -> dict[str, int]:
    """Counters before the test: `llmtap.stats()` counts for the whole process."""
    stats = llmtap.stats()
    return {
        "dropped": stats["dropped"],
        "processed": stats["processed"],
        **{f"failed.{k}": v for k, v in stats["export_failures"].items()},
    }


def failed(name: str, baseline: dict[str, int]) -> int:
    return int(llmtap.stats()["export_failures"].get(name, 0)) - baseline.get(f"failed.{name}", 0)


def timed_calls(client: object, count: int, prefix: str) -> list[float]:
    """Make `count` calls; each one's wall time in seconds. Any exception fails the test."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        response = ask(client, f"{prefix}-{i}")
        times.append(time.perf_counter() - start)
        assert response.usage.completion_tokens == COMPLETION_TOKENS
    return times


def test_a_raising_exporter_loses_only_its_own_copies_and_the_doctor_reports_them(
    client: object,
    tmp_path: Path,
    baseline: dict[str, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "llmtap.db"
    llmtap.configure(exporters=[SQLiteExporter(db), RaisingExporter()])

    timed_calls(client, 25, "raising")
    assert llmtap.flush(timeout=10)

    assert failed("RaisingExporter", baseline) == 25
    assert llmtap.stats()["faults"]["exporter.RaisingExporter"] >= 1
    with Store(db) as store:
        assert store.count() == 25  # the other exporter got every record
    code, report = doctor(capsys, db)
    assert code == 1
    [losses] = report["store"]["losses"]
    assert losses["lost"] >= 25
    assert losses["stats"]["export_failures"]["RaisingExporter"] >= 25
    assert loss_problems(report) == [
        f"pid {losses['pid']} on {losses['host']} lost {losses['lost']} records "
        "(see losses above; llmtap.stats() in that process has the details)"
    ]


def test_a_stalled_exporter_never_blocks_the_caller_and_drops_are_exact(
    client: object, baseline: dict[str, int], memory: MemoryExporter
) -> None:
    stalled = StalledExporter()
    llmtap.configure(exporters=[stalled], queue_size=200, batch_size=50)
    try:
        times = timed_calls(client, 600, "stalled")
        assert not llmtap.flush(timeout=0.3)  # bounded: it gives up, it does not hang
        stats = llmtap.stats()
        taken = stats["processed"] - baseline["processed"]
        dropped = stats["dropped"] - baseline["dropped"]
        # Every call is accounted for: taken by the worker, still queued, or dropped.
        # (A drain that began just before configure() may hand one batch to the memory
        # exporter the fixture configured, so `taken` can exceed one batch.)
        assert 150 <= stats["queued"] <= 200
        assert dropped >= 600 - 200 - 2 * 50
        assert taken + stats["queued"] + dropped == 600
        # The slowest call took milliseconds, not the stall's forever.
        assert max(times) < 0.25, max(times)
    finally:
        stalled.release.set()
    assert llmtap.flush(timeout=10)
    assert len(stalled.records) + len(memory.records) == 600 - dropped


def test_a_store_locked_by_another_process_delays_only_the_worker(
    client: object,
    tmp_path: Path,
    baseline: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sqlite_exporter, "_BUSY_TIMEOUT_S", 0.5)
    db = tmp_path / "llmtap.db"
    llmtap.configure(exporters=[SQLiteExporter(db)], batch_size=20)
    timed_calls(client, 1, "before-lock")
    assert llmtap.flush(timeout=10)

    with _locked(db):
        times = timed_calls(client, 40, "locked")
        assert llmtap.flush(timeout=20)  # each batch waits out the busy timeout, then fails
        assert max(times) < 0.25, max(times)  # below the busy timeout: callers never waited
    assert failed("SQLiteExporter", baseline) == 40

    timed_calls(client, 2, "after-lock")
    assert llmtap.flush(timeout=10)
    with Store(db) as store:
        assert store.count() == 3  # the store works again once the lock is gone
    code, report = doctor(capsys, db)
    assert code == 1
    [losses] = report["store"]["losses"]
    assert losses["stats"]["export_failures"]["SQLiteExporter"] >= 40


@contextlib.contextmanager
def _locked(db: Path) -> Iterator[None]:
    """Another process holds the store's write lock until the block ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"conn = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            "conn.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "conn.execute('COMMIT')\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=10)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_under_the_jsonl_exporter_is_counted_not_raised(
    client: object, baseline: dict[str, int], memory: MemoryExporter
) -> None:
    llmtap.configure(exporters=[JSONLExporter("/dev/full"), memory])

    timed_calls(client, 30, "dev-full")
    assert llmtap.flush(timeout=10)

    assert failed("JSONLExporter", baseline) == 30
    assert len(memory.records) == 30
    assert llmtap.stats()["faults"]["exporter.JSONLExporter"] >= 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted under tmp_path: a real disk that really fills up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 4096)
    return filler


def test_a_full_disk_under_the_store_is_counted_and_the_store_recovers(
    client: object,
    small_disk: Path,
    baseline: dict[str, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = small_disk / "llmtap.db"
    llmtap.configure(exporters=[SQLiteExporter(db)], batch_size=10)
    timed_calls(client, 5, "room")
    assert llmtap.flush(timeout=10)

    filler = _fill(small_disk)
    timed_calls(client, 30, "full")
    assert llmtap.flush(timeout=10)
    lost = failed("SQLiteExporter", baseline)
    assert lost > 0
    assert llmtap.stats()["faults"]["exporter.SQLiteExporter"] >= 1

    filler.unlink()
    timed_calls(client, 5, "room-again")
    assert llmtap.flush(timeout=10)
    with Store(db) as store:
        assert store.count() == 5 + 30 + 5 - lost  # every record is stored or counted
    code, report = doctor(capsys, db)
    assert code == 1
    # The ledger has the process's counts, which include earlier tests' losses.
    process_total = llmtap.stats()["export_failures"]["SQLiteExporter"]
    assert report["store"]["losses"][0]["stats"]["export_failures"]["SQLiteExporter"] == (
        process_total
    )
