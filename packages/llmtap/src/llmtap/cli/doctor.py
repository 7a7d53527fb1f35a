"""`llmtap doctor`: what is installed, whether it fits together, and the store's state.

This runs in its own process, so it cannot say what an application has instrumented;
it says what the application could: whether each integration imports and declares
support for the SDK version installed next to it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time
from dataclasses import asdict
from importlib import import_module, metadata
from typing import TYPE_CHECKING, Any

from llmtap.cli.common import add_db, add_json, print_json
from llmtap.integrations import ENTRY_POINT_GROUP, KNOWN
from llmtap.record import iso_utc
from llmtap.store import Store, StoreError, default_db_path
from llmtap.table import count, table
from llmtap.terminal import Paint, wants_colour

if TYPE_CHECKING:
    from llmtap.cli.common import Commands

SDKS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "mistralai": "mistralai",
    "langchain": "langchain-core",
    "llamaindex": "llama-index-core",
    "litellm": "litellm",
}
"""The distribution each integration records, by integration name."""

SETTINGS = {
    "LLMTAP_DB": "store file",
    "LLMTAP_EXPORTERS": "exporters (sqlite, jsonl, console, none)",
    "LLMTAP_JSONL_PATH": "file for the jsonl exporter",
    "LLMTAP_CAPTURE_CONTENT": "record prompts and outputs",
    "LLMTAP_SAMPLE_RATE": "share of traces kept",
    "LLMTAP_DISABLED": "record nothing",
    "LLMTAP_QUEUE_SIZE": "records queued before dropping",
    "LLMTAP_ENVIRONMENT": "environment on every record",
    "LLMTAP_RELEASE": "release on every record",
    "LLMTAP_OPENAI_STREAM_USAGE": "ask OpenAI streams for usage (auto, always, never)",
    "LLMTAP_OPENAI_STREAM_USAGE_HOSTS": "more hosts where that is safe",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "content in OpenTelemetry export",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "where `llmtap export --format otlp` sends",
}
COUNTERS_NOTE = (
    "llmtap.stats() counters (queued, exported, dropped, failed exports, faults) belong to "
    "each application process; call llmtap.stats() inside the application to see them. "
    "Processes writing this store report their losses and faults here."
)
LOSSES_WINDOW_S = 7 * 24 * 3600
"""How far back the doctor reports processes that lost records."""

_SPECIFIER = re.compile(r"(~=|==|!=|<=|>=|<|>)\s*([0-9][0-9A-Za-z.*+!-]*)")


def add_parser(commands: Commands) -> None:
    parser = commands.add_parser(
        "doctor", help="installed integrations and SDKs, the store, and llmtap settings"
    )
    add_db(parser)
    add_json(parser, "the report")
    parser.set_defaults(run=run)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    numbers = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(n) for n in numbers.group().split(".")) if numbers else ()


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    size = max(len(a), len(b))
    return a + (0,) * (size - len(a)), b + (0,) * (size - len(b))


def satisfies(version: str, specifiers: str) -> bool:
    """Whether `version` meets `>=1.76,<4`-style specifiers, by release numbers only."""
    for operator, bound in _SPECIFIER.findall(specifiers):
        if bound.endswith(".*"):
            prefix = _release(bound[:-2])
            same = _release(version)[: len(prefix)] == prefix
            if (operator == "==") != same:
                return False
            continue
        have, want = _padded(_release(version), _release(bound))
        ok = {
            "==": have == want,
            "!=": have != want,
            "<": have < want,
            "<=": have <= want,
            ">": have > want,
            ">=": have >= want,
            "~=": have >= want
            and have[: len(_release(bound)) - 1] == want[: len(_release(bound)) - 1],
        }[operator]
        if not ok:
            return False
    return True


def _requirement(distribution: str, sdk: str) -> str | None:
    """The integration's declared specifiers for `sdk`, e.g. `>=1.76,<4`."""
    normal = re.sub(r"[-_.]+", "-", sdk).lower()
    for line in metadata.requires(distribution) or ():
        if ";" in line:
            continue  # extras and markers: not the base requirement
        name = re.match(r"[A-Za-z0-9._-]+", line)
        if name and re.sub(r"[-_.]+", "-", name.group()).lower() == normal:
            return ",".join(f"{op}{v}" for op, v in _SPECIFIER.findall(line)) or None
    return None


def integration(name: str, module: str, registered: set[str]) -> dict[str, Any]:
    """One integration's state: installed, imports, and fits the installed SDK."""
    package = f"llmtap-{name}"
    sdk = SDKS.get(name, name)
    found: dict[str, Any] = {
        "name": name,
        "package": package,
        "version": _version(package),
        "registered": name in registered,
        "sdk": sdk,
        "sdk_version": _version(sdk),
        "requires": None,
        "status": "ok",
        "problem": None,
    }
    if found["version"] is None:
        found["status"] = "not installed"
        if found["sdk_version"] is not None:
            found["status"] += f' (pip install "llmtap[{KNOWN[name][1]}]")'
        return found
    found["requires"] = _requirement(package, sdk)
    if found["sdk_version"] is None:
        found["status"] = f"{sdk} not installed"
        return found
    if found["requires"] and not satisfies(found["sdk_version"], found["requires"]):
        found["status"] = "unsupported SDK"
        found["problem"] = (
            f"{package} supports {sdk}{found['requires']}, but {sdk} {found['sdk_version']} "
            f'is installed: pip install "{sdk}{found["requires"]}" or upgrade {package}'
        )
        return found
    try:
        import_module(module)
    except Exception as exc:  # any failure here is what the application would hit
        found["status"] = "import fails"
        found["problem"] = f"import {module} fails: {type(exc).__name__}: {exc}"
    return found


def _store(path: str | None) -> dict[str, Any]:
    where = path or str(default_db_path())
    try:
        with Store(path) as store:
            info = store.info()
            losses = store.losses(since=time.time() - LOSSES_WINDOW_S)
    except StoreError as exc:
        missing = not os.path.isfile(where)
        return {"path": where, "state": "missing" if missing else "unreadable", "message": str(exc)}
    return {
        "path": str(info.path),
        "state": "ok",
        "losses": [asdict(row) for row in losses],
        "size_bytes": info.size_bytes,
        "schema_version": info.schema_version,
        "records": info.records,
        "first_start": None if info.first_start is None else iso_utc(info.first_start),
        "last_start": None if info.last_start is None else iso_utc(info.last_start),
    }


def report(db: str | None) -> dict[str, Any]:
    registered = {entry.name for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)}
    integrations = [integration(name, module, registered) for name, (module, _) in KNOWN.items()]
    others = sorted(registered - set(KNOWN))
    return {
        "llmtap": _version("llmtap"),
        "python": f"{platform.python_version()} ({sys.executable})",
        "integrations": integrations,
        "other_integrations": others,
        "store": _store(db),
        "settings": {
            name: value
            for name, value in sorted(os.environ.items())
            if name.startswith("LLMTAP_") or name in SETTINGS
        },
        "counters": COUNTERS_NOTE,
    }


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _lines(found: dict[str, Any], paint: Paint) -> list[str]:
    lines = [
        f"llmtap {found['llmtap']} on Python {found['python']}",
        "",
        paint("integrations", "bold"),
    ]
    rows = [
        (
            i["name"],
            f"{i['package']} {i['version']}" if i["version"] else "-",
            f"{i['sdk']} {i['sdk_version'] or '-'}",
            i["requires"] or "",
            i["status"],
        )
        for i in found["integrations"]
    ]
    lines += [
        "  " + line for line in table(("name", "integration", "SDK", "supports", "status"), rows)
    ]
    if found["other_integrations"]:
        lines.append("  also registered: " + ", ".join(found["other_integrations"]))
    store = found["store"]
    lines += ["", paint("store", "bold"), f"  path      {store['path']}"]
    if store["state"] == "ok":
        lines += [
            f"  size      {_size(store['size_bytes'])}",
            f"  schema    version {store['schema_version']}",
            f"  records   {count(store['records'])}",
            f"  first     {store['first_start'] or '-'}",
            f"  last      {store['last_start'] or '-'}",
        ]
    else:
        lines.append(f"  {store['state']}: {store['message']}")
    lines += ["", paint("settings in this shell", "bold")]
    lines += [
        f"  {name}={value}"
        + (f"  ({SETTINGS[name]})" if name in SETTINGS else "  (unknown: a typo?)")
        for name, value in found["settings"].items()
    ] or ["  none: every setting has its default"]
    lines += ["", paint("counters", "bold"), f"  {COUNTERS_NOTE}"]
    if store["state"] == "ok":
        lines += ["", paint("losses in the last 7 days", "bold")]
        lines += [f"  {_loss_line(row)}" for row in store["losses"]] or ["  none reported"]
    problems = [i["problem"] for i in found["integrations"] if i["problem"]]
    problems += loss_problems(found)
    if problems:
        lines += ["", paint("problems", "red"), *(f"  {p}" for p in problems)]
    return lines


def _loss_line(row: dict[str, Any]) -> str:
    stats = row["stats"]
    parts = [
        f"dropped {stats.get('dropped', 0)} (queue full)",
        f"lost at exit {stats.get('lost_at_exit', 0)}",
        f"failed exports {stats.get('export_failures') or 'none'}",
        f"faults {stats.get('faults') or 'none'}",
    ]
    return (
        f"pid {row['pid']} on {row['host']} ({row['program']}), last {iso_utc(row['updated'])}: "
        f"{row['lost']} records lost; " + ", ".join(parts)
    )


def loss_problems(found: dict[str, Any]) -> list[str]:
    """One problem per process that lost records: its store is missing them."""
    return [
        f"pid {row['pid']} on {row['host']} lost {row['lost']} records "
        f"(see losses above; llmtap.stats() in that process has the details)"
        for row in found["store"].get("losses", [])
        if row["lost"]
    ]


def run(args: argparse.Namespace) -> int:
    """0 when all is well; 1 when an integration does not fit its SDK or a process lost
    records; 2 for a bad store."""
    found = report(args.db)
    if args.json:
        print_json(found)
    else:
        print("\n".join(_lines(found, Paint(wants_colour(sys.stdout)))))
    if found["store"]["state"] == "unreadable":
        return 2
    problems = any(i["problem"] for i in found["integrations"]) or loss_problems(found)
    return 1 if problems else 0
