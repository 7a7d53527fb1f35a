"""Replaying recorded OpenAI traffic with vcrpy, and reading truth files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import vcr
import yaml

import llmtap

REPO = Path(__file__).resolve().parents[2]
SHARED_CASSETTES = REPO.parent / "shared" / "cassettes"
PROJECT_CASSETTES = REPO / "cassettes"

# Cassettes were recorded with several SDK versions whose bodies differ in field order,
# so requests match on everything but the body.
MATCH_ON = ["method", "scheme", "host", "port", "path"]


def replay(path: Path) -> Any:
    return vcr.use_cassette(
        str(path), record_mode="none", match_on=MATCH_ON, allow_playback_repeats=False
    )


def load_cassette(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    cassette = yaml.safe_load(path.read_text())
    truth = json.loads(path.with_suffix("").with_suffix(".truth.json").read_text())
    return cassette, truth


def request_body(interaction: dict[str, Any]) -> dict[str, Any]:
    body = interaction["request"]["body"]
    if isinstance(body, dict):
        body = body.get("string")
    return json.loads(body) if body else {}


def records_of(memory: Any) -> list[dict[str, Any]]:
    """Every record exported so far, as dicts, oldest first."""
    assert llmtap.flush(timeout=10)
    return sorted((r.to_dict() for r in memory.records), key=lambda r: r["start_time"])


def output_text(record: dict[str, Any], choice: int = 0) -> str | None:
    output = record["output"]
    if not output:
        return None
    return "".join(p["content"] for p in output[choice]["parts"] if p["type"] == "text") or None
