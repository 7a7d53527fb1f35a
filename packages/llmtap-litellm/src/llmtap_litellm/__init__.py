"""llmtap integration for LiteLLM (`litellm` 1.74.15 and newer).

Any of these records every `completion`, `embedding`, `responses` and
`text_completion` call (and their async forms), streamed or not, once:

    litellm.success_callback = [llmtap.litellm_success_callback]
    litellm.failure_callback = [llmtap.litellm_failure_callback]
    # or
    litellm.callbacks = [llmtap.litellm_logger()]
    # or
    llmtap.instrument_litellm()

All three are the same shared `CustomLogger`; see README.md for what is recorded and
how a call LiteLLM makes through the `openai` SDK is recorded once across both layers.
"""

from __future__ import annotations

from typing import Any

import llmtap
from llmtap.pipeline import PIPELINE
from llmtap_litellm.calls import CALLS
from llmtap_litellm.logger import LlmtapLogger
from llmtap_litellm.registration import is_registered, register, unregister_all

__all__ = [
    "FAILURE_CALLBACK",
    "SUCCESS_CALLBACK",
    "LlmtapLogger",
    "flush",
    "instrument",
    "is_instrumented",
    "logger",
    "uninstrument",
]

_LOGGER = LlmtapLogger()


def logger() -> LlmtapLogger:
    """The shared logger, for `litellm.callbacks = [llmtap.litellm_logger()]`.

    One instance serves every registration: LiteLLM adds a logger to its lists once per
    instance, and one call must give one record however many places it is listed in.
    """
    return _LOGGER


def instrument() -> None:
    """Add the logger to `litellm.callbacks` (once; calling again changes nothing)."""
    register(_LOGGER)


def uninstrument() -> None:
    """Remove llmtap's loggers from every LiteLLM callback list; calls still in flight
    are recorded as incomplete."""
    unregister_all()
    CALLS.abandon_all()


def is_instrumented() -> bool:
    return is_registered()


def flush(timeout: float = 10.0) -> bool:
    """Wait for LiteLLM to log the sync calls that have already returned (it does so on
    a background thread), then for llmtap to export everything; False on timeout."""
    return CALLS.wait(timeout) and llmtap.flush(timeout)


# LiteLLM logs a sync call on a background thread after returning its result, so a
# flush right after the call must wait for it. The core's flush calls these hooks
# first (`Pipeline.add_flush_hook`, where the installed core has it).
_add_flush_hook = getattr(PIPELINE, "add_flush_hook", None)
if callable(_add_flush_hook):
    _add_flush_hook(CALLS.wait)


def __getattr__(name: str) -> Any:
    # `SUCCESS_CALLBACK` and `FAILURE_CALLBACK` are the shared logger, registered in
    # `litellm.callbacks` as they are handed out: LiteLLM calls a logger that sits only
    # in `success_callback` for sync calls alone, and never before the provider request.
    if name in ("SUCCESS_CALLBACK", "FAILURE_CALLBACK"):
        register(_LOGGER)
        return _LOGGER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
