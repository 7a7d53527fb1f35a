"""Replaying recorded OpenAI traffic with vcrpy, and reading truth files."""

from __future__ import annotations

import json
import os
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


# Never written to a cassette, whichever side sent them.
SECRET_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
)


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    return response


RECORDER = vcr.VCR(
    match_on=MATCH_ON,
    filter_headers=list(SECRET_HEADERS),
    before_record_response=_scrub_response,
    decode_compressed_response=True,
)


def replay(path: Path) -> Any:
    """Replay a cassette; with LLMTAP_RECORD=1, record missing ones (credentials scrubbed)."""
    mode = "once" if os.environ.get("LLMTAP_RECORD") == "1" else "none"
    return RECORDER.use_cassette(str(path), record_mode=mode, allow_playback_repeats=False)


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
