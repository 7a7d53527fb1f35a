"""What the fault tests share: a real OpenAI client on an in-process server, the doctor's
report, and a child Python that runs a snippet with the test suite's modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from llmtap.cli import main
from support.fake_openai import COMPLETION_TOKENS, PROMPT_TOKENS, WORDS, FakeOpenAI

TESTS = Path(__file__).resolve().parents[1]

__all__ = ["COMPLETION_TOKENS", "PROMPT_TOKENS", "WORDS", "FakeOpenAI", "ask", "doctor"]


def ask(client: Any, text: str) -> Any:
    """One chat completion through the real SDK; the prompt names the call."""
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )


def doctor(capsys: pytest.CaptureFixture[str], db: Path) -> tuple[int, dict[str, Any]]:
    """`llmtap doctor --json` on `db`: its exit code and report."""
    capsys.readouterr()
    code = main(["doctor", "--json", "--db", str(db)])
    return code, json.loads(capsys.readouterr().out)


def run_child(source: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `source` in a new interpreter that can import the suite's support modules."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), *sys.path]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
