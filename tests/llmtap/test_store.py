"""Store: reading records back, and the errors a user sees when that is not possible."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from llmtap.exporters import SQLiteExporter
from llmtap.record import ErrorInfo, Record, Usage
from llmtap.store import Store, StoreError, as_record

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


def test_count_with_a_window_counts_start_times_in_since_until(tmp_path: Path) -> None:
    path = store_with(tmp_path / "llmtap.db", *(record(f"a{i}", start=START + i) for i in range(5)))

    with Store(path) as store:
        assert store.count(since=START + 1, until=START + 3) == 2
        assert store.count(since=START + 3) == 2
        assert store.count(until=START + 1) == 1


def test_scan_yields_stored_json_in_start_order(tmp_path: Path) -> None:
    path = store_with(
        tmp_path / "llmtap.db",
        record("late", start=START + 2),
        record("early", start=START),
        record("middle", start=START + 1),
    )

    with Store(path) as store:
        scanned = [json.loads(data)["id"] for data in store.scan(since=START + 0.5)]

    assert scanned == ["middle", "late"]


# -- following -----------------------------------------------------------------------------


def test_last_and_after_follow_write_order_not_start_time(tmp_path: Path) -> None:
    exporter = SQLiteExporter(tmp_path / "llmtap.db")
    exporter.export([record("first", start=START + 5), record("second", start=START)])

    with Store(tmp_path / "llmtap.db") as store:
        rows = store.last(10)
        assert [data["id"] for _, data in rows] == ["first", "second"]
        assert store.after(rows[-1][0]) == []
        assert store.last_rowid() == rows[-1][0]
        exporter.export([record("third", start=START - 5)])
        assert [data["id"] for _, data in store.after(rows[-1][0])] == ["third"]
    exporter.shutdown()


def test_last_of_more_than_there_are_is_everything(tmp_path: Path) -> None:
    with Store(store_with(tmp_path / "llmtap.db", record("a1"))) as store:
        assert [data["id"] for _, data in store.last(5)] == ["a1"]


# -- ids -----------------------------------------------------------------------------------


def test_resolve_takes_full_ids_and_unique_prefixes(tmp_path: Path) -> None:
    path = store_with(
        tmp_path / "llmtap.db",
        record("abc123", trace_id="f00d00"),
        record("abd456", trace_id="f00d00"),
    )

    with Store(path) as store:
        assert store.resolve("abc123") == ("record", "abc123")
        assert store.resolve("abd") == ("record", "abd456")
        assert store.resolve("f00d00") == ("trace", "f00d00")
        assert store.resolve("f0") == ("trace", "f00d00")


def test_resolve_with_trace_only_ignores_record_ids(tmp_path: Path) -> None:
    path = store_with(tmp_path / "llmtap.db", record("aa11", trace_id="aa22"))

    with Store(path) as store:
        assert store.resolve("aa", trace_only=True) == ("trace", "aa22")
        with pytest.raises(LookupError, match="starts more than one record or trace id"):
            store.resolve("aa")


def test_resolve_refuses_unknown_and_empty_ids(tmp_path: Path) -> None:
    path = store_with(tmp_path / "llmtap.db", record("a1"))

    with Store(path) as store:
        with pytest.raises(LookupError, match=r"^No record or trace id starts with 'zz'"):
            store.resolve("zz")
        with pytest.raises(LookupError, match=r"^Give a record id"):
            store.resolve("")


# -- info and replay -----------------------------------------------------------------------


def test_info_reports_schema_count_size_and_time_range(tmp_path: Path) -> None:
    path = store_with(
        tmp_path / "llmtap.db", record("a1", start=START), record("a2", start=START + 9)
    )

    with Store(path) as store:
        info = store.info()

    assert (info.path, info.schema_version, info.records) == (path, 1, 2)
    assert (info.first_start, info.last_start) == (START, START + 9)
    assert info.size_bytes >= path.stat().st_size


def test_as_record_rebuilds_the_record_that_was_stored(tmp_path: Path) -> None:
    rec = record(
        "a1",
        provider="openai",
        end_time=START + 0.5,
        duration_s=0.5,
        usage=Usage(input_tokens=12, output_tokens=5, cached_input_tokens=4, reasoning_tokens=1),
        error=ErrorInfo("APIError", "boom", 500),
        status="error",
        stream=True,
        time_to_first_token_s=0.1,
        tags=["x"],
        metadata={"k": "v"},
    )

    with Store(store_with(tmp_path / "llmtap.db", rec)) as store:
        data = store.get("a1")
    assert data is not None

    assert as_record(data).to_dict() == rec.to_dict()


def test_as_record_ignores_keys_a_newer_llmtap_added() -> None:
    data = {**record("a1").to_dict(), "added_later": 1}

    assert as_record(data).to_dict() == record("a1").to_dict()
