"""The default exporter: one SQLite file per project, queryable with plain SQL.

Summary fields get their own indexed columns so the command line can filter and sort
without parsing JSON; the full record is kept in `data` so nothing is ever lost to the
column choice. Records hold prompts and outputs, so the file is owner-only.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from llmtap.exporters.encoding import encode_json, record_json
from llmtap.record import Record
from llmtap.store import SCHEMA_VERSION, StoreError, check_schema_version, default_db_path

__all__ = ["SCHEMA_VERSION", "SQLiteExporter", "StoreError", "default_db_path"]

_BUSY_TIMEOUT_S = 5.0
"""How long to wait for another process writing the same project store."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        id TEXT PRIMARY KEY,
        trace_id TEXT NOT NULL,
        parent_id TEXT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        operation TEXT,
        provider TEXT,
        request_model TEXT,
        response_model TEXT,
        status TEXT NOT NULL,
        start_time REAL NOT NULL,
        end_time REAL,
        duration_s REAL,
        time_to_first_token_s REAL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cached_input_tokens INTEGER,
        reasoning_tokens INTEGER,
        cost_usd REAL,
        thread_id TEXT,
        user_id TEXT,
        data TEXT NOT NULL
    )""",
    *(
        f"CREATE INDEX IF NOT EXISTS records_{column} ON records ({column})"
        for column in (
            "start_time",
            "response_model",
            "request_model",
            "provider",
            "trace_id",
            "thread_id",
        )
    ),
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)

_SUMMARY_INDEX = (
    # Covers `llmtap stats`: its scan reads this index (~100 bytes a record) instead of the
    # records themselves (~3 KB each). Not a schema change, so not a version bump: stores
    # written before it get it on their next connection.
    "CREATE INDEX IF NOT EXISTS records_summary ON records (kind, start_time, provider, "
    "response_model, request_model, status, duration_s, time_to_first_token_s, "
    "input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, cost_usd)"
)

_INSERT = f"INSERT OR REPLACE INTO records VALUES ({', '.join('?' * 22)})"


def _row(record: Record) -> tuple[object, ...]:
    usage = record.usage
    return (
        record.id,
        record.trace_id,
        record.parent_id,
        record.name,
        record.kind,
        record.operation,
        record.provider,
        record.request_model,
        record.response_model,
        record.status,
        record.start_time,
        record.end_time,
        record.duration_s,
        record.time_to_first_token_s,
        usage.input_tokens,
        usage.output_tokens,
        usage.cached_input_tokens,
        usage.reasoning_tokens,
        record.cost_usd,
        record.thread_id,
        record.user_id,
        record_json(record),
    )


_SQLITE_INTEGER = range(-(2**63), 2**63)


def _bindable(value: object) -> object:
    """`value` as SQLite can store it in a summary column: other objects as JSON text, an
    integer too large for SQLite as NULL (the full record in `data` keeps it)."""
    if value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if value in _SQLITE_INTEGER else None
    return encode_json(value)


def _create_private(path: Path) -> None:
    """Make sure the file exists owner-only before SQLite (which uses 0o644) creates it."""
    with contextlib.suppress(FileExistsError):
        path.parent.mkdir(mode=0o700, parents=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        loose = os.fstat(fd).st_mode & 0o077
    finally:
        os.close(fd)
    if loose:
        # A shared store owned by someone else keeps the mode its owner chose.
        with contextlib.suppress(PermissionError):
            os.chmod(path, 0o600)


class SQLiteExporter:
    """Appends batches to the store at `path` (default: `default_db_path()`)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        # Connections inherited across fork(): SQLite forbids using them in the child,
        # even to close them, so they are kept here instead of being garbage-collected.
        self._inherited: list[sqlite3.Connection] = []

    def export(self, records: Sequence[Record]) -> None:
        rows = [_row(record) for record in records]
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            try:
                conn.executemany(_INSERT, rows)
            except (sqlite3.ProgrammingError, sqlite3.InterfaceError, OverflowError):
                # A summary column holds a value SQLite cannot bind (a malformed response's
                # list as the model, a count beyond 64 bits): one such record must not
                # cost the batch. Rows already inserted are replaced, by id.
                conn.executemany(_INSERT, [tuple(map(_bindable, row)) for row in rows])
        except BaseException:
            conn.rollback()
            raise
        conn.execute("COMMIT")

    def shutdown(self) -> None:
        self._release()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._release()
            self._conn = self._connect()
            self._pid = os.getpid()
        return self._conn

    def _release(self) -> None:
        if self._conn is None:
            return
        if self._pid == os.getpid():
            self._conn.close()
        else:
            self._inherited.append(self._conn)
        self._conn = None

    def _connect(self) -> sqlite3.Connection:
        _create_private(self.path)
        # check_same_thread=False: shutdown() may run on another thread than export().
        conn = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            # Checked first, so a newer llmtap's file keeps its journal mode and tables.
            version = check_schema_version(conn, self.path)
            if version == 0:
                # Only a new file takes a page size. A record is ~2-3 KB of JSON, so 4 KiB
                # pages hold one each; 8 KiB pages hold three: 38% faster inserts measured,
                # and a smaller file.
                conn.execute("PRAGMA page_size = 8192")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint the WAL every ~16 MiB rather than every 4 MiB: checkpoints run
            # inside COMMIT on the export worker and were a third of the insert cost.
            conn.execute("PRAGMA wal_autocheckpoint = 4096")
            conn.execute("BEGIN IMMEDIATE")
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA:
                    conn.execute(statement)
            conn.execute(_SUMMARY_INDEX)
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        return conn
