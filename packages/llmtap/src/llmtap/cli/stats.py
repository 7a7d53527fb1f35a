"""`llmtap stats`: calls, errors, tokens, cost and latency percentiles per model and provider."""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from llmtap.cli.common import CommandError, add_db, add_json, open_store, print_json
from llmtap.record import iso_utc
from llmtap.summary import PERCENTILES, Group, GroupBy, summarise
from llmtap.table import count, seconds, table, usd
from llmtap.timewindow import window

if TYPE_CHECKING:
    from llmtap.cli.common import Commands


def add_window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", metavar="WHEN", help="from this time: 30m, 24h, 7d, or ISO (local unless Z)"
    )
    parser.add_argument("--until", metavar="WHEN", help="up to this time (same forms)")


def parse_window(args: argparse.Namespace) -> tuple[float | None, float | None]:
    try:
        return window(args.since, args.until)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "stats", help="calls, errors, tokens, cost and latency per model and provider"
    )
    add_db(parser)
    add_window(parser)
    parser.add_argument(
        "--by",
        choices=("model", "provider"),
        help="group by model or by provider only (default: both)",
    )
    add_json(parser, "the figures")
    parser.set_defaults(run=run)


def _cost(group: Group) -> str:
    if group.cost_usd is None:
        return "unknown" if group.calls else "-"
    unknown = group.calls_without_cost
    return usd(group.cost_usd) + (f" (+{count(unknown)} unknown)" if unknown else "")


def _row(group: Group, labels: list[str]) -> list[str]:
    return [
        *labels,
        count(group.calls),
        count(group.errors),
        count(group.input_tokens),
        count(group.output_tokens),
        count(group.cached_input_tokens),
        count(group.reasoning_tokens),
        _cost(group),
        *(seconds(group.latency_s.get(p)) for p in PERCENTILES),
        *(seconds(group.ttft_s.get(p)) for p in PERCENTILES),
    ]


def _as_json(group: Group) -> dict[str, Any]:
    data = asdict(group)
    data["latency_s"] = {f"p{p}": v for p, v in group.latency_s.items()}
    data["ttft_s"] = {f"p{p}": v for p, v in group.ttft_s.items()}
    return data


def _when(moment: float | None, otherwise: str) -> str:
    if moment is None:
        return otherwise
    return dt.datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def run(args: argparse.Namespace) -> int:
    since, until = parse_window(args)
    by: GroupBy = args.by or "both"
    with open_store(args) as store:
        groups, total = summarise(store, since, until, by)
    if args.json:
        print_json(
            {
                "since": None if since is None else iso_utc(since),
                "until": None if until is None else iso_utc(until),
                "by": by,
                "groups": [_as_json(g) for g in groups],
                "total": _as_json(total),
            }
        )
        return 0
    print(f"LLM calls from {_when(since, 'the first record')} to {_when(until, 'now')}")
    if not groups:
        print("No generations in this window.")
        return 0
    keys = {"both": ["provider", "model"], "model": ["model"], "provider": ["provider"]}[by]
    headers = [
        *keys,
        "calls",
        "errors",
        "in",
        "out",
        "cached",
        "reasoning",
        "cost",
        *(f"p{p}" for p in PERCENTILES),
        *(f"ttft p{p}" for p in PERCENTILES),
    ]
    labels = {"provider": lambda g: g.provider or "-", "model": lambda g: g.model or "-"}
    rows = [_row(g, [labels[k](g) for k in keys]) for g in groups]
    if len(groups) > 1:
        rows.append(_row(total, ["total", *([""] * (len(keys) - 1))]))
    print("\n".join(table(headers, rows, right=range(len(keys), len(headers)))))
    return 0
