"""`llmtap show ID`: one record in full, or a whole trace as an indented tree."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from llmtap.cli.common import CommandError, add_db, add_json, open_store, print_json
from llmtap.table import count, local_time, model_of, seconds, table, usd
from llmtap.terminal import Paint, wants_colour

if TYPE_CHECKING:
    from llmtap.cli.common import Commands

Node = dict[str, Any]
"""A record's data with a `children` list, in start order."""


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "show", help="show a record in full, or a trace as a tree (ids may be shortened)"
    )
    parser.add_argument("id", metavar="ID", help="a record id, a trace id, or a unique prefix")
    parser.add_argument("--trace", action="store_true", help="ID is a trace id (or its prefix)")
    add_db(parser)
    add_json(parser, "the record, or the trace as nested records")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        try:
            kind, ident = store.resolve(args.id, trace_only=args.trace)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        paint = Paint(wants_colour(sys.stdout))
        if kind == "trace":
            roots = tree(store.trace(ident))
            if args.json:
                print_json({"trace_id": ident, "records": roots})
            else:
                print("\n".join(trace_lines(ident, roots, paint)))
            return 0
        record = store.get(ident)
    if record is None:  # replaced between the two reads
        raise CommandError(f"Record {ident} changed while it was read; run the command again.")
    if args.json:
        print_json(record)
    else:
        print("\n".join(record_lines(record, paint)))
    return 0


# -- one record ------------------------------------------------------------------------


def _join(*parts: str | None) -> str:
    return "   ".join(part for part in parts if part)


def _usage(usage: dict[str, Any]) -> str | None:
    if all(value is None for value in usage.values()):
        return None
    inside = ", ".join(
        f"{label} {count(usage[key])}"
        for key, label in (
            ("cached_input_tokens", "cached"),
            ("cache_creation_input_tokens", "cache write"),
        )
        if usage.get(key)
    )
    reasoning = usage.get("reasoning_tokens")
    return _join(
        f"input {count(usage.get('input_tokens'))}" + (f" ({inside})" if inside else ""),
        f"output {count(usage.get('output_tokens'))}"
        + (f" ({count(reasoning)} reasoning)" if reasoning else ""),
        f"total {count(usage.get('total_tokens'))}",
    )


def _facts(record: dict[str, Any]) -> list[tuple[str, str | None]]:
    error = record.get("error")
    usage = record.get("usage") or {}
    rate = record.get("output_tokens_per_s")
    model = record.get("request_model")
    if record.get("response_model") and record.get("response_model") != model:
        model = f"{model or '?'} -> {record['response_model']}"
    first = record.get("time_to_first_token_s")
    stream = None
    if record.get("stream"):
        chunks = record.get("chunks")
        stream = "stream" + (f", {chunks} chunks" if chunks is not None else "")
    return [
        ("id", record.get("id")),
        ("trace", record.get("trace_id")),
        ("parent", record.get("parent_id")),
        ("started", local_time(record.get("start_time"), with_date=True)),
        (
            "duration",
            _join(
                seconds(record.get("duration_s")),
                None if first is None else f"ttft {seconds(first)}",
                stream,
                f"{rate:.1f} tokens/s" if rate else None,
            ),
        ),
        (
            "provider",
            _join(
                record.get("provider"),
                record.get("integration") and f"via {record['integration']}",
                record.get("server_address") and f"at {record['server_address']}",
            ),
        ),
        ("model", model),
        ("operation", record.get("operation")),
        ("response", record.get("response_id")),
        ("finish", record.get("finish_reason")),
        ("usage", _usage(usage)),
        ("estimated", "usage was estimated" if record.get("usage_estimated") else None),
        ("cost", usd(record.get("cost_usd")) if record.get("kind") == "generation" else None),
        ("settings", " ".join(f"{k}={v}" for k, v in (record.get("settings") or {}).items())),
        ("thread", record.get("thread_id")),
        ("user", record.get("user_id")),
        ("tags", ", ".join(record.get("tags") or ())),
        ("metadata", json.dumps(record["metadata"]) if record.get("metadata") else None),
        ("env", _join(record.get("environment"), record.get("release"))),
        ("error", error and _error(error)),
    ]


def _error(error: dict[str, Any]) -> str:
    status = f" (HTTP {error['status_code']})" if error.get("status_code") else ""
    return f"{error.get('type')}{status}: {error.get('message')}"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _part(part: dict[str, Any]) -> str:
    kind = part.get("type")
    if kind == "text":
        return _text(part.get("content") or "")
    if kind == "tool_call":
        return f"-> {part.get('name')}({_text(part.get('arguments'))})  [{part.get('id')}]"
    if kind == "tool_call_response":
        return f"<- {_text(part.get('response', part.get('content')))}  [{part.get('id')}]"
    if kind in ("reasoning", "refusal"):
        return f"({kind}) {_text(part.get('content') or '')}"
    shown = {k: v for k, v in part.items() if k not in ("type", "content")}
    return f"[{kind}] {_text(shown)}"


def _indented(text: str, prefix: str = "  ") -> list[str]:
    return [prefix + line for line in text.splitlines() or [""]]


def _messages(messages: list[dict[str, Any]], paint: Paint) -> list[str]:
    lines = []
    for message in messages:
        finish = message.get("finish_reason")
        lines.append(
            "  "
            + paint(f"[{message.get('role')}]", "bold")
            + (f" (finish: {finish})" if finish else "")
        )
        for part in message.get("parts") or ():
            lines += _indented(_part(part), "    ")
    return lines


def record_lines(record: dict[str, Any], paint: Paint) -> list[str]:
    status = record.get("status") or ""
    lines = [
        f"{paint(record.get('kind') or '', 'bold')}  {record.get('name')}  {paint.status(status)}"
    ]
    lines += [f"  {label:<10}{value}" for label, value in _facts(record) if value]
    sections: list[tuple[str, list[str]]] = [
        (
            "system",
            [line for p in record.get("system_instructions") or () for line in _indented(_part(p))],
        ),
        ("input", _messages(record.get("input") or [], paint)),
        ("output", _messages(record.get("output") or [], paint)),
        (
            "tool calls",
            [
                f"  {call.get('id')}  {call.get('name')}({_text(call.get('arguments'))})"
                for call in record.get("tool_calls") or ()
            ],
        ),
        (
            "tools",
            [
                f"  {tool.get('name') or tool.get('type')}"
                + (f": {tool['description']}" if tool.get("description") else "")
                for tool in record.get("tools") or ()
            ],
        ),
    ]
    for title, body in sections:
        if body:
            lines += ["", paint(title, "bold"), *body]
    return lines


# -- a trace ---------------------------------------------------------------------------


def tree(records: list[dict[str, Any]]) -> list[Node]:
    """Nest records under their parents; one whose parent is not in the trace is a root."""
    nodes = {record["id"]: {**record, "children": []} for record in records}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.get("parent_id") or "")
        (parent["children"] if parent is not None else roots).append(node)
    return roots


def _walk(nodes: list[Node], depth: int = 0) -> list[tuple[int, Node]]:
    return [item for node in nodes for item in [(depth, node), *_walk(node["children"], depth + 1)]]


def trace_lines(trace_id: str, roots: list[Node], paint: Paint) -> list[str]:
    flat = _walk(roots)
    generations = [node for _, node in flat if node.get("kind") == "generation"]

    def total(key: str) -> int | None:
        known = [(n.get("usage") or {}).get(key) for n in generations]
        numbers = [v for v in known if v is not None]
        return sum(numbers) if numbers else None

    costs = [n["cost_usd"] for n in generations if n.get("cost_usd") is not None]
    unpriced = len(generations) - len(costs)
    price = usd(sum(costs)) if costs else "unknown"
    if costs and unpriced:
        price += f" + {unpriced} unpriced"
    header = _join(
        f"trace {trace_id}",
        f"{len(flat)} records, {len(generations)} generations",
        f"tokens in {count(total('input_tokens'))} out {count(total('output_tokens'))}",
        f"cost {price}",
    )
    rows = [
        (
            "  " * depth + (node.get("name") or ""),
            node.get("kind") or "",
            model_of(node),
            seconds(node.get("duration_s")),
            count((node.get("usage") or {}).get("input_tokens")),
            count((node.get("usage") or {}).get("output_tokens")),
            node.get("status") or "",
            node.get("id") or "",
        )
        for depth, node in flat
    ]
    headers = ("record", "kind", "model", "duration", "in", "out", "status", "id")
    return [paint(header, "bold"), "", *table(headers, rows, right=(3, 4, 5))]
