"""Fixtures for the LlamaIndex integration tests.

LlamaIndex counts tokens with tiktoken, which downloads its encodings on first use;
the tests set a whitespace tokenizer instead, so nothing is fetched.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core import Settings

import llmtap

Settings.tokenizer = str.split

# The helpers this folder's tests share (`from llamaindex_support import ...`).
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def instrumented() -> Iterator[None]:
    llmtap.instrument_llamaindex()
    yield
    llmtap.uninstrument_llamaindex()


@pytest.fixture(params=[False, True], ids=["llamaindex-only", "with-provider"])
def provider_layer(request: pytest.FixtureRequest, instrumented: None) -> Iterator[bool]:
    """Run a test with llmtap-openai and llmtap-anthropic off, then on."""
    if request.param:
        llmtap.instrument_openai()
        llmtap.instrument_anthropic()
    yield request.param
    if request.param:
        llmtap.uninstrument_openai()
        llmtap.uninstrument_anthropic()
