"""Fixtures for the LangChain integration tests.

Every test drives the real LangChain (ChatOpenAI, ChatAnthropic, LangGraph) over real
recorded provider traffic. `layers` runs a test twice: with the LangChain handler alone,
and with llmtap's OpenAI and Anthropic integrations on as well, where the provider
record must carry the usage and the LangChain step must not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

import llmtap
from support.cassettes import SHARED_CASSETTES, records_of

# The helpers this folder's tests share (`from langchain_truth import ...`).
sys.path.insert(0, str(Path(__file__).parent))

# A test session without LangChain installed (another package's), or without the
# shared cassettes, has nothing to run here.
if find_spec("langchain_core") is None or not (SHARED_CASSETTES / "langchain").is_dir():
    collect_ignore_glob = ["test_*.py"]

Records = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def handler() -> Any:
    return llmtap.langchain_callback()


@pytest.fixture(params=["langchain", "langchain+provider"])
def layers(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which llmtap layers record: the LangChain handler alone, or with the SDK's."""
    if request.param == "langchain+provider":
        llmtap.instrument_openai()
        llmtap.instrument_anthropic()
    yield request.param
    if request.param == "langchain+provider":
        llmtap.uninstrument_openai()
        llmtap.uninstrument_anthropic()


@pytest.fixture
def records(memory: Any) -> Records:
    """Every record so far, oldest first, as dicts."""
    return lambda: records_of(memory)


@pytest.fixture(autouse=True)
def _global_handler_off() -> Iterator[None]:
    """`instrument()` is process-wide: no test leaves it on for the next one."""
    yield
    llmtap.uninstrument_langchain()
