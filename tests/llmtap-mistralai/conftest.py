"""Fixtures for the Mistral integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import llmtap


@pytest.fixture
def instrumented() -> Iterator[None]:
    llmtap.instrument_mistralai()
    yield
    llmtap.uninstrument_mistralai()
