"""No record may carry an API key or an auth header: the suite scans everything it records.

Every test client is given one of `TEST_KEYS`, so finding one of them (or a header that
carries credentials) in an exported record or in a file a test wrote is a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

TEST_KEYS = ("sk-test", "sk-ant-test", "mistral-test-key")
"""The API keys the test suite hands to every SDK client."""

_LEAK = re.compile(
    "|".join(re.escape(key) for key in TEST_KEYS)
    + r"|bearer\s+[A-Za-z0-9._~+/-]{4,}"
    + r"|\"(?:authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key)\"\s*:",
    re.IGNORECASE,
)

_SCANNED_SUFFIXES = {".db", ".db-wal", ".jsonl", ".json", ".csv", ".log"}
_MAX_SCANNED_BYTES = 20 * 1024 * 1024


def leak_in(text: str) -> str | None:
    """The first credential-looking text in `text`, with some context; None when clean."""
    found = _LEAK.search(text)
    if found is None:
        return None
    return text[max(0, found.start() - 60) : found.end() + 60]


def leaks_in_files(root: Path) -> Iterable[tuple[Path, str]]:
    """Credential-looking text in the records, stores and exports a test left under `root`."""
    for path in root.rglob("*"):
        if not path.is_file() or path.suffix not in _SCANNED_SUFFIXES:
            continue
        if path.stat().st_size > _MAX_SCANNED_BYTES:
            continue
        leak = leak_in(path.read_bytes().decode("utf-8", "replace"))
        if leak is not None:
            yield path, leak
