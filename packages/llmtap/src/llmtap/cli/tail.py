"""`llmtap tail`: the last records, then each new one as it is written, one line each.

New records are found by rowid, the table's own key, which grows with every insert: each
poll is one seek however large the store is, and a record is never shown twice.
"""

from __future__ import annotations

import argparse
import json
import sys
from time import sleep
from typing import TYPE_CHECKING, Any

from llmtap.cli.common import CommandError, add_db, add_json, open_store
from llmtap.table import count, fit, local_time, model_of, seconds
from llmtap.terminal import Paint, is_terminal, wants_colour, width

if TYPE_CHECKING:
    from llmtap.cli.common import Commands


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "tail", help="show the last records, then follow new ones live (Ctrl-C stops)"
    )
    add_db(parser)
    add_json(parser, "one record per line (JSON Lines)")
    parser.add_argument(
        "-n", type=int, default=10, metavar="N", help="records to show first (default 10)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.5,
        metavar="S",
        help="seconds between looks at the store (default 0.5)",
    )
    parser.add_argument("--no-follow", action="store_true", help="stop after the last N")
    parser.set_defaults(run=run)


def _tokens(record: dict[str, Any]) -> str:
    """`in/out`, with the cached part of the input: `1,200/85 (1,024 cached)`."""
    usage = record.get("usage") or {}
    tin, tout = usage.get("input_tokens"), usage.get("output_tokens")
    if tin is None and tout is None:
        return ""
    cached = usage.get("cached_input_tokens")
    return f"{count(tin)}/{count(tout)}" + (f" ({count(cached)} cached)" if cached else "")


def line(record: dict[str, Any], paint: Paint, columns: int = 0) -> str:
    """time, kind, provider, model, tokens in/out, latency, TTFT, status, name (and error).

    With `columns`, the name is cut so the line fits; colour codes take no columns.
    """
    status = record.get("status") or ""
    first = record.get("time_to_first_token_s")
    name = record.get("name") or ""
    error = record.get("error")
    if error:
        name += f" · {error.get('type')}: {' '.join(str(error.get('message') or '').split())}"
    when = local_time(record.get("start_time"))
    middle = " ".join(
        (
            f"{record.get('kind') or '':<10}",
            f"{record.get('provider') or '-':<10}",
            f"{fit(model_of(record) or '-', 24):<24}",
            f"{_tokens(record):<22}",
            f"{seconds(record.get('duration_s')):>8}",
            f"{'ttft ' + seconds(first) if first is not None else '':<12}",
        )
    )
    shown_status = f"{status:<10}"
    if columns:
        name = fit(name, max(columns - len(when) - len(middle) - len(shown_status) - 3, 8))
    return " ".join((paint(when, "dim"), middle, paint.status(status, shown_status), name))


def run(args: argparse.Namespace) -> int:
    if args.n < 0 or args.interval <= 0:
        raise CommandError("-n must be 0 or more, and --interval more than 0 seconds.", 2)
    terminal = is_terminal(sys.stdout)
    paint = Paint(wants_colour(sys.stdout))
    columns = width() if terminal else 0

    def show(record: dict[str, Any]) -> None:
        if args.json:
            text = json.dumps(record, separators=(",", ":"), default=str)
        else:
            text = line(record, paint, columns)
        print(text)

    with open_store(args) as store:
        rows = store.last(args.n) if args.n else []
        last = rows[-1][0] if rows else store.last_rowid()
        for _, record in rows:
            show(record)
        sys.stdout.flush()
        if args.no_follow:
            return 0
        try:
            while True:
                sleep(args.interval)
                for rowid, record in store.after(last):
                    show(record)
                    last = rowid
                sys.stdout.flush()
        except KeyboardInterrupt:
            return 0
