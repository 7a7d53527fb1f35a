"""Per model and provider totals of a store's generations, for `llmtap stats`.

Only `generation` records are calls: a framework's `llm` step that handed its call to
a provider layer carries no tokens, and counting it would count the call twice.

Everything comes from one SQL scan over the summary columns. SQLite has no percentile
function, so each group's latencies come back joined in one string (`group_concat`, which
keeps 15 significant digits) and are ranked here by nearest rank: the smallest value with
at least p% of the values at or below it. On 1M records this measured 2.3 s and 99 MB,
against 3.2 s and 259 MB for a row per call; SQL window functions took 3.7x longer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal

from llmtap.store import Store, window_clause

GroupBy = Literal["model", "provider", "both"]
PERCENTILES = (50, 95, 99)

_MODEL = "coalesce(response_model, request_model, '')"
_PROVIDER = "coalesce(provider, '')"
_KEYS: dict[GroupBy, tuple[str, str]] = {
    "both": (_PROVIDER, _MODEL),
    "model": ("''", _MODEL),
    "provider": (_PROVIDER, "''"),
}
# The group key is an expression, so SQLite never picks the provider or model index
# for GROUP BY order over the start_time range, which measured 2x slower on 1M records.


@dataclass(slots=True)
class Group:
    provider: str
    model: str
    calls: int = 0
    errors: int = 0
    incomplete: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    calls_without_cost: int = 0
    latency_s: dict[int, float | None] = field(default_factory=dict)
    ttft_s: dict[int, float | None] = field(default_factory=dict)


def percentile(ordered: Sequence[float], p: int) -> float | None:
    """Nearest rank of sorted values: exact, and always a value that was measured."""
    if not ordered:
        return None
    return ordered[max(math.ceil(len(ordered) * p / 100), 1) - 1]


def summarise(
    store: Store,
    since: float | None = None,
    until: float | None = None,
    by: GroupBy = "both",
) -> tuple[list[Group], Group]:
    """Groups with the most calls first, and the total over all of them."""
    where, params = window_clause(since, until)
    first, second = _KEYS[by]
    rows = store.query(
        f"SELECT {first}, {second}, count(*), sum(status = 'error'), "
        "sum(status = 'incomplete'), sum(input_tokens), sum(output_tokens), "
        "sum(cached_input_tokens), sum(reasoning_tokens), sum(cost_usd), "
        "count(*) - count(cost_usd), group_concat(duration_s), "
        f"group_concat(time_to_first_token_s) FROM records "
        f"WHERE kind = 'generation' AND {where} GROUP BY 1, 2",
        params,
    )
    groups = [_group(row) for row in rows]
    total = _total(groups)
    durations = [_numbers(row[-2]) for row in rows]
    firsts = [_numbers(row[-1]) for row in rows]
    for group, duration, first_token in zip(groups, durations, firsts, strict=True):
        group.latency_s = _ranks(sorted(duration))
        group.ttft_s = _ranks(sorted(first_token))
    total.latency_s = _ranks(sorted(chain.from_iterable(durations)))
    total.ttft_s = _ranks(sorted(chain.from_iterable(firsts)))
    groups.sort(key=lambda g: (-g.calls, g.provider, g.model))
    return groups, total


def _numbers(joined: str | None) -> list[float]:
    """A group's values from `group_concat`: one string, far cheaper than a row each."""
    return [float(n) for n in joined.split(",")] if joined else []


def _ranks(ordered: list[float]) -> dict[int, float | None]:
    return {p: percentile(ordered, p) for p in PERCENTILES}


def _group(row: tuple[Any, ...]) -> Group:
    provider, model, calls, errors, incomplete, tin, tout, cached, reasoning, cost = row[:10]
    return Group(
        provider=str(provider),
        model=str(model),
        calls=int(calls),
        errors=int(errors),
        incomplete=int(incomplete),
        input_tokens=tin,
        output_tokens=tout,
        cached_input_tokens=cached,
        reasoning_tokens=reasoning,
        cost_usd=cost,
        calls_without_cost=int(row[10]),
    )


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _total(groups: list[Group]) -> Group:
    costs = [g.cost_usd for g in groups if g.cost_usd is not None]
    return Group(
        provider="",
        model="",
        calls=sum(g.calls for g in groups),
        errors=sum(g.errors for g in groups),
        incomplete=sum(g.incomplete for g in groups),
        input_tokens=_sum([g.input_tokens for g in groups]),
        output_tokens=_sum([g.output_tokens for g in groups]),
        cached_input_tokens=_sum([g.cached_input_tokens for g in groups]),
        reasoning_tokens=_sum([g.reasoning_tokens for g in groups]),
        cost_usd=sum(costs) if costs else None,
        calls_without_cost=sum(g.calls_without_cost for g in groups),
    )
