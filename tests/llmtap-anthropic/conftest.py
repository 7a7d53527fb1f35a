"""Fixtures for the Anthropic integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import llmtap


@pytest.fixture
def instrumented() -> Iterator[None]:
    llmtap.instrument_anthropic()
    yield
    llmtap.uninstrument_anthropic()
