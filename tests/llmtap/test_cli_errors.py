"""Every command that reads the store: a missing, corrupt or newer store is a clear
message and exit status 2, never a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from llmtap.cli import main
from llmtap.exporters import SQLiteExporter
from llmtap.record import Record

COMMANDS = [
    ["tail", "--no-follow"],
    ["show", "abc"],
    ["stats"],
    ["export"],
    ["export", "--format", "csv"],
]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_store_says_how_to_get_records(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "none.db"

    assert main([*command, "--db", str(path)]) == 2

    assert capsys.readouterr() == (
        "",
        f"llmtap: No llmtap records yet: {path} has none. Run `llmtap demo` to record a "
        "few, or set LLMTAP_DB to the store your application writes.\n",
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_corrupt_store_says_so(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"not a database\n" * 300)

    assert main([*command, "--db", str(path)]) == 2

    assert capsys.readouterr().err == (
        f"llmtap: {path} is not a readable llmtap store: file is not a database.\n"
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_a_store_from_a_newer_llmtap_says_to_upgrade(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 9")
    conn.close()

    assert main([*command, "--db", str(path)]) == 2

    assert "uses llmtap store schema version 9" in capsys.readouterr().err


def test_a_database_without_the_records_table_is_not_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    assert main(["stats", "--db", str(path)]) == 2

    assert capsys.readouterr().err == (
        f"llmtap: {path} is not a readable llmtap store: no such table: records.\n"
    )


def test_the_installed_command_exits_2_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "llmtap", "stats", "--db", str(tmp_path / "none.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.startswith("llmtap: No llmtap records yet")
    assert "Traceback" not in done.stderr


def test_a_reader_that_goes_away_ends_the_export_quietly(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    exporter = SQLiteExporter(path)
    exporter.export([Record(id=f"a{i}", trace_id="t", name="x" * 500) for i in range(5000)])
    exporter.shutdown()
    export = [sys.executable, "-m", "llmtap", "export", "--db", str(path)]

    with subprocess.Popen(export, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as piped:
        assert piped.stdout is not None
        assert piped.stderr is not None
        piped.stdout.readline()
        piped.stdout.close()  # like `llmtap export | head -1`
        err = piped.stderr.read()
        piped.wait(timeout=60)

    assert err == b""
    assert piped.returncode == 1
