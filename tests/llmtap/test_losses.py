"""The loss ledger: what a process lost reaches the store, and `llmtap doctor` shows it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

import llmtap
from llmtap.cli import main
from llmtap.exporters import SQLiteExporter
from llmtap.losses import LossLedger, read_losses, records_lost
from llmtap.record import Record


class Refusing:
    def export(self, records: Sequence[Record]) -> None:
        raise OSError("no route to the collector")

    def shutdown(self) -> None:
        pass


def store_with_one_record(path: Path) -> Path:
    SQLiteExporter(path).export([llmtap.log_generation(model="m", provider="test")])
    return path


def doctor(capsys: pytest.CaptureFixture[str], db: Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["doctor", "--db", str(db)])
    return code, capsys.readouterr().out


def test_records_lost_adds_drops_failed_exports_and_records_stranded_at_exit() -> None:
    stats = {"dropped": 2, "lost_at_exit": 3, "export_failures": {"A": 5, "B": 7}}
    assert records_lost(stats) == 17
    assert records_lost({"dropped": 0, "export_failures": {}}) == 0


def test_the_ledger_keeps_one_row_per_process_replaced_as_counts_change(tmp_path: Path) -> None:
    db = store_with_one_record(tmp_path / "llmtap.db")
    ledger = LossLedger()
    ledger.write(db, {"dropped": 1, "export_failures": {}, "faults": {}})
    ledger.write(db, {"dropped": 4, "export_failures": {"X": 2}, "faults": {"cost": 1}})

    with sqlite3.connect(db) as conn:
        [row] = read_losses(conn)
    assert (row.lost, row.faults) == (6, 1)
    assert row.stats["export_failures"] == {"X": 2}


def test_the_ledger_leaves_a_file_that_is_not_yet_a_store_alone(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    LossLedger().write(empty, {"dropped": 1})
    LossLedger().write(tmp_path / "missing.db", {"dropped": 1})

    with sqlite3.connect(empty) as conn:
        assert read_losses(conn) == []
    assert not (tmp_path / "missing.db").exists()


def test_a_store_without_losses_says_none_reported_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llmtap.cli.doctor.KNOWN", {})
    code, out = doctor(capsys, store_with_one_record(tmp_path / "llmtap.db"))
    assert code == 0
    assert "losses in the last 7 days\n  none reported" in out


def test_flush_writes_a_failed_export_into_the_ledger_and_the_doctor_flags_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("llmtap.cli.doctor.KNOWN", {})
    db = tmp_path / "llmtap.db"
    before = llmtap.stats()["export_failures"].get("Refusing", 0)
    llmtap.configure(exporters=[SQLiteExporter(db), Refusing()])
    for _ in range(3):
        llmtap.log_generation(model="m", provider="test")
    assert llmtap.flush(timeout=10)

    code, out = doctor(capsys, db)
    assert code == 1
    assert "records lost; dropped " in out
    assert f"'Refusing': {before + 3}" in out  # with any earlier test's failures
    assert "problems" in out
    main(["doctor", "--json", "--db", str(db)])
    report = json.loads(capsys.readouterr().out)
    [losses] = report["store"]["losses"]
    assert losses["stats"]["export_failures"]["Refusing"] == before + 3
