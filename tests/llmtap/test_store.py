"""Store: reading records back, and the errors a user sees when that is not possible."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llmtap.exporters import SQLiteExporter
from llmtap.record import Record, Usage
from llmtap.store import Store, StoreError

START = 1795313248.123456  # 2026-11-22T02:07:28.123456Z


def record(id: str, trace_id: str = "t1", start: float = START, **changes: Any) -> Record:
    return Record(id=id, trace_id=trace_id, name="chat gpt-4o", start_time=start, **changes)


def store_with(path: Path, *records: Record) -> Path:
    exporter = SQLiteExporter(path)
    exporter.export(records)
    exporter.shutdown()
    return path


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in records]


# -- opening ---------------------------------------------------------------------------------


def test_missing_file_says_there_are_no_records_yet_and_how_to_make_some(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"

    with pytest.raises(StoreError) as raised:
        Store(path)

    assert str(raised.value) == (
        f"No llmtap records yet: {path} has none. Run `llmtap demo` to record a few, "
        "or set LLMTAP_DB to the store your application writes."
    )


def test_empty_database_file_says_there_are_no_records_yet(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    path.touch()

    with pytest.raises(StoreError, match=r"^No llmtap records yet"):
        Store(path)


def test_corrupt_file_says_it_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    path.write_bytes(b"this is not a database\n" * 200)

    with pytest.raises(StoreError) as raised:
        Store(path)

    assert str(raised.value) == (f"{path} is not a readable llmtap store: file is not a database.")


def test_store_from_a_newer_llmtap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()

    with pytest.raises(StoreError) as raised:
        Store(path)

    assert str(raised.value) == (
        f"{path} uses llmtap store schema version 7, but this llmtap only understands "
        "version 1. Upgrade llmtap (pip install --upgrade llmtap) to the version that "
        "wrote it, or set LLMTAP_DB to use a different file."
    )


def test_default_path_honours_llmtap_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = store_with(tmp_path / "shared.db", record("a1"))
    monkeypatch.setenv("LLMTAP_DB", str(path))

    with Store() as store:
        assert store.path == path
        assert store.count() == 1


def test_default_path_is_the_project_store_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLMTAP_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    store_with(tmp_path / ".llmtap" / "llmtap.db", record("a1"))

    with Store() as store:
        assert store.path == tmp_path.resolve() / ".llmtap" / "llmtap.db"


def test_reads_while_the_exporter_still_has_the_store_open(tmp_path: Path) -> None:
    exporter = SQLiteExporter(tmp_path / "llmtap.db")
    exporter.export([record("a1")])

    with Store(tmp_path / "llmtap.db") as store:
        assert store.count() == 1
    exporter.shutdown()


def test_closing_leaves_the_store_unusable(tmp_path: Path) -> None:
    with Store(store_with(tmp_path / "llmtap.db", record("a1"))) as store:
        pass

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        store.count()


# -- reading -------------------------------------------------------------------------------


def test_get_returns_the_record_as_exported(tmp_path: Path) -> None:
    rec = record(
        "a1",
        provider="openai",
        response_model="gpt-4o-2024-08-06",
        usage=Usage(input_tokens=12, output_tokens=5),
        output=[{"role": "assistant", "parts": [{"type": "text", "content": "Hi!"}]}],
    )

    with Store(store_with(tmp_path / "llmtap.db", rec)) as store:
        assert store.get("a1") == rec.to_dict()


def test_get_returns_none_for_an_unknown_id(tmp_path: Path) -> None:
    with Store(store_with(tmp_path / "llmtap.db", record("a1"))) as store:
        assert store.get("nope") is None


def test_recent_lists_newest_first_by_start_time(tmp_path: Path) -> None:
    path = store_with(
        tmp_path / "llmtap.db",
        record("middle", start=START + 1),
        record("oldest", start=START),
        record("newest", start=START + 2),
    )

    with Store(path) as store:
        assert ids(store.recent()) == ["newest", "middle", "oldest"]


def test_recent_returns_at_most_limit_records(tmp_path: Path) -> None:
    path = store_with(tmp_path / "llmtap.db", *(record(f"a{i}", start=START + i) for i in range(5)))

    with Store(path) as store:
        assert ids(store.recent(limit=2)) == ["a4", "a3"]


def test_recent_defaults_to_20_records(tmp_path: Path) -> None:
    path = store_with(
        tmp_path / "llmtap.db", *(record(f"a{i}", start=START + i) for i in range(25))
    )

    with Store(path) as store:
        assert len(store.recent()) == 20


def test_trace_lists_only_that_trace_in_start_order(tmp_path: Path) -> None:
    path = store_with(
        tmp_path / "llmtap.db",
        record("child", trace_id="t1", start=START + 1),
        record("other", trace_id="t2", start=START),
        record("root", trace_id="t1", start=START),
    )

    with Store(path) as store:
        assert ids(store.trace("t1")) == ["root", "child"]


def test_trace_of_an_unknown_id_is_empty(tmp_path: Path) -> None:
    with Store(store_with(tmp_path / "llmtap.db", record("a1"))) as store:
        assert store.trace("nope") == []


def test_count_counts_every_record(tmp_path: Path) -> None:
    path = store_with(tmp_path / "llmtap.db", record("a1"), record("a2"), record("a3"))

    with Store(path) as store:
        assert store.count() == 3
