"""The secret scan that runs over every test's records can fail, and a real call with a
key and an extra auth header records neither."""

from __future__ import annotations

from pathlib import Path

import llmtap
from llmtap.exporters import MemoryExporter
from llmtap.exporters.encoding import record_json
from support.fake_openai import FakeOpenAI
from support.secrets import TEST_KEYS, leak_in, leaks_in_files


def test_the_scan_finds_each_test_key_and_credential_headers() -> None:
    for key in TEST_KEYS:
        assert leak_in(f'{{"metadata": {{"key": "{key}"}}}}') is not None
    assert leak_in('{"headers": {"Authorization": "x"}}') is not None
    assert leak_in('{"note": "Bearer abcdef123"}') is not None
    assert leak_in('{"x-api-key": "abc"}') is not None
    assert leak_in('{"content": "Authorization is granted by the admin"}') is None


def test_the_scan_finds_a_key_in_a_file_a_test_left(tmp_path: Path) -> None:
    leaked = tmp_path / "out.jsonl"
    leaked.write_text('{"key": "sk-ant-test"}\n')
    assert [path.name for path, _ in leaks_in_files(tmp_path)] == ["out.jsonl"]
    leaked.unlink()  # or this test's own teardown scan would fail it, as it should


def test_a_call_with_a_key_and_extra_auth_headers_records_neither(memory: MemoryExporter) -> None:
    llmtap.instrument_openai()
    try:
        FakeOpenAI().client().chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Api-Key": "sk-test", "Proxy-Authorization": "Bearer sk-test"},
        )
    finally:
        llmtap.uninstrument_openai()
    llmtap.flush()
    [record] = memory.records
    assert leak_in(record_json(record)) is None
    assert record.usage.input_tokens == 11
