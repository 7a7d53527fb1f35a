"""The record schema's derived values and the shared OpenAI-format usage mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmtap.record import Record, Usage, iso_utc
from llmtap.usage import from_openai_format, raw_usage


def record(**fields: Any) -> Record:
    return Record(id="0" * 16, trace_id="0" * 32, name="r", **fields)


def test_total_tokens_is_input_plus_output() -> None:
    assert Usage(input_tokens=10, output_tokens=5, reasoning_tokens=2).total_tokens == 15


def test_total_tokens_is_none_when_nothing_was_reported() -> None:
    assert Usage().total_tokens is None
    assert Usage().to_dict() == {
        "input_tokens": None,
        "output_tokens": None,
        "total_tokens": None,
        "cached_input_tokens": None,
        "cache_creation_input_tokens": None,
        "reasoning_tokens": None,
    }


def test_output_tokens_per_second_over_the_whole_call() -> None:
    assert record(usage=Usage(output_tokens=50), duration_s=2.0).output_tokens_per_s == 25.0


def test_output_tokens_per_second_of_a_stream_count_from_the_first_token() -> None:
    streamed = record(
        usage=Usage(output_tokens=50), duration_s=2.5, time_to_first_token_s=0.5, stream=True
    )

    assert streamed.output_tokens_per_s == 25.0


def test_output_tokens_per_second_is_none_without_the_numbers_it_needs() -> None:
    assert record(duration_s=1.0).output_tokens_per_s is None
    assert record(usage=Usage(output_tokens=5)).output_tokens_per_s is None
    assert record(usage=Usage(output_tokens=5), duration_s=0.0).output_tokens_per_s is None
    assert (
        record(usage=Usage(output_tokens=5), duration_s=1.0, stream=True).output_tokens_per_s
        is None
    )


def test_times_render_as_utc_iso_with_microseconds() -> None:
    assert iso_utc(0) == "1970-01-01T00:00:00.000000+00:00"
    assert iso_utc(1_700_000_000.5) == "2023-11-14T22:13:20.500000+00:00"


def test_an_unfinished_record_has_no_end_time() -> None:
    assert record(start_time=0.0).to_dict()["end_time"] is None


# -- OpenAI-format usage ------------------------------------------------------------------------


@dataclass
class PromptDetails:
    cached_tokens: int


@dataclass
class CompletionUsage:
    prompt_tokens: int
    completion_tokens: int
    prompt_tokens_details: PromptDetails | None = None

    def model_dump(self, mode: str = "python", exclude_unset: bool = False) -> dict[str, Any]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


def test_openai_usage_maps_to_normalised_usage() -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "total_tokens": 140,
        "prompt_tokens_details": {"cached_tokens": 64, "cache_write_tokens": 8},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }

    assert from_openai_format(usage) == Usage(
        input_tokens=100,
        output_tokens=40,
        cached_input_tokens=64,
        cache_creation_input_tokens=8,
        reasoning_tokens=30,
    )


def test_openai_usage_objects_map_like_dicts() -> None:
    usage = CompletionUsage(12, 3, PromptDetails(cached_tokens=0))

    assert from_openai_format(usage) == Usage(
        input_tokens=12, output_tokens=3, cached_input_tokens=0
    )


def test_counts_that_are_not_ints_are_not_reported() -> None:
    usage = {"prompt_tokens": "12", "completion_tokens": True}

    assert from_openai_format(usage) == Usage()
    assert from_openai_format(None) == Usage()


def test_raw_usage_is_the_providers_own_fields() -> None:
    assert raw_usage(CompletionUsage(12, 3)) == {"prompt_tokens": 12, "completion_tokens": 3}
    assert raw_usage({"prompt_tokens": 1}) == {"prompt_tokens": 1}
    assert raw_usage(None) is None
    assert raw_usage(42) is None
