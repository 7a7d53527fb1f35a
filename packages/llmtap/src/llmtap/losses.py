"""What each process lost, written into the store so `llmtap doctor` can report it.

`llmtap.stats()` lives inside the application's process; the doctor runs in another one.
So when a process drops records (a full queue), fails to export them (a full disk, a
locked store, a raising exporter), or counts internal faults, the worker writes its
counters into a small `losses` table of the store it exports to: one row per process,
replaced as the counts change. Losses are rare, so this costs nothing on the happy path.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """CREATE TABLE IF NOT EXISTS losses (
    process TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    program TEXT NOT NULL,
    started REAL NOT NULL,
    updated REAL NOT NULL,
    lost INTEGER NOT NULL,
    faults INTEGER NOT NULL,
    data TEXT NOT NULL
)"""

_UPSERT = "INSERT OR REPLACE INTO losses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"

_BUSY_TIMEOUT_S = 0.2
"""Short: the ledger must not hold up the worker behind a locked store; it retries later."""

LOSS_KEYS = ("dropped", "lost_at_exit")
"""Counters of records that never reached any exporter."""


def records_lost(stats: Mapping[str, Any]) -> int:
    """Records that some exporter never received: dropped, failed, or stranded at exit."""
    failed = stats.get("export_failures") or {}
    return sum(int(stats.get(key) or 0) for key in LOSS_KEYS) + sum(map(int, failed.values()))


def fault_total(stats: Mapping[str, Any]) -> int:
    return sum(map(int, (stats.get("faults") or {}).values()))


class LossLedger:
    """Writes one process's counters into the `losses` table of its stores."""

    def __init__(self) -> None:
        self._pid = 0
        self._process = ""
        self._started = 0.0

    def write(self, path: Path, stats: Mapping[str, Any]) -> None:
        """Record `stats` for this process in the store at `path`; raises on failure.

        Only an existing store gets a ledger: the records exporter creates and lays out
        the file, and a store it never managed to create has nothing to tell the doctor.
        """
        if not path.is_file():
            return
        self._identify()
        conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                return
            conn.execute(_SCHEMA)
            conn.execute(
                _UPSERT,
                (
                    self._process,
                    self._pid,
                    socket.gethostname(),
                    _program(),
                    self._started,
                    time.time(),
                    records_lost(stats),
                    fault_total(stats),
                    json.dumps(stats, sort_keys=True),
                ),
            )
        finally:
            conn.close()

    def _identify(self) -> None:
        # After fork the child is a process of its own, with its own row.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._started = time.time()
            self._process = f"{socket.gethostname()}:{self._pid}:{self._started:.6f}"


def _program() -> str:
    argv = sys.argv or [""]
    return " ".join(argv)[:200] or sys.executable


@dataclass(frozen=True, slots=True)
class ProcessLosses:
    """One process's row of the ledger, as the doctor shows it."""

    pid: int
    host: str
    program: str
    started: float
    updated: float
    lost: int
    faults: int
    stats: dict[str, Any]


def read_losses(conn: sqlite3.Connection, since: float | None = None) -> list[ProcessLosses]:
    """Rows of processes that lost records or hit faults, newest first; [] without a ledger."""
    try:
        rows = conn.execute(
            "SELECT pid, host, program, started, updated, lost, faults, data FROM losses "
            "WHERE (lost > 0 OR faults > 0) AND updated >= ? ORDER BY updated DESC",
            (since if since is not None else 0.0,),
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [
        ProcessLosses(pid, host, program, started, updated, lost, faults, json.loads(data))
        for pid, host, program, started, updated, lost, faults, data in rows
    ]
