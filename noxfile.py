"""Every check the project runs: `python -m nox` runs the default set (what CI runs)."""

from __future__ import annotations

import os
import tempfile

import nox

nox.options.sessions = ["lint", "types", "tests", "openai", "anthropic", "mistralai"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

CORE = "packages/llmtap"
OPENAI = "packages/llmtap-openai"
ANTHROPIC = "packages/llmtap-anthropic"
MISTRALAI = "packages/llmtap-mistralai"
INTEGRATIONS = [OPENAI, ANTHROPIC, MISTRALAI]
# The newest release of every supported major line of each SDK (and the oldest supported
# anthropic release, 0.40.0, which lacks several surfaces).
OPENAI_VERSIONS = ["3.54.0", "2.54.0", "1.109.1"]
ANTHROPIC_VERSIONS = ["2.12.0", "1.17.0", "0.125.0", "0.40.0"]
MISTRALAI_VERSIONS = ["3.7.0", "2.10.1", "1.12.4"]
LINT_TOOLS = ["ruff==0.17.6"]
TYPE_TOOLS = ["mypy==2.4.1"]


def install_packages(session: nox.Session, *extra: str) -> None:
    """The core and every integration, editable, plus `extra` requirements."""
    editable = [arg for package in (CORE, *INTEGRATIONS) for arg in ("-e", package)]
    session.install(*editable, *extra)


def integration_tests(session: nox.Session, package: str, sdk: str, tests: str) -> None:
    """One integration's tests against one release of its SDK."""
    session.install("-e", CORE, "-e", package, "-r", "tests/requirements.txt", sdk)
    session.run("pytest", tests, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """All packages' tests on the newest SDKs (with orjson: both encoders are tested)."""
    install_packages(session, "-r", "tests/requirements.txt", "orjson")
    session.run("pytest", *session.posargs)


@nox.session
@nox.parametrize("sdk", OPENAI_VERSIONS)
def openai(session: nox.Session, sdk: str) -> None:
    """The OpenAI integration's tests on one line of the openai SDK."""
    integration_tests(session, OPENAI, f"openai=={sdk}", "tests/llmtap-openai")


@nox.session
@nox.parametrize("sdk", ANTHROPIC_VERSIONS)
def anthropic(session: nox.Session, sdk: str) -> None:
    """The Anthropic integration's tests on one line of the anthropic SDK."""
    integration_tests(session, ANTHROPIC, f"anthropic=={sdk}", "tests/llmtap-anthropic")


@nox.session
@nox.parametrize("sdk", MISTRALAI_VERSIONS)
def mistralai(session: nox.Session, sdk: str) -> None:
    """The Mistral integration's tests on one line of the mistralai SDK."""
    integration_tests(session, MISTRALAI, f"mistralai=={sdk}", "tests/llmtap-mistralai")


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*LINT_TOOLS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    install_packages(session, *TYPE_TOOLS, "-r", "tests/requirements.txt", "types-PyYAML", "orjson")
    session.run("mypy")


@nox.session
def demo(session: nox.Session) -> None:
    """`llmtap demo` in a scratch directory, as a new user would run it."""
    session.install("-e", f"{CORE}[demo]", "-e", OPENAI)
    with tempfile.TemporaryDirectory() as scratch:
        session.chdir(scratch)
        session.run("llmtap", "demo", env={"LLMTAP_DB": os.path.join(scratch, "llmtap.db")})


@nox.session
def bench(session: nox.Session) -> None:
    """Overhead per call and per chunk against the bare SDK, and exporter throughput."""
    install_packages(session)
    session.run("python", "bench/openai_overhead.py", *session.posargs)
    session.run("python", "bench/responses_overhead.py", *session.posargs)
    session.run("python", "bench/exporter_throughput.py")
