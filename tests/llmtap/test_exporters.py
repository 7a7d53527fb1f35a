"""Exporters: what each one writes, where, and with which permissions."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sqlite3
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from llmtap.exporters import (
    ConsoleExporter,
    Exporter,
    JSONLExporter,
    MemoryExporter,
    SQLiteExporter,
    default_db_path,
)
from llmtap.record import ErrorInfo, Record, Usage
from llmtap.store import StoreError

START = 1795313248.123456  # 2026-11-22T02:07:28.123456Z


def full_record(**changes: Any) -> Record:
    """A record with every field set to something other than its default."""
    fields: dict[str, Any] = {
        "id": "a1",
        "trace_id": "t1",
        "name": "chat gpt-4o-mini",
        "kind": "generation",
        "parent_id": "p1",
        "operation": "chat",
        "provider": "openai",
        "integration": "openai",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "response_id": "chatcmpl-1",
        "input": [{"role": "user", "parts": [{"type": "text", "content": "Say hi"}]}],
        "output": [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Hi!"}],
                "finish_reason": "stop",
            }
        ],
        "system_instructions": [{"type": "text", "content": "Be brief."}],
        "settings": {"temperature": 0.2, "max_tokens": 64},
        "tools": [{"type": "function", "name": "lookup"}],
        "tool_calls": [{"id": "call_1", "name": "lookup", "arguments": {"q": "x"}}],
        "finish_reason": "stop",
        "usage": Usage(
            input_tokens=12,
            output_tokens=5,
            cached_input_tokens=4,
            cache_creation_input_tokens=2,
            reasoning_tokens=1,
        ),
        "stream": True,
        "chunks": 3,
        "start_time": START,
        "end_time": START + 0.412,
        "duration_s": 0.412,
        "time_to_first_token_s": 0.101,
        "cost_usd": 0.0000123,
        "status": "error",
        "error": ErrorInfo(type="APIError", message="stream cut", status_code=500),
        "tags": ["demo"],
        "metadata": {"feature": "greeting"},
        "thread_id": "th1",
        "user_id": "u1",
        "server_address": "api.openai.com",
        "provider_usage": {"prompt_tokens": 12},
        "usage_estimated": True,
        "environment": "test",
        "release": "1.2.3",
    }
    fields.update(changes)
    return Record(**fields)


def record(id: str = "a1", **changes: Any) -> Record:
    fields: dict[str, Any] = {"trace_id": "t1", "name": "chat gpt-4o", "start_time": START}
    return Record(id=id, **{**fields, **changes})


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[sqlite3.Connection]]:
    """Every connection `sqlite3.connect` opens during the test, closed afterwards."""
    opened: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    yield opened
    for conn in opened:
        conn.close()


def query(path: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def exported_to_sqlite(path: Path, *records: Record) -> Path:
    exporter = SQLiteExporter(path)
    exporter.export(records)
    exporter.shutdown()
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- every exporter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: SQLiteExporter(tmp / "llmtap.db"),
        lambda tmp: JSONLExporter(tmp / "llmtap.jsonl"),
        lambda tmp: ConsoleExporter(io.StringIO()),
        lambda tmp: MemoryExporter(),
    ],
    ids=["sqlite", "jsonl", "console", "memory"],
)
def test_every_exporter_implements_the_protocol(
    tmp_path: Path, make: Callable[[Path], object]
) -> None:
    assert isinstance(make(tmp_path), Exporter)


# -- SQLite --------------------------------------------------------------------------------


def test_sqlite_round_trip_keeps_every_field(tmp_path: Path) -> None:
    rec = full_record()
    path = exported_to_sqlite(tmp_path / "llmtap.db", rec)

    [(data,)] = query(path, "SELECT data FROM records")
    assert json.loads(data) == rec.to_dict()


def test_sqlite_fills_summary_columns_from_the_record(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", full_record())

    columns = query(
        path,
        "SELECT id, trace_id, parent_id, name, kind, operation, provider, request_model,"
        " response_model, status, start_time, end_time, duration_s, time_to_first_token_s,"
        " input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, cost_usd,"
        " thread_id, user_id FROM records",
    )
    assert columns == [
        (
            "a1",
            "t1",
            "p1",
            "chat gpt-4o-mini",
            "generation",
            "chat",
            "openai",
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
            "error",
            START,
            START + 0.412,
            0.412,
            0.101,
            12,
            5,
            4,
            1,
            0.0000123,
            "th1",
            "u1",
        )
    ]


def test_sqlite_writes_unserialisable_values_as_strings(tmp_path: Path) -> None:
    path = exported_to_sqlite(
        tmp_path / "llmtap.db", record(metadata={"where": Path("/srv/app"), ("a", "b"): 1})
    )

    [(data,)] = query(path, "SELECT data FROM records")
    assert json.loads(data)["metadata"] == {"where": "/srv/app"}


def test_sqlite_creates_the_database_file_owner_only(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", record())

    assert mode(path) == 0o600


def test_sqlite_tightens_an_existing_database_file_to_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    path.touch()
    path.chmod(0o644)

    exported_to_sqlite(path, record())

    assert mode(path) == 0o600


def test_sqlite_creates_a_missing_directory_owner_only(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / ".llmtap" / "llmtap.db", record())

    assert mode(path.parent) == 0o700


def test_sqlite_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", record())

    assert query(path, "PRAGMA journal_mode") == [("wal",)]


def test_sqlite_stamps_schema_version_1(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", record())

    assert query(path, "PRAGMA user_version") == [(1,)]


def summary_index_columns(path: Path) -> list[str]:
    return [
        column
        for (column,) in query(
            path, "SELECT name FROM pragma_index_info('records_summary') ORDER BY seqno"
        )
    ]


def test_sqlite_indexes_the_columns_the_command_line_filters_on(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", record())

    indexed = query(
        path,
        "SELECT info.name FROM sqlite_master AS m, pragma_index_info(m.name) AS info"
        " WHERE m.type = 'index' AND m.tbl_name = 'records' AND m.sql IS NOT NULL"
        " AND m.name != 'records_summary'",
    )
    assert sorted(indexed) == [
        ("provider",),
        ("request_model",),
        ("response_model",),
        ("start_time",),
        ("thread_id",),
        ("trace_id",),
    ]


def test_sqlite_covers_the_stats_scan_with_one_index(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", record())

    assert summary_index_columns(path) == [
        "kind",
        "start_time",
        "provider",
        "response_model",
        "request_model",
        "status",
        "duration_s",
        "time_to_first_token_s",
        "input_tokens",
        "output_tokens",
        "cached_input_tokens",
        "reasoning_tokens",
        "cost_usd",
    ]


def test_sqlite_adds_the_stats_index_to_a_store_written_before_it(tmp_path: Path) -> None:
    path = exported_to_sqlite(tmp_path / "llmtap.db", record())
    query(path, "DROP INDEX records_summary")

    exported_to_sqlite(path, record(id="a2"))

    assert summary_index_columns(path)[:2] == ["kind", "start_time"]


def test_sqlite_refuses_a_store_from_a_newer_llmtap(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    query(path, "PRAGMA user_version = 2")

    with pytest.raises(StoreError) as raised:
        SQLiteExporter(path).export([record()])

    assert str(raised.value) == (
        f"{path} uses llmtap store schema version 2, but this llmtap only understands "
        "version 1. Upgrade llmtap (pip install --upgrade llmtap) to the version that "
        "wrote it, or set LLMTAP_DB to use a different file."
    )


def test_sqlite_leaves_a_store_from_a_newer_llmtap_untouched(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    query(path, "PRAGMA user_version = 2")

    with pytest.raises(StoreError):
        SQLiteExporter(path).export([record()])

    assert query(path, "PRAGMA journal_mode") == [("delete",)]
    assert query(path, "SELECT name FROM sqlite_master") == []


def test_sqlite_replaces_a_record_exported_again_with_the_same_id(tmp_path: Path) -> None:
    path = exported_to_sqlite(
        tmp_path / "llmtap.db", record(status="incomplete"), record(status="ok")
    )

    assert query(path, "SELECT id, status FROM records") == [("a1", "ok")]


def test_sqlite_writes_nothing_from_a_batch_that_fails(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.db"
    exporter = SQLiteExporter(path)

    with pytest.raises(sqlite3.IntegrityError):  # NOT NULL: a record without a name
        exporter.export([record("a1"), record("a2", name=None)])
    exporter.shutdown()

    assert query(path, "SELECT count(*) FROM records") == [(0,)]


def test_sqlite_opens_the_database_only_when_the_first_batch_arrives(tmp_path: Path) -> None:
    SQLiteExporter(tmp_path / "llmtap.db")

    assert list(tmp_path.iterdir()) == []


def test_sqlite_reconnects_in_a_forked_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connections: list[sqlite3.Connection]
) -> None:
    exporter = SQLiteExporter(tmp_path / "llmtap.db")
    exporter.export([record("a1")])
    parent_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent_pid + 1)

    exporter.export([record("a2")])
    exporter.shutdown()

    assert len(connections) == 2
    assert query(tmp_path / "llmtap.db", "SELECT id FROM records ORDER BY id") == [
        ("a1",),
        ("a2",),
    ]


def test_sqlite_never_closes_a_connection_inherited_across_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connections: list[sqlite3.Connection]
) -> None:
    exporter = SQLiteExporter(tmp_path / "llmtap.db")
    exporter.export([record("a1")])
    parent_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: parent_pid + 1)

    exporter.export([record("a2")])
    exporter.shutdown()

    inherited = connections[0]
    assert inherited.execute("SELECT count(*) FROM records").fetchone() == (2,)


def test_sqlite_shutdown_closes_the_connection(
    tmp_path: Path, connections: list[sqlite3.Connection]
) -> None:
    exporter = SQLiteExporter(tmp_path / "llmtap.db")
    exporter.export([record()])

    exporter.shutdown()

    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connections[0].execute("SELECT 1")


def test_sqlite_can_shut_down_from_another_thread(tmp_path: Path) -> None:
    exporter = SQLiteExporter(tmp_path / "llmtap.db")
    worker = threading.Thread(target=exporter.export, args=([record()],))
    worker.start()
    worker.join()

    exporter.shutdown()


def test_sqlite_defaults_to_the_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLMTAP_DB", raising=False)
    monkeypatch.chdir(tmp_path)

    exporter = SQLiteExporter()
    exporter.export([record()])
    exporter.shutdown()

    assert (tmp_path / ".llmtap" / "llmtap.db").is_file()


def test_default_db_path_is_per_project_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLMTAP_DB", raising=False)
    monkeypatch.chdir(tmp_path)

    assert default_db_path() == tmp_path.resolve() / ".llmtap" / "llmtap.db"


def test_default_db_path_honours_llmtap_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_DB", str(tmp_path / "shared.db"))

    assert default_db_path() == tmp_path / "shared.db"


def test_default_db_path_resolves_a_relative_llmtap_db_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_DB", "data/llmtap.db")
    monkeypatch.chdir(tmp_path)

    assert default_db_path() == tmp_path.resolve() / "data" / "llmtap.db"


def test_default_db_path_ignores_an_empty_llmtap_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_DB", "")
    monkeypatch.chdir(tmp_path)

    assert default_db_path() == tmp_path.resolve() / ".llmtap" / "llmtap.db"


# -- JSON Lines ----------------------------------------------------------------------------


def test_jsonl_round_trip_keeps_every_field(tmp_path: Path) -> None:
    rec = full_record()
    exporter = JSONLExporter(tmp_path / "llmtap.jsonl")
    exporter.export([rec])
    exporter.shutdown()

    [line] = (tmp_path / "llmtap.jsonl").read_text().splitlines()
    assert json.loads(line) == rec.to_dict()


def test_jsonl_writes_one_compact_line_per_record(tmp_path: Path) -> None:
    first, second = record("a1"), record("a2")
    exporter = JSONLExporter(tmp_path / "llmtap.jsonl")
    exporter.export([first, second])
    exporter.shutdown()

    assert (tmp_path / "llmtap.jsonl").read_text() == "".join(
        json.dumps(r.to_dict(), separators=(",", ":")) + "\n" for r in (first, second)
    )


def test_jsonl_batch_is_on_disk_when_export_returns(tmp_path: Path) -> None:
    exporter = JSONLExporter(tmp_path / "llmtap.jsonl")

    exporter.export([record("a1")])

    assert len((tmp_path / "llmtap.jsonl").read_text().splitlines()) == 1
    exporter.shutdown()


def test_jsonl_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "llmtap.jsonl"
    path.write_text('{"id":"old"}\n')
    exporter = JSONLExporter(path)
    exporter.export([record("a1")])
    exporter.shutdown()

    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["old", "a1"]


def test_jsonl_creates_the_file_owner_only(tmp_path: Path) -> None:
    exporter = JSONLExporter(tmp_path / "llmtap.jsonl")
    exporter.export([record()])
    exporter.shutdown()

    assert mode(tmp_path / "llmtap.jsonl") == 0o600


def test_jsonl_writes_unserialisable_values_as_strings(tmp_path: Path) -> None:
    exporter = JSONLExporter(tmp_path / "llmtap.jsonl")
    exporter.export([record(metadata={"where": Path("/srv/app"), ("a", "b"): 1})])
    exporter.shutdown()

    line = (tmp_path / "llmtap.jsonl").read_text()
    assert json.loads(line)["metadata"] == {"where": "/srv/app"}


def test_jsonl_path_is_fixed_against_the_working_directory_at_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exporter = JSONLExporter("llmtap.jsonl")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")

    exporter.export([record()])
    exporter.shutdown()

    assert (tmp_path / "llmtap.jsonl").is_file()


# -- console -------------------------------------------------------------------------------

LOCAL_START = dt.datetime(2026, 11, 22, 2, 7, 28, 123000).timestamp()  # 02:07:28.123 here


def console_line(rec: Record) -> str:
    stream = io.StringIO()
    ConsoleExporter(stream).export([rec])
    return stream.getvalue()


def test_console_line_for_a_successful_generation() -> None:
    rec = record(
        provider="openai",
        operation="chat",
        request_model="gpt-4o-mini",
        response_model="gpt-4o-mini-2024-07-18",
        start_time=LOCAL_START,
        usage=Usage(input_tokens=12, output_tokens=5, cached_input_tokens=0),
        duration_s=0.412,
        time_to_first_token_s=0.101,
        output=[
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "Hello there! " * 6}],
                "finish_reason": "stop",
            }
        ],
    )

    assert console_line(rec) == (
        "02:07:28.123 openai chat gpt-4o-mini-2024-07-18 ok in=12 out=5 (cached=0)"
        ' 0.412s ttft=0.101s  "Hello there! Hello there! Hello there! Hello there! Hello th…"\n'
    )


def test_console_line_for_a_failed_generation() -> None:
    rec = record(
        provider="openai",
        operation="chat",
        request_model="gpt-4o",
        start_time=LOCAL_START,
        duration_s=1.25,
        status="error",
        error=ErrorInfo(type="RateLimitError", message="Rate limit reached", status_code=429),
    )

    assert console_line(rec) == (
        "02:07:28.123 openai chat gpt-4o error 1.250s  RateLimitError: Rate limit reached\n"
    )


def test_console_clips_long_output_to_one_line_of_60_characters() -> None:
    text = "line one\n" + "x" * 80
    rec = record(
        provider="openai",
        start_time=LOCAL_START,
        output=[{"role": "assistant", "parts": [{"type": "text", "content": text}]}],
    )

    assert console_line(rec) == (f'02:07:28.123 openai ok  "line one {"x" * 51}…"\n')


def test_console_line_for_a_span_names_its_kind_and_name() -> None:
    rec = Record(
        id="s1",
        trace_id="t1",
        name="search_docs",
        kind="tool",
        start_time=LOCAL_START,
        duration_s=0.05,
    )

    assert console_line(rec) == "02:07:28.123 tool search_docs ok 0.050s\n"


def test_console_shows_unreported_token_counts_as_question_marks() -> None:
    rec = record(provider="openai", start_time=LOCAL_START, usage=Usage(output_tokens=5))

    assert console_line(rec) == "02:07:28.123 openai ok in=? out=5\n"


def test_console_writes_to_stderr_as_it_is_at_write_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = ConsoleExporter()
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)

    exporter.export([record(provider="openai", start_time=LOCAL_START)])

    assert stderr.getvalue() == "02:07:28.123 openai ok\n"


# -- memory --------------------------------------------------------------------------------


def test_memory_keeps_records_in_export_order() -> None:
    first, second, third = record("a1"), record("a2"), record("a3")
    exporter = MemoryExporter()

    exporter.export([first, second])
    exporter.export([third])

    assert exporter.records == [first, second, third]


def test_memory_clear_forgets_every_record() -> None:
    exporter = MemoryExporter()
    exporter.export([record("a1"), record("a2")])

    exporter.clear()

    assert exporter.records == []


def test_memory_records_is_a_snapshot() -> None:
    exporter = MemoryExporter()
    exporter.export([record("a1")])
    snapshot = exporter.records

    exporter.export([record("a2")])

    assert [r.id for r in snapshot] == ["a1"]


def test_memory_keeps_every_record_exported_from_many_threads() -> None:
    exporter = MemoryExporter()

    def export_500(thread_number: int) -> None:
        for i in range(500):
            exporter.export([record(f"{thread_number}-{i}")])

    threads = [threading.Thread(target=export_500, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(exporter.records) == 4000


@pytest.mark.parametrize("fast", [False, True], ids=["stdlib", "orjson"])
def test_both_encoders_write_the_same_document(fast: bool) -> None:
    from llmtap.exporters import encoding

    if fast:
        pytest.importorskip("orjson")
    stdlib = encoding._stdlib_encoder()
    encode = encoding._orjson_encoder(stdlib) if fast else stdlib
    assert encode is not None
    value = {"text": "héllo \u2028", "n": 3, "f": 0.25, "none": None, "odd": object(), 7: "int"}

    document = json.loads(encode(value))

    assert document["text"] == "héllo \u2028"
    assert (document["n"], document["f"], document["none"]) == (3, 0.25, None)
    assert document["odd"].startswith("<object object at")
    assert document["7"] == "int"
    assert json.loads(encode({"kept": 1, (1, 2): "tuple keys are skipped"})) == {"kept": 1}


def test_a_new_sqlite_store_uses_8k_pages(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    SQLiteExporter(path).export([Record(id="p1", trace_id="t1", name="n")])

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (8192,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_stores_a_record_with_unbindable_summary_values_without_losing_the_batch(
    tmp_path: Path,
) -> None:
    odd = record("a1", name="odd", response_model=["not", "a", "string"], cost_usd=object())
    odd.usage.input_tokens = 2**70
    fine = record("a2", name="fine")
    path = tmp_path / "llmtap.db"
    SQLiteExporter(path).export([fine, odd])

    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, response_model, input_tokens, data FROM records ORDER BY name"
        ).fetchall()
    assert [(name, model, tokens) for name, model, tokens, _ in rows] == [
        ("fine", None, None),
        ("odd", '["not","a","string"]', None),
    ]
    assert json.loads(rows[1][3])["usage"]["input_tokens"] == 2**70  # the record keeps it
