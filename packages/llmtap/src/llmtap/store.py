"""Read side of the SQLite store, for the command line and the demo.

The store is opened read-only so that looking at records can never lock out, or damage,
the process that is writing them. Every failure becomes a `StoreError` whose message
tells the user what is wrong and what to do, because the command line shows it as is.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

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

    def count(self) -> int:
        count: int = self._guard(
            lambda: self._conn.execute("SELECT count(*) FROM records").fetchone()[0]
        )
        return count

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

    def _records(self, sql: str, params: tuple[object, ...]) -> list[dict[str, Any]]:
        rows = self._guard(lambda: self._conn.execute(sql, params).fetchall())
        return [json.loads(data) for (data,) in rows]

    def _guard(self, query: Callable[[], _T]) -> _T:
        """Turn SQLite's errors (e.g. "file is not a database") into a `StoreError`."""
        try:
            return query()
        except sqlite3.ProgrammingError:
            raise  # misuse, such as reading a closed store: a bug, not a bad file
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a readable llmtap store: {exc}.") from exc
