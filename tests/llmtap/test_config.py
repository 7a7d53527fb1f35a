"""`llmtap.configure()`: validation, `LLMTAP_*` environment variables, precedence."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import llmtap
from llmtap.exporters import JSONLExporter, MemoryExporter, SQLiteExporter
from llmtap.pipeline import PIPELINE


def log() -> None:
    llmtap.log_generation(model="m", provider="test", input="hello", output="hi")


# -- invalid arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_rate": 2}, r"sample_rate=\.\.\.\) must be a number from 0\.0 to 1\.0, got 2"),
        ({"sample_rate": -0.1}, r"sample_rate=.*got -0\.1"),
        ({"sample_rate": "0.5"}, r"sample_rate=.*got '0\.5'"),
        ({"sample_rate": True}, r"sample_rate=.*got True"),
        ({"queue_size": 0}, r"queue_size=\.\.\.\) must be a positive int, got 0"),
        ({"queue_size": 10.5}, r"queue_size=.*got 10\.5"),
        ({"batch_size": 0}, r"batch_size=.*got 0"),
        ({"flush_interval_s": 0}, r"flush_interval_s=.*got 0"),
        ({"exporters": [object()]}, r"exporters=\[\.\.\.\]\) got <object .*no export\(records\)"),
        ({"redact": "x"}, r"redact=\.\.\.\) must be a callable taking a Record"),
    ],
)
def test_invalid_arguments_raise_a_value_error_naming_the_argument(
    memory: MemoryExporter, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        llmtap.configure(**kwargs)


def test_a_rejected_configuration_leaves_the_current_one_in_place(
    memory: MemoryExporter,
) -> None:
    with pytest.raises(ValueError, match="queue_size"):
        llmtap.configure(exporters=[MemoryExporter()], queue_size=0)
    log()
    llmtap.flush()

    assert len(memory.records) == 1


# -- environment variables ---------------------------------------------------------------


def test_llmtap_sample_rate_is_read(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_SAMPLE_RATE", "0")
    llmtap.configure(exporters=[memory])
    log()
    llmtap.flush()

    assert PIPELINE.config.sample_rate == 0.0
    assert memory.records == []


def test_llmtap_capture_content_0_strips_content(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "0")
    llmtap.configure(exporters=[memory])
    log()
    llmtap.flush()

    [record] = memory.records
    assert record.input is None
    assert record.output is None


def test_llmtap_environment_and_release_are_read(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_ENVIRONMENT", "staging")
    monkeypatch.setenv("LLMTAP_RELEASE", "abc123")
    llmtap.configure(exporters=[memory])
    log()
    llmtap.flush()

    [record] = memory.records
    assert record.environment == "staging"
    assert record.release == "abc123"


def test_llmtap_queue_size_is_read(memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMTAP_QUEUE_SIZE", "25")
    llmtap.configure(exporters=[memory])

    assert PIPELINE.config.queue_size == 25


def test_code_wins_over_the_environment(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_SAMPLE_RATE", "0")
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", "0")
    monkeypatch.setenv("LLMTAP_ENVIRONMENT", "staging")
    monkeypatch.setenv("LLMTAP_DISABLED", "1")
    llmtap.configure(
        exporters=[memory],
        sample_rate=1.0,
        capture_content=True,
        environment="production",
        disabled=False,
    )
    log()
    llmtap.flush()

    [record] = memory.records
    assert record.environment == "production"
    assert record.input == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]


_SWITCH_SPELLINGS = "use 1/0, true/false, yes/no or on/off"


@pytest.mark.parametrize(
    ("name", "value", "warning"),
    [
        ("LLMTAP_SAMPLE_RATE", "lots", "expected a number from 0.0 to 1.0"),
        ("LLMTAP_SAMPLE_RATE", "1.5", "expected a number from 0.0 to 1.0"),
        ("LLMTAP_CAPTURE_CONTENT", "maybe", _SWITCH_SPELLINGS),
        ("LLMTAP_DISABLED", "sure", _SWITCH_SPELLINGS),
    ],
)
def test_a_bad_environment_value_is_ignored_with_a_warning(
    memory: MemoryExporter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: str,
    warning: str,
) -> None:
    monkeypatch.setenv(name, value)
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        llmtap.configure(exporters=[memory])
    log()
    llmtap.flush()

    assert [r.getMessage() for r in caplog.records] == [
        f"llmtap: ignoring {name}={value!r}; {warning}"
    ]
    [record] = memory.records  # defaults apply: sampled in, content kept, enabled
    assert record.input == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}]


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on", " On "])
def test_truthy_environment_spellings(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LLMTAP_DISABLED", value)
    llmtap.configure(exporters=[memory])

    assert PIPELINE.config.disabled is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_falsy_environment_spellings(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LLMTAP_CAPTURE_CONTENT", value)
    llmtap.configure(exporters=[memory])

    assert PIPELINE.config.capture_content is False


# -- exporters chosen by environment -------------------------------------------------------


def test_without_exporters_records_go_to_the_sqlite_store_at_llmtap_db(
    memory: MemoryExporter, tmp_path: Path
) -> None:
    llmtap.configure()

    [exporter] = PIPELINE.config.exporters
    assert isinstance(exporter, SQLiteExporter)
    assert exporter.path == tmp_path / "llmtap.db"


def test_llmtap_exporters_selects_exporters(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LLMTAP_EXPORTERS", "jsonl")
    monkeypatch.setenv("LLMTAP_JSONL_PATH", str(tmp_path / "calls.jsonl"))
    llmtap.configure()

    [exporter] = PIPELINE.config.exporters
    assert isinstance(exporter, JSONLExporter)
    assert exporter.path == str(tmp_path / "calls.jsonl")


def test_llmtap_exporters_none_records_nowhere(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMTAP_EXPORTERS", "none")
    llmtap.configure()

    assert PIPELINE.config.exporters == ()


def test_an_unknown_exporter_name_is_ignored_with_a_warning(
    memory: MemoryExporter, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LLMTAP_EXPORTERS", "sqlite,kafka")
    with caplog.at_level(logging.WARNING, logger="llmtap"):
        llmtap.configure()

    assert [type(e) for e in PIPELINE.config.exporters] == [SQLiteExporter]
    assert [r.getMessage() for r in caplog.records] == [
        "llmtap: ignoring unknown exporter 'kafka' in LLMTAP_EXPORTERS; "
        "choose from sqlite, jsonl, console, otel, none"
    ]
