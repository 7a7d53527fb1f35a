"""llmtap's LiteLLM logger: a `CustomLogger`, the one kind of callback LiteLLM calls
for every call: sync and async, streamed or not, before the provider request and after.

(A plain function in `litellm.success_callback` is called once per chunk for sync
streams and never for async calls, so llmtap never exports one.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from llmtap.faults import report_fault
from llmtap.generation import Generation, new_record, tracing_enabled
from llmtap.record import ErrorInfo
from llmtap_litellm import mapping
from llmtap_litellm.calls import CALLS


class LlmtapLogger(CustomLogger):
    """Records each LiteLLM call once. LiteLLM calls these methods with keyword
    arguments, so their parameter names are LiteLLM's and must not change."""

    # -- before the provider request: open the call in the caller's context ----------

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict[str, Any]) -> None:
        try:
            if tracing_enabled():
                CALLS.begin(kwargs)
        except Exception as exc:
            report_fault("litellm.pre_api_call", exc)

    async def async_pre_call_deployment_hook(
        self, kwargs: dict[str, Any], call_type: Any
    ) -> dict[str, Any] | None:
        """Runs in the caller's task for async calls, where `log_pre_api_call` may not
        (LiteLLM runs `aembedding` and `atext_completion` set-up on an executor thread)."""
        try:
            if tracing_enabled():
                CALLS.begin(kwargs)
        except Exception as exc:
            report_fault("litellm.pre_call_deployment_hook", exc)
        return None

    def log_post_api_call(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        try:
            sync = not str(kwargs.get("call_type") or "").startswith("a")
            CALLS.provider_returned(kwargs, sync=sync)
        except Exception as exc:
            report_fault("litellm.post_api_call", exc)

    # -- the end of the call: LiteLLM's background thread or event loop ----------------

    def log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        _succeeded(kwargs, response_obj, start_time, end_time)

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        _succeeded(kwargs, response_obj, start_time, end_time)

    def log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        _failed(kwargs, start_time, end_time)

    async def async_log_failure_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        _failed(kwargs, start_time, end_time)


# Once `_ending` has handed out a call's generation, no later event will: if mapping
# what LiteLLM sent faults, the record is still finished with what was known.


def _succeeded(kwargs: Mapping[str, Any], response: Any, start_time: Any, end_time: Any) -> None:
    generation: Generation | None = None
    try:
        if kwargs.get("stream"):
            # The assembled response; an event without one is a chunk, not the end.
            response = kwargs.get("complete_streaming_response") or kwargs.get(
                "async_complete_streaming_response"
            )
            if response is None:
                return
        generation, carries_usage = _ending(kwargs)
        if generation is None:
            return
        record = generation.record
        _use_times(generation, kwargs, start_time, end_time)
        mapping.record_response(record, kwargs, response)
        mapping.record_cost(record, kwargs, carries_usage=carries_usage)
    except Exception as exc:
        report_fault("litellm.success", exc)
    finally:
        if generation is not None:
            generation.finish()


def _failed(kwargs: Mapping[str, Any], start_time: Any, end_time: Any) -> None:
    generation: Generation | None = None
    try:
        generation, _ = _ending(kwargs)
        if generation is None:
            return
        _use_times(generation, kwargs, start_time, end_time)
        mapping.record_request(generation.record, kwargs)
        error = kwargs.get("exception")
        if isinstance(error, BaseException):
            generation.finish(error=error)
            return
        logged = mapping.as_mapping(kwargs.get("standard_logging_object"))
        info = mapping.as_mapping(logged.get("error_information"))
        generation.record.error = ErrorInfo(
            type=str(info.get("error_class") or "Exception"),
            message=str(logged.get("error_str") or ""),
        )
    except Exception as exc:
        report_fault("litellm.failure", exc)
    finally:
        if generation is not None:
            generation.finish(status="error")


def _ending(kwargs: Mapping[str, Any]) -> tuple[Generation | None, bool]:
    """The call's generation on its first end event (None on any later one), and
    whether it carries the usage (False when a provider layer recorded the call)."""
    first, call = CALLS.end(kwargs)
    if not first:
        return None, False
    if call is not None:
        return call.generation, not call.claimed
    if not tracing_enabled():
        return None, False
    # No pre-call seen (a logger registered mid-call, or a path that skips it): the
    # record is built now, with LiteLLM's times.
    record = new_record(mapping.operation_of(kwargs), "generation")
    record.integration = mapping.INTEGRATION
    return Generation(record), True


def _use_times(generation: Generation, kwargs: Mapping[str, Any], start: Any, end: Any) -> None:
    started, ended = mapping.describe(generation.record, kwargs, start, end)
    if started is not None and ended is not None:
        generation.use_times(started, ended)
