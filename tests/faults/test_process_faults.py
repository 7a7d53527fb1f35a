"""Process life: records queued at exit reach the store, the worker survives fork, heavy
concurrency gives exactly the right records with the right parents, and the store is
owner-only. Every call goes through the real OpenAI SDK on an in-process server."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llmtap
from faults.support_faults import (
    COMPLETION_TOKENS,
    PROMPT_TOKENS,
    WORDS,
    FakeOpenAI,
    ask,
    run_child,
)
from llmtap.exporters import MemoryExporter, SQLiteExporter
from llmtap.store import Store
from support.fake_openai import http


@pytest.fixture
def client() -> Iterator[Any]:
    llmtap.instrument_openai()
    yield FakeOpenAI().client()
    llmtap.uninstrument_openai()


def stored(db: Path) -> list[dict[str, Any]]:
    with Store(db) as store:
        return [record for _, record in store.last(100_000)]


def prompt(record: dict[str, Any]) -> str:
    content: str = record["input"][0]["parts"][0]["content"]
    return content


def test_a_process_that_exits_right_after_a_call_has_its_record_in_the_store(
    tmp_path: Path,
) -> None:
    db = tmp_path / "llmtap.db"  # the default store: LLMTAP_DB, set for every test
    result = run_child(
        """
        import llmtap
        from support.fake_openai import FakeOpenAI
        llmtap.configure(flush_interval_s=3600)  # only the exit flush can export it
        llmtap.instrument_openai()
        FakeOpenAI().client().chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "last words"}]
        )
        """
    )

    assert result.returncode == 0, result.stderr
    [record] = stored(db)
    assert prompt(record) == "last words"
    assert record["response_id"] == "chatcmpl-fake0"
    assert record["usage"]["input_tokens"] == PROMPT_TOKENS
    assert record["usage"]["output_tokens"] == COMPLETION_TOKENS
    assert record["output"][0]["parts"][0]["content"] == "".join(WORDS)


def fork() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # multi-threaded fork, 3.12+
        return os.fork()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_parent_and_forked_child_both_record_into_the_store(client: Any, tmp_path: Path) -> None:
    db = tmp_path / "llmtap.db"
    llmtap.configure(exporters=[SQLiteExporter(db)])
    ask(client, "parent-before")
    assert llmtap.flush(timeout=10)  # the worker and the store connection exist at fork

    pid = fork()
    if pid == 0:  # the child: a new worker, a new connection, the same store
        code = 1
        try:
            ask(client, "child")
            code = 0 if llmtap.flush(timeout=10) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    ask(client, "parent-after")
    assert llmtap.flush(timeout=10)
    records = stored(db)
    assert sorted(prompt(r) for r in records) == ["child", "parent-after", "parent-before"]
    assert len({r["id"] for r in records}) == 3
    assert {r["usage"]["input_tokens"] for r in records} == {PROMPT_TOKENS}


ASYNC_CALLS = 10_000
THREADS = 16
CALLS_PER_THREAD = 50


def async_client(server: FakeOpenAI) -> Any:
    """An AsyncOpenAI whose server yields to the event loop, so the calls interleave."""
    import openai

    async def handle(request: Any) -> Any:
        await asyncio.sleep(0)
        return server.handle(request)

    return openai.AsyncOpenAI(
        api_key="sk-test",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(handle)),
    )


def test_ten_thousand_async_calls_and_sixteen_threads_give_exact_records_and_parents(
    memory: MemoryExporter,
) -> None:
    llmtap.instrument_openai()
    server = FakeOpenAI()
    try:
        sync = server.client()

        def worker(thread: int) -> None:
            for i in range(CALLS_PER_THREAD):
                with llmtap.span(f"thread-{thread}-{i}"):
                    ask(sync, f"thread-{thread}-{i}")

        async def task(aclient: Any, i: int) -> None:
            with llmtap.span(f"task-{i}"):
                await aclient.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": f"task-{i}"}]
                )

        async def all_tasks() -> None:
            aclient = async_client(server)
            await asyncio.gather(*(task(aclient, i) for i in range(ASYNC_CALLS)))

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        asyncio.run(all_tasks())
        for thread in threads:
            thread.join()
    finally:
        llmtap.uninstrument_openai()
    assert llmtap.flush(timeout=60)

    calls = ASYNC_CALLS + THREADS * CALLS_PER_THREAD
    spans = {r.id: r for r in memory.records if r.kind != "generation"}
    generations = [r for r in memory.records if r.kind == "generation"]
    assert len(spans) == calls
    assert len(generations) == calls
    for generation in generations:
        parent = spans[generation.parent_id or ""]
        assert parent.name == prompt(generation.to_dict())  # its own span, no other
        assert generation.trace_id == parent.trace_id
        assert parent.parent_id is None
        assert generation.usage.input_tokens == PROMPT_TOKENS
    assert len({r.trace_id for r in spans.values()}) == calls
    assert llmtap.stats()["queued"] == 0


def test_the_store_its_wal_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a typical umask: new files would be world-readable
    try:
        db = tmp_path / "project" / ".llmtap" / "llmtap.db"
        exporter = SQLiteExporter(db)
        exporter.export([llmtap.log_generation(model="m", provider="test", input="secret")])
        files = [db, db.with_name("llmtap.db-wal"), db.with_name("llmtap.db-shm")]
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
        exporter.shutdown()
    finally:
        os.umask(old)
