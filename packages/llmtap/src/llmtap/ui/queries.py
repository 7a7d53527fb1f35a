"""What the UI's JSON API reads from the store: traces, one trace, a thread, the dashboard.

Every query is bounded so a page stays fast on a store of millions of records:
- The trace list walks root records (`parent_id IS NULL`, one per trace) newest first on
  the `start_time` index and pages by keyset (`start_time`, `rowid`), so a deep page is one
  seek, never an OFFSET.
- Filters on what a trace holds (provider, model, status, tag, user, text) are checked per
  candidate root, through the `trace_id` index. At most `SCAN_BUDGET` roots are examined
  per request: when the page is not full by then, the answer is marked `partial` and its
  cursor continues the search further back, so a rare match costs "load more" clicks,
  never an unbounded scan.
- The dashboard reuses `summary.summarise` once per time bucket, over the covering
  `records_summary` index.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from llmtap.record import iso_utc
from llmtap.store import Store
from llmtap.summary import summarise

PAGE = 50
SCAN_BUDGET = 20_000
"""Root records examined per trace-list request, at most."""

THREAD_LIMIT = 2_000
"""Records shown for one thread, oldest first."""

STATUSES = ("ok", "error", "incomplete")

_BUCKETS_S = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
_MAX_BUCKETS = 60

_TRACE_STATUS = {
    # A trace's status is its worst record's: an error anywhere, else a cut-off record.
    "error": "EXISTS (SELECT 1 FROM records m WHERE m.trace_id = c.tid AND m.status = 'error')",
    "incomplete": (
        "EXISTS (SELECT 1 FROM records m WHERE m.trace_id = c.tid AND m.status = 'incomplete') "
        "AND NOT EXISTS (SELECT 1 FROM records m WHERE m.trace_id = c.tid "
        "AND m.status = 'error')"
    ),
    "ok": "NOT EXISTS (SELECT 1 FROM records m WHERE m.trace_id = c.tid AND m.status != 'ok')",
}

_SEARCHED = "json_extract(m.data, '$.input', '$.output', '$.system_instructions')"


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """The list's filters; None means "any"."""

    since: float | None = None
    until: float | None = None
    provider: str | None = None
    model: str | None = None
    status: str | None = None
    tag: str | None = None
    thread: str | None = None
    user: str | None = None
    q: str | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")


Cursor = tuple[float, int]
"""Where a page ends: the last root's (`start_time`, `rowid`); the next page is older."""


def parse_cursor(text: str) -> Cursor:
    start, _, rowid = text.partition(":")
    try:
        return float(start), int(rowid)
    except ValueError:
        raise ValueError(f"bad cursor {text!r}") from None


def _cursor(key: Cursor) -> str:
    return f"{key[0]!r}:{key[1]}"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_terms(text: str) -> list[str]:
    """LIKE patterns for `text` as stored JSON spells it: as is, and with non-ASCII
    characters escaped (the standard library's encoder writes `\\u00e9`, orjson `é`)."""
    forms = {json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}
    return [_like(form) for form in sorted(forms)]


def _candidates(f: TraceFilter, after: Cursor | None) -> tuple[str, list[object]]:
    """Root records newest first, narrowed only by indexed conditions."""
    terms = ["parent_id IS NULL"]
    params: list[object] = []
    if f.since is not None:
        terms.append("start_time >= ?")
        params.append(f.since)
    if f.until is not None:
        terms.append("start_time < ?")
        params.append(f.until)
    if f.thread is not None:
        terms.append("thread_id = ?")
        params.append(f.thread)
    if after is not None:
        terms.append("(start_time, rowid) < (?, ?)")
        params.extend(after)
    sql = (
        "SELECT rowid AS rid, start_time AS st, trace_id AS tid FROM records "
        f"WHERE {' AND '.join(terms)} ORDER BY start_time DESC, rowid DESC LIMIT ?"
    )
    return sql, params


def _checks(f: TraceFilter) -> tuple[list[str], list[object]]:
    """Per-candidate conditions on the whole trace (any record in it matches)."""
    terms: list[str] = []
    params: list[object] = []
    within = "EXISTS (SELECT 1 FROM records m WHERE m.trace_id = c.tid AND ({}))"
    if f.provider is not None:
        terms.append(within.format("m.provider = ?"))
        params.append(f.provider)
    if f.model is not None:
        terms.append(within.format("? IN (m.response_model, m.request_model)"))
        params.append(f.model)
    if f.user is not None:
        terms.append(within.format("m.user_id = ?"))
        params.append(f.user)
    if f.tag is not None:
        terms.append(within.format("? IN (SELECT value FROM json_each(m.data, '$.tags'))"))
        params.append(f.tag)
    if f.q:
        # The raw JSON first: a plain LIKE over the text rules out most records without
        # parsing them; only a record that contains the words has its messages extracted.
        patterns = _search_terms(f.q)
        anywhere = " OR ".join("m.data LIKE ? ESCAPE '\\'" for _ in patterns)
        messages = " OR ".join(f"{_SEARCHED} LIKE ? ESCAPE '\\'" for _ in patterns)
        terms.append(within.format(f"({anywhere}) AND ({messages})"))
        params.extend([*patterns, *patterns])
    if f.status is not None:
        terms.append(_TRACE_STATUS[f.status])
    return terms, params


def list_traces(
    store: Store,
    f: TraceFilter,
    after: Cursor | None = None,
    limit: int = PAGE,
    budget: int = SCAN_BUDGET,
) -> dict[str, Any]:
    """One page of traces, newest first, each its root record with the trace's totals."""
    candidates, params = _candidates(f, after)
    checks, check_params = _checks(f)
    where = " AND ".join(checks) or "1"
    rows = store.query(
        f"SELECT c.rid, c.st FROM ({candidates}) AS c WHERE {where} LIMIT ?",
        (*params, budget, *check_params, limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
    partial = False
    next_key: Cursor | None = (rows[-1][1], rows[-1][0]) if more else None
    if not more:
        # Did the search stop at its budget rather than at the end of the store?
        last = store.query(
            f"SELECT st, rid FROM ({candidates}) LIMIT 1 OFFSET ?", (*params, budget, budget - 1)
        )
        if last:
            partial = True
            next_key = (last[0][0], last[0][1])
    return {
        "traces": _trace_rows(store, [rid for rid, _ in rows]),
        "next": None if next_key is None else _cursor(next_key),
        "partial": partial,
        "searched_to": iso_utc(next_key[0]) if partial and next_key else None,
    }


_ROOT_COLUMNS = (
    "rowid, id, trace_id, name, kind, provider, coalesce(response_model, request_model), "
    "status, start_time, duration_s, thread_id, user_id, json_extract(data, '$.tags')"
)

_TOTALS = (
    "SELECT trace_id, count(*), sum(kind = 'generation'), "
    "sum(input_tokens) FILTER (WHERE kind = 'generation'), "
    "sum(output_tokens) FILTER (WHERE kind = 'generation'), "
    "sum(cached_input_tokens) FILTER (WHERE kind = 'generation'), "
    "sum(reasoning_tokens) FILTER (WHERE kind = 'generation'), "
    "sum(cost_usd) FILTER (WHERE kind = 'generation'), "
    "count(*) FILTER (WHERE kind = 'generation' AND cost_usd IS NULL), "
    "sum(status = 'error'), "
    "max(CASE status WHEN 'error' THEN 2 WHEN 'incomplete' THEN 1 ELSE 0 END), "
    "json_group_array(DISTINCT coalesce(response_model, request_model)) "
    "FILTER (WHERE kind = 'generation'), "
    "json_group_array(DISTINCT provider) FILTER (WHERE kind = 'generation') "
    "FROM records WHERE trace_id IN ({}) GROUP BY trace_id"
)


def _trace_rows(store: Store, rowids: list[int]) -> list[dict[str, Any]]:
    if not rowids:
        return []
    marks = ",".join("?" * len(rowids))
    roots = store.query(
        f"SELECT {_ROOT_COLUMNS} FROM records WHERE rowid IN ({marks})", tuple(rowids)
    )
    by_rowid = {row[0]: row for row in roots}
    trace_ids = sorted({row[2] for row in roots})
    totals = {
        row[0]: row
        for row in store.query(_TOTALS.format(",".join("?" * len(trace_ids))), tuple(trace_ids))
    }
    return [_trace_row(by_rowid[rid], totals[by_rowid[rid][2]]) for rid in rowids]


def _trace_row(root: tuple[Any, ...], totals: tuple[Any, ...]) -> dict[str, Any]:
    _, ident, trace_id, name, kind, provider, model, status, start, duration = root[:10]
    thread_id, user_id, tags = root[10:]
    records, calls, tin, tout, cached, reasoning, cost, unpriced, errors, worst = totals[1:11]
    return {
        "trace_id": trace_id,
        "id": ident,
        "name": name,
        "kind": kind,
        "provider": provider,
        "model": model,
        "root_status": status,
        "status": STATUSES[(0, 2, 1)[worst]] if worst is not None else status,
        "start_time": iso_utc(start),
        "duration_s": duration,
        "thread_id": thread_id,
        "user_id": user_id,
        "tags": json.loads(tags) if tags else [],
        "records": records,
        "calls": calls,
        "errors": errors,
        "input_tokens": tin,
        "output_tokens": tout,
        "cached_input_tokens": cached,
        "reasoning_tokens": reasoning,
        "cost_usd": cost,
        "calls_without_cost": unpriced,
        "models": [m for m in json.loads(totals[11] or "[]") if m],
        "providers": [p for p in json.loads(totals[12] or "[]") if p],
    }


def trace(store: Store, trace_id: str) -> dict[str, Any]:
    """Every record of a trace, in start order; LookupError when there is none."""
    records = store.trace(trace_id)
    if not records:
        raise LookupError(f"no trace {trace_id}")
    return {"trace_id": trace_id, "records": records}


def thread(store: Store, thread_id: str, limit: int = THREAD_LIMIT) -> dict[str, Any]:
    """A conversation's records oldest first, through the `thread_id` index."""
    rows = store.query(
        "SELECT data FROM records WHERE thread_id = ? ORDER BY start_time, rowid LIMIT ?",
        (thread_id, limit + 1),
    )
    if not rows:
        raise LookupError(f"no thread {thread_id}")
    return {
        "thread_id": thread_id,
        "records": [json.loads(data) for (data,) in rows[:limit]],
        "truncated": len(rows) > limit,
    }


def bucket_size(since: float, until: float) -> int:
    """The smallest round bucket that splits the window into at most 60 points."""
    span = max(until - since, 1.0)
    for size in _BUCKETS_S:
        if span / size <= _MAX_BUCKETS:
            return size
    return math.ceil(span / _MAX_BUCKETS / 86400) * 86400


_FIGURES = (
    "calls",
    "errors",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "cost_usd",
)


Bucket = dict[str, dict[str, Any]]
"""One time bucket's figures per model."""


def _bucket(store: Store, since: float, until: float) -> Bucket:
    groups, _ = summarise(store, since, until, by="model")
    return {
        group.model: {
            **{name: getattr(group, name) for name in _FIGURES},
            "latency_p50": group.latency_s.get(50),
            "latency_p95": group.latency_s.get(95),
            "ttft_p50": group.ttft_s.get(50),
            "ttft_p95": group.ttft_s.get(95),
        }
        for group in groups
    }


class BucketCache:
    """Whole buckets' figures kept between dashboard requests, so only new time is scanned.

    A record can land in a past bucket (it is written when it ends, stamped when it
    started), so each request first reads the earliest start among records written since
    the last look (rowids grow with every insert: one seek) and drops every bucket that
    ends after it. What is kept is therefore exactly what a fresh scan would return.
    """

    MAX_BUCKETS = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rowid = 0
        self._buckets: dict[tuple[float, float], Bucket] = {}

    def refresh(self, store: Store) -> None:
        last = store.last_rowid()
        with self._lock:
            if last == self._rowid:
                return
            if last < self._rowid or len(self._buckets) > self.MAX_BUCKETS:
                self._buckets.clear()  # another store, or a vacuumed one
            else:
                (earliest,) = store.query(
                    "SELECT min(start_time) FROM records WHERE rowid > ?", (self._rowid,)
                )[0]
                for key in [k for k in self._buckets if earliest is None or k[1] > earliest]:
                    del self._buckets[key]
            self._rowid = last

    def get(self, store: Store, since: float, until: float) -> Bucket:
        with self._lock:
            found = self._buckets.get((since, until))
        if found is None:
            found = _bucket(store, since, until)
            with self._lock:
                self._buckets[(since, until)] = found
        return found


def dashboard(
    store: Store,
    since: float | None,
    until: float | None,
    now: float | None = None,
    cache: BucketCache | None = None,
) -> dict[str, Any]:
    """Per model and time bucket: calls, errors, tokens, cost, p50/p95 latency and TTFT.

    Each bucket is one `summarise` scan of the covering index over its own time range,
    so the figures are exactly `llmtap stats`'s for that range. With a `cache`, whole
    buckets already computed are reused.
    """
    end = until if until is not None else (time.time() if now is None else now)
    start = since
    if start is None:
        first = store.query("SELECT min(start_time) FROM records")[0][0]
        start = first if first is not None else end - 86400
    size = bucket_size(start, end)
    # The window starts on a bucket boundary, so no chart opens on a half-empty bucket.
    start = math.floor(start / size) * size
    starts = [start + i * size for i in range(math.ceil((end - start) / size))]
    if cache is not None:
        cache.refresh(store)
    series: dict[str, list[dict[str, Any] | None]] = {}
    totals: dict[str, Any] = dict.fromkeys(_FIGURES, None)
    for index, bucket in enumerate(starts):
        low, high = max(bucket, start), min(bucket + size, end)
        whole = cache is not None and (low, high) == (bucket, bucket + size)
        figures = cache.get(store, low, high) if cache and whole else _bucket(store, low, high)
        for model, point in figures.items():
            series.setdefault(model, [None] * len(starts))[index] = point
            for name in _FIGURES:
                if point[name] is not None:
                    totals[name] = (totals[name] or 0) + point[name]
    return {
        "since": iso_utc(start),
        "until": iso_utc(end),
        "bucket_s": size,
        "buckets": starts,
        "models": sorted(series, key=lambda m: -sum(p["calls"] for p in series[m] if p)),
        "series": series,
        "total": totals,
    }


def _distinct(store: Store, column: str, cap: int = 200) -> list[str]:
    """Distinct values of an indexed column: one index seek per value, not a scan."""
    values: list[str] = []
    while len(values) < cap:
        if values:
            found = store.query(
                f"SELECT min({column}) FROM records WHERE {column} > ?", (values[-1],)
            )
        else:
            found = store.query(f"SELECT min({column}) FROM records")
        if found[0][0] is None:
            break
        values.append(found[0][0])
    return values


def facets(store: Store, recent: int = 2_000) -> dict[str, Any]:
    """Choices for the filters: every provider and model, and tags, threads and users
    seen in the most recent records (those have no index to list them all from)."""
    newest = store.query(
        "SELECT thread_id, user_id, json_extract(data, '$.tags') FROM records "
        "ORDER BY start_time DESC LIMIT ?",
        (recent,),
    )
    threads = list(dict.fromkeys(t for t, _, _ in newest if t))
    users = list(dict.fromkeys(u for _, u, _ in newest if u))
    tags = sorted({tag for _, _, t in newest if t for tag in json.loads(t)})
    models = set(_distinct(store, "response_model")) | set(_distinct(store, "request_model"))
    return {
        "store": str(store.path),
        "providers": _distinct(store, "provider"),
        "models": sorted(models),
        "statuses": list(STATUSES),
        "tags": tags,
        "threads": threads[:100],
        "users": users[:100],
    }


def changes(store: Store) -> dict[str, int]:
    """The newest rowid: the page polls it and reloads when it moves."""
    return {"last_rowid": store.last_rowid()}
