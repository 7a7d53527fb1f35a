"""`llmtap doctor`: installed integrations against their SDKs, the store, and settings."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from llmtap.cli import doctor, main
from llmtap.exporters import SQLiteExporter
from llmtap.record import Record

START = 1795313248.123456  # 2026-11-22T02:07:28.123456Z


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "llmtap.db"
    exporter = SQLiteExporter(path)
    exporter.export(
        [Record(id=f"a{i}", trace_id="t1", name="x", start_time=START + i) for i in range(3)]
    )
    exporter.shutdown()
    return path


def report(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> dict[str, Any]:
    assert main(["doctor", "--json", *args]) == code
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def integration(found: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in found["integrations"] if i["name"] == name)


def test_the_store_path_schema_count_and_time_range(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = report(capsys, "--db", str(db))["store"]

    assert store == {
        "path": str(db),
        "state": "ok",
        "size_bytes": store["size_bytes"],
        "schema_version": 1,
        "records": 3,
        "first_start": "2026-11-22T02:07:28.123456+00:00",
        "last_start": "2026-11-22T02:07:30.123456+00:00",
        "losses": [],
    }
    assert store["size_bytes"] >= db.stat().st_size > 0


def test_a_missing_store_is_reported_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = report(capsys, "--db", str(tmp_path / "none.db"))["store"]

    assert store["state"] == "missing"
    assert store["message"].startswith("No llmtap records yet")


def test_a_corrupt_store_is_reported_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(b"not a database\n" * 300)

    store = report(capsys, "--db", str(path), code=2)["store"]

    assert store == {
        "path": str(path),
        "state": "unreadable",
        "message": f"{path} is not a readable llmtap store: file is not a database.",
    }


def test_an_installed_integration_reports_its_sdk_and_support(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llmtap_openai")

    openai = integration(report(capsys, "--db", str(db)), "openai")

    assert openai["version"] == metadata.version("llmtap-openai")
    assert openai["sdk_version"] == metadata.version("openai")
    assert openai["registered"] is True
    assert openai["requires"]
    assert (openai["status"], openai["problem"]) == ("ok", None)


def test_an_sdk_outside_the_supported_range_is_a_problem(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llmtap_openai")
    real = doctor._version
    monkeypatch.setattr(doctor, "_version", lambda d: "9.0.0" if d == "openai" else real(d))

    openai = integration(report(capsys, "--db", str(db), code=1), "openai")

    assert openai["status"] == "unsupported SDK"
    assert openai["problem"].startswith(
        f"llmtap-openai supports openai{openai['requires']}, but openai 9.0.0 is installed"
    )


def test_an_integration_that_fails_to_import_is_a_problem(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("llmtap_openai")

    def broken(name: str) -> None:
        raise RuntimeError(f"{name} is broken")

    monkeypatch.setattr(doctor, "import_module", broken)

    openai = integration(report(capsys, "--db", str(db), code=1), "openai")

    assert openai["status"] == "import fails"
    assert openai["problem"] == "import llmtap_openai fails: RuntimeError: llmtap_openai is broken"


def test_a_missing_integration_for_an_installed_sdk_says_what_to_install(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(doctor, "_version", lambda d: "1.0.0" if d == "langchain-core" else None)

    langchain = integration(report(capsys, "--db", str(db)), "langchain")

    assert langchain["status"] == 'not installed (pip install "llmtap[langchain]")'


def test_settings_lists_llmtap_variables_and_flags_unknown_ones(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LLMTAP_SAMPLE_RATE", "0.5")
    monkeypatch.setenv("LLMTAP_SMAPLE_RATE", "0.1")

    assert main(["doctor", "--db", str(db)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert "  LLMTAP_SAMPLE_RATE=0.5  (share of traces kept)" in lines
    assert "  LLMTAP_SMAPLE_RATE=0.1  (unknown: a typo?)" in lines
    assert f"  {doctor.COUNTERS_NOTE}" in lines


@pytest.mark.parametrize(
    ("version", "specifiers", "expected"),
    [
        ("3.54.0", ">=1.76,<4", True),
        ("1.75.9", ">=1.76,<4", False),
        ("4.0.0", ">=1.76,<4", False),
        ("1.82.7", ">=1.74.15,!=1.82.7,!=1.82.8", False),
        ("1.74.15.post2", ">=1.74.15,!=1.82.7", True),
        ("0.12.52.post1", ">=0.12,<0.15", True),
        ("2.2.0", "~=2.1", True),
        ("3.0.0", "~=2.1", False),
        ("2.1.9", "==2.1.*", True),
        ("2.2.0", "==2.1.*", False),
        ("2.0", "==2.0.0", True),
    ],
)
def test_satisfies_compares_release_numbers(version: str, specifiers: str, expected: bool) -> None:
    assert doctor.satisfies(version, specifiers) is expected
