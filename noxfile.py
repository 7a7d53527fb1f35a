"""Every check the project runs: `python -m nox` runs the default set (what CI runs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import nox

nox.options.sessions = [
    "lint",
    "types",
    "tests",
    "openai",
    "anthropic",
    "mistralai",
    "langchain",
    "llamaindex",
    "litellm",
    "phoenix",
    "ui",
]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

CORE = "packages/llmtap"
OPENAI = "packages/llmtap-openai"
ANTHROPIC = "packages/llmtap-anthropic"
MISTRALAI = "packages/llmtap-mistralai"
PROVIDERS = [OPENAI, ANTHROPIC, MISTRALAI]
FRAMEWORKS = {
    "langchain": "packages/llmtap-langchain",
    "llamaindex": "packages/llmtap-llamaindex",
    "litellm": "packages/llmtap-litellm",
}
INTEGRATIONS = [*PROVIDERS, *FRAMEWORKS.values()]
# Each framework is tested on its newest release and on the oldest line still in wide use;
# the exact pins live next to its tests, in requirements-<line>.txt.
FRAMEWORK_LINES = ["newest", "oldest"]
# The newest release of every supported major line of each SDK (and the oldest supported
# anthropic release, 0.40.0, which lacks several surfaces).
OPENAI_VERSIONS = ["3.54.0", "2.54.0", "1.109.1"]
ANTHROPIC_VERSIONS = ["2.12.0", "1.17.0", "0.125.0", "0.40.0"]
MISTRALAI_VERSIONS = ["3.7.0", "2.10.1", "1.12.4"]
LINT_TOOLS = ["ruff==0.17.6"]
TYPE_TOOLS = ["mypy==2.4.1"]
UI_TOOLS = ["playwright==1.65.3"]


def editable(*packages: str) -> list[str]:
    return [arg for package in packages for arg in ("-e", package)]


def install_packages(session: nox.Session, *extra: str) -> None:
    """The core and the SDK integrations, editable, plus `extra` requirements."""
    session.install(*editable(CORE, *PROVIDERS), *extra)


def framework_requirements(name: str, line: str) -> list[str]:
    return ["-r", f"tests/llmtap-{name}/requirements-{line}.txt"]


def integration_tests(session: nox.Session, package: str, sdk: str, tests: str) -> None:
    """One integration's tests against one release of its SDK."""
    session.install("-e", CORE, "-e", package, "-r", "tests/requirements.txt", sdk)
    session.run("pytest", tests, *session.posargs)


def framework_tests(session: nox.Session, name: str, line: str) -> None:
    """One framework integration's tests on one line of the framework, with the provider
    integrations installed (the cross-layer tests turn them on and off)."""
    session.install(
        *editable(CORE, *PROVIDERS, FRAMEWORKS[name]),
        "-r",
        "tests/requirements.txt",
        *framework_requirements(name, line),
    )
    session.run("pytest", f"tests/llmtap-{name}", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The core's and the SDK integrations' tests on the newest SDKs (with orjson: both
    encoders are tested). The frameworks pin older SDKs, so they have sessions of their own."""
    install_packages(session, "-r", "tests/requirements.txt", "orjson")
    skip = [f"--ignore=tests/llmtap-{name}" for name in FRAMEWORKS]
    skip += ["--ignore=tests/phoenix", "--ignore=tests/ui"]
    session.run("pytest", *skip, *session.posargs)


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
@nox.parametrize("line", FRAMEWORK_LINES)
def langchain(session: nox.Session, line: str) -> None:
    """The LangChain integration's tests on langchain-core 1.x and 0.3."""
    framework_tests(session, "langchain", line)


@nox.session
@nox.parametrize("line", FRAMEWORK_LINES)
def llamaindex(session: nox.Session, line: str) -> None:
    """The LlamaIndex integration's tests on llama-index-core 0.14 and 0.12."""
    framework_tests(session, "llamaindex", line)


@nox.session
@nox.parametrize("line", FRAMEWORK_LINES)
def litellm(session: nox.Session, line: str) -> None:
    """The LiteLLM integration's tests on the newest litellm and one from mid-2025."""
    framework_tests(session, "litellm", line)


@nox.session
def phoenix(session: nox.Session) -> None:
    """OpenTelemetry export end to end: the test starts Arize Phoenix on 127.0.0.1, sends it
    spans over OTLP/HTTP, reads them back over its API and stops it. No Docker, no network.
    A venv of its own: Phoenix brings about 850 MB of dependencies."""
    session.install(
        *editable(CORE, OPENAI),
        "-r",
        "tests/requirements.txt",
        "-r",
        "tests/phoenix/requirements.txt",
    )
    session.run("pytest", "tests/phoenix", *session.posargs)


def install_chromium(session: nox.Session) -> None:
    """Debian's chromium for the browser tests (never a browser Playwright downloads). When
    it cannot be installed here, the tests skip and say so."""
    if shutil.which("chromium"):
        return
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo"):
        prefix = ["sudo", "-n"]
    else:
        session.warn("chromium is missing and this user cannot install it: browser tests skip")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        if subprocess.run([*prefix, *command], env=env, check=False).returncode != 0:
            session.warn(f"`{' '.join(command)}` failed: browser tests skip")
            return


@nox.session
def ui(session: nox.Session) -> None:
    """`llmtap ui` end to end in headless Chromium over a store recorded from the shared
    cassettes; screenshots land in tests/ui/artifacts/. Playwright is the library only:
    the browser is Debian's chromium, installed here when missing."""
    install_chromium(session)
    session.install(*editable(CORE, OPENAI, ANTHROPIC), "-r", "tests/requirements.txt", *UI_TOOLS)
    session.run("pytest", "tests/ui", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """The fault tests on their own, one line each: raising, stalled and locked exporters,
    a full disk, exit, fork, 10,000 concurrent calls, owner-only files. The `tests`
    session runs them too; this one reproduces the README's fault table."""
    install_packages(session, "-r", "tests/requirements.txt")
    session.run("pytest", "tests/faults", "-v", "--durations=0", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install(*LINT_TOOLS)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def types(session: nox.Session) -> None:
    # The frameworks' newest releases, so the integrations are checked against their real
    # types (only the libraries they import: the test pins of the SDKs under them conflict).
    newest = ["langchain-core==1.7.2", "llama-index-core==0.14.25", "litellm==1.106.2"]
    session.install(
        *editable(CORE, *INTEGRATIONS),
        *TYPE_TOOLS,
        "-r",
        "tests/requirements.txt",
        "types-PyYAML",
        "orjson",
        *newest,
    )
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
    session.run("python", "bench/anthropic_overhead.py", *session.posargs)
    session.run("python", "bench/mistral_overhead.py", *session.posargs)
    session.run("python", "bench/exporter_throughput.py")


@nox.session
def peers(session: nox.Session) -> None:
    """llmtap next to OpenLLMetry, OpenInference, otel-v2, Langfuse, LangSmith and Logfire
    on the same mock traffic (bench/peers/README.md). The driver builds one venv per
    contestant under .nox/peer-venvs with the standard library only: `-- --quick`."""
    session.run("python", "bench/peers/run.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """Memory over 1,000,000 instrumented OpenAI calls with llmtap's own code only (the
    SDK's create replaced) and 100,000 through the real SDK, with and without llmtap;
    bench/README.md. `-- --calls N` sets every run's length."""
    session.install(*editable(f"{CORE}[fast]", OPENAI), "openai==3.54.0")
    session.run("python", "bench/soak.py", "--mode", "wrapper", *session.posargs)
    session.run("python", "bench/soak.py", "--mode", "sdk", *session.posargs)
    # The SDK's own growth, to read the previous run against.
    session.run("python", "bench/soak.py", "--mode", "sdk", "--uninstrumented", *session.posargs)


@nox.session
@nox.parametrize("framework", ["langchain", "llamaindex"])
def soak_handlers(session: nox.Session, framework: str) -> None:
    """Per-run state and memory over 100,000 framework runs. One session per framework:
    their newest lines pin different openai majors. `-- --runs N` shortens it."""
    session.install(
        *editable(f"{CORE}[fast]", FRAMEWORKS[framework]),
        *framework_requirements(framework, "newest"),
    )
    session.run("python", "bench/handler_soak.py", "--framework", framework, *session.posargs)
