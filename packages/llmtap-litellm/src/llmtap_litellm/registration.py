"""Putting llmtap's logger into LiteLLM's callback lists, and taking it out again.

`litellm.callbacks` is the one list whose loggers LiteLLM calls for everything: it
copies them into the input, success, failure and async lists on each call, and only
loggers there get `async_pre_call_deployment_hook`. A logger placed only in
`success_callback` would miss async calls and the pre-call hook, so llmtap's logger
adds itself to `litellm.callbacks` whichever style the user chose.
"""

from __future__ import annotations

import threading
from typing import Any

import litellm

from llmtap_litellm.logger import LlmtapLogger

# Every list LiteLLM keeps loggers in (some exist only on some releases).
_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "_async_input_callback",
    "_async_success_callback",
    "_async_failure_callback",
    "service_callback",
)

_lock = threading.Lock()


def register(logger: LlmtapLogger) -> None:
    with _lock:
        callbacks = litellm.callbacks
        if logger not in callbacks:
            manager: Any = getattr(litellm, "logging_callback_manager", None)
            add = getattr(manager, "add_litellm_callback", None)
            if callable(add):
                add(logger)
            else:
                callbacks.append(logger)


def unregister_all() -> None:
    """Remove every llmtap logger from every LiteLLM list, in place."""
    with _lock:
        for name in _LISTS:
            callbacks = getattr(litellm, name, None)
            if isinstance(callbacks, list):
                callbacks[:] = [c for c in callbacks if not isinstance(c, LlmtapLogger)]


def is_registered() -> bool:
    return any(isinstance(c, LlmtapLogger) for c in litellm.callbacks)
