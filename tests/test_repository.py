"""The repository keeps its promises: CI runs exactly the README's test command."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    command = next(line for line in ci if line.startswith("python3 -m pip install"))
    readme = (REPO / "README.md").read_text()

    assert f"\n{command}\n" in readme


def test_readme_demo_command_installs_the_demo_extra() -> None:
    readme = (REPO / "README.md").read_text()

    assert '-e "packages/llmtap[demo]" -e packages/llmtap-openai' in readme
    assert ".venv/bin/llmtap demo" in readme
