"""The project's own cassettes and bundled demo traffic carry no credentials."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from support.cassettes import PROJECT_CASSETTES, REPO, SECRET_HEADERS

CASSETTES = sorted(
    [
        *PROJECT_CASSETTES.rglob("*.yaml"),
        *(REPO / "packages").rglob("demo_traffic/*.yaml"),
    ]
)
KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_-]{16,}|sk-ant-[A-Za-z0-9_-]{8,}|Bearer\s+\S{8,}")


def test_there_are_cassettes_to_check() -> None:
    assert len(CASSETTES) >= 10


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.name)
def test_cassette_has_no_secret_headers_or_keys(path: Path) -> None:
    text = path.read_text()
    cassette = yaml.safe_load(text)

    for interaction in cassette["interactions"]:
        for side in ("request", "response"):
            headers = {h.lower() for h in interaction[side].get("headers") or {}}
            assert not headers & set(SECRET_HEADERS), f"{side} of {path.name}"
    assert not KEY_PATTERN.search(text)
