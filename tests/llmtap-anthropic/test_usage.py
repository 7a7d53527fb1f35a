"""Anthropic usage: merged across stream events and normalised, exactly."""

from __future__ import annotations

from anthropic.types import MessageDeltaUsage, Usage

from llmtap.record import Usage as Normalised
from llmtap.usage import from_anthropic_format as normalise
from llmtap.usage import merge_usage


def test_later_non_null_values_win_and_nulls_never_overwrite() -> None:
    start = Usage.model_validate(
        {
            "input_tokens": 9,
            "cache_read_input_tokens": 30,
            "cache_creation_input_tokens": None,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 1,
        }
    )
    end = MessageDeltaUsage.model_validate(
        {
            "input_tokens": None,
            "cache_read_input_tokens": None,
            "cache_creation_input_tokens": 4,
            "output_tokens": 77,
        }
    )

    assert merge_usage(start, end) == {
        "input_tokens": 9,
        "cache_read_input_tokens": 30,
        "cache_creation_input_tokens": 4,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 77,
    }


def test_nested_fields_merge_field_by_field() -> None:
    start = {
        "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 2},
        "output_tokens": 1,
    }
    end = {
        "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": None},
        "output_tokens": 5,
    }

    assert merge_usage(start, None, end) == {
        "server_tool_use": {"web_search_requests": 3, "web_fetch_requests": 2},
        "output_tokens": 5,
    }
    assert merge_usage(None, None) is None


def test_input_includes_cache_reads_and_writes() -> None:
    usage = {
        "input_tokens": 3,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 20,
        "output_tokens": 8,
        "output_tokens_details": {"thinking_tokens": 5},
    }

    assert normalise(usage) == Normalised(
        input_tokens=123,
        output_tokens=8,
        cached_input_tokens=100,
        cache_creation_input_tokens=20,
        reasoning_tokens=5,
    )


def test_unreported_counts_stay_null() -> None:
    assert normalise({"input_tokens": 17, "output_tokens": 220}) == Normalised(
        input_tokens=17, output_tokens=220
    )
    assert normalise({"output_tokens": 4}) == Normalised(output_tokens=4)
    assert normalise(None) == Normalised()
    assert normalise({"input_tokens": True, "output_tokens": 2.0}) == Normalised()
