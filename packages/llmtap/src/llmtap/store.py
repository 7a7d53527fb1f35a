"""Read side of the SQLite store, for the command line and the demo.

The store is opened read-only so that looking at records can never lock out, or damage,
the process that is writing them. Every failure becomes a `StoreError` whose message
tells the user what is wrong and what to do, because the command line shows it as is.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from llmtap.losses import ProcessLosses, read_losses
from llmtap.record import ErrorInfo, Record, Usage

_T = TypeVar("_T")

SCHEMA_VERSION = 1
"""Layout of the `records` table, kept in `PRAGMA user_version`."""


class StoreError(Exception):
    """The store cannot be used; the message is written for the user."""


def default_db_path() -> Path:
    """`$LLMTAP_DB`, else `./.llmtap/llmtap.db`: one store per project directory."""
    configured = os.environ.get("LLMTAP_DB")
    if configured:
        return Path(configured).expanduser().absolute()
    return Path.cwd() / ".llmtap" / "llmtap.db"


def check_schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """Return the file's schema version, refusing one written by a newer llmtap."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} uses llmtap store schema version {version}, but this llmtap only "
            f"understands version {SCHEMA_VERSION}. Upgrade llmtap "
            "(pip install --upgrade llmtap) to the version that wrote it, "
            "or set LLMTAP_DB to use a different file."
        )
    return version


def _no_records(path: Path) -> StoreError:
    return StoreError(
        f"No llmtap records yet: {path} has none. Run `llmtap demo` to record a few, "
        "or set LLMTAP_DB to the store your application writes."
    )


Row = tuple[int, dict[str, Any]]
"""A record's data with its rowid: insert order, which `llmtap tail` follows."""

_PREFIX_END = "\U0010ffff"
"""Appended to a prefix, the upper bound of an index range scan over ids starting with it."""


@dataclass(frozen=True, slots=True)
class StoreInfo:
    path: Path
    size_bytes: int
    schema_version: int
    records: int
    first_start: float | None
    last_start: float | None


_RECORD_FIELDS = {f.name for f in fields(Record)} - {"resolver"}
_USAGE_FIELDS = {f.name for f in fields(Usage)}


def as_record(data: dict[str, Any]) -> Record:
    """A stored record's data back as a `Record`, to replay it through any exporter.

    Derived keys (`total_tokens`, `output_tokens_per_s`) are recomputed by the Record, and
    keys a newer llmtap added are left out rather than failing the replay.
    """
    values = {key: value for key, value in data.items() if key in _RECORD_FIELDS}
    values["usage"] = Usage(
        **{k: v for k, v in (data.get("usage") or {}).items() if k in _USAGE_FIELDS}
    )
    error = data.get("error")
    values["error"] = None if error is None else ErrorInfo(**error)
    for key in ("start_time", "end_time"):
        if values.get(key) is not None:
            values[key] = dt.datetime.fromisoformat(values[key]).timestamp()
    return Record(**values)


def window_clause(since: float | None, until: float | None) -> tuple[str, tuple[float, ...]]:
    """`start_time` bounds as SQL on the indexed column: `[since, until)`."""
    terms, params = [], []
    if since is not None:
        terms.append("start_time >= ?")
        params.append(since)
    if until is not None:
        terms.append("start_time < ?")
        params.append(until)
    return " AND ".join(terms) or "1", tuple(params)


class Store:
    """Read-only view of a store file: records come back as their `to_dict()` data."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if not self.path.is_file():
            raise _no_records(self.path)
        uri = self.path.absolute().as_uri() + "?mode=ro"
        self._conn = self._guard(lambda: sqlite3.connect(uri, uri=True))
        try:
            version = self._guard(lambda: check_schema_version(self._conn, self.path))
        except StoreError:
            self._conn.close()
            raise
        if version == 0:
            # The file exists but no batch was ever written to it.
            self._conn.close()
            raise _no_records(self.path)
        self.schema_version = version

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The newest records first (by start time)."""
        return self._records(
            "SELECT data FROM records ORDER BY start_time DESC, rowid DESC LIMIT ?", (limit,)
        )

    def get(self, record_id: str) -> dict[str, Any] | None:
        found = self._records("SELECT data FROM records WHERE id = ?", (record_id,))
        return found[0] if found else None

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Every record of one trace, in the order they started."""
        return self._records(
            "SELECT data FROM records WHERE trace_id = ? ORDER BY start_time, rowid",
            (trace_id,),
        )

    def resolve(self, text: str, *, trace_only: bool = False) -> tuple[str, str]:
        """`("record" | "trace", full id)` for an id or a unique prefix of one.

        An exact id wins over prefixes. LookupError says what matched instead.
        """
        if not text:
            raise LookupError("Give a record id, a trace id, or the first characters of one.")
        found = [] if trace_only else [("record", i) for i in self._starting("id", text)]
        found += [("trace", i) for i in self._starting("trace_id", text)]
        exact = [match for match in found if match[1] == text]
        if len(exact) == 1 or (exact and trace_only):
            return exact[0]
        if len(found) == 1:
            return found[0]
        what = "trace" if trace_only else "record or trace"
        if not found:
            raise LookupError(f"No {what} id starts with {text!r} in {self.path}.")
        shown = ", ".join(f"{kind} {ident}" for kind, ident in found[:5])
        more = " and more" if len(found) > 5 else ""
        raise LookupError(
            f"{text!r} starts more than one {what} id ({shown}{more}); type more of it."
        )

    def last(self, limit: int) -> list[Row]:
        """The `limit` most recently written records, oldest first."""
        rows = self._rows("SELECT rowid, data FROM records ORDER BY rowid DESC LIMIT ?", (limit,))
        return rows[::-1]

    def after(self, rowid: int, limit: int = 1000) -> list[Row]:
        """Records written after `rowid`, in write order: one seek on the table's own key."""
        return self._rows(
            "SELECT rowid, data FROM records WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (rowid, limit),
        )

    def last_rowid(self) -> int:
        rowid: int | None = self.query("SELECT max(rowid) FROM records")[0][0]
        return rowid or 0

    def count(self, since: float | None = None, until: float | None = None) -> int:
        where, params = window_clause(since, until)
        count: int = self.query(f"SELECT count(*) FROM records WHERE {where}", params)[0][0]
        return count

    def scan(self, since: float | None = None, until: float | None = None) -> Iterator[str]:
        """Each record's stored JSON text, in start order, read lazily for large exports."""
        where, params = window_clause(since, until)
        cursor = self._guard(
            lambda: self._conn.execute(
                f"SELECT data FROM records WHERE {where} ORDER BY start_time, rowid", params
            )
        )
        while True:
            rows = self._guard(lambda: cursor.fetchmany(1000))
            if not rows:
                return
            for (data,) in rows:
                yield data

    def info(self) -> StoreInfo:
        first, last = self.query("SELECT min(start_time), max(start_time) FROM records")[0]
        wal = self.path.with_name(self.path.name + "-wal")
        size = self.path.stat().st_size + (wal.stat().st_size if wal.is_file() else 0)
        return StoreInfo(self.path, size, self.schema_version, self.count(), first, last)

    def losses(self, since: float | None = None) -> list[ProcessLosses]:
        """Processes that reported lost records or faults into this store since `since`."""
        return self._guard(lambda: read_losses(self._conn, since))

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only SQL query, with SQLite's errors made readable."""
        return self._guard(lambda: self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _starting(self, column: str, prefix: str) -> list[str]:
        return [
            ident
            for (ident,) in self.query(
                f"SELECT DISTINCT {column} FROM records WHERE {column} >= ? AND {column} < ? "
                "LIMIT 6",
                (prefix, prefix + _PREFIX_END),
            )
        ]

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[Row]:
        return [(rowid, json.loads(data)) for rowid, data in self.query(sql, params)]

    def _records(self, sql: str, params: tuple[object, ...]) -> list[dict[str, Any]]:
        return [json.loads(data) for (data,) in self.query(sql, params)]

    def _guard(self, query: Callable[[], _T]) -> _T:
        """Turn SQLite's errors (e.g. "file is not a database") into a `StoreError`."""
        try:
            return query()
        except sqlite3.ProgrammingError:
            raise  # misuse, such as reading a closed store: a bug, not a bad file
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a readable llmtap store: {exc}.") from exc
