"""Fill-in-the-middle (`/v1/fim/completions`): code before and after the gap in, the
middle out.

The input is one user message: the `prompt` (the code before the gap) as a text part
and, when given, the `suffix` (the code after it) as a part of type `suffix`, so the two
stay apart and a reader taking the text parts gets the prompt alone. The response and
stream are chat-shaped and read by the chat code.
"""

from __future__ import annotations

from typing import Any

from llmtap.messages import Message, Part, text_part
from llmtap.record import Record
from llmtap_mistralai.messages import value
from llmtap_mistralai.request import Request


def fim_input(prompt: Any, suffix: Any) -> list[Message] | None:
    parts: list[Part] = []
    if isinstance(prompt, str):
        parts.append(text_part(prompt))
    if isinstance(suffix, str):
        parts.append({"type": "suffix", "content": suffix})
    return [{"role": "user", "parts": parts}] if parts else None


class FimRequest(Request):
    """A FIM request; prompt and suffix are strings, so nothing needs copying."""

    __slots__ = ()

    SETTINGS = frozenset(
        {
            "temperature",
            "top_p",
            "max_tokens",
            "min_tokens",
            "stop",
            "random_seed",
            "prompt_cache_key",
        }
    )

    def apply(self, record: Record) -> None:
        super().apply(record)
        record.input = fim_input(value(self.kwargs, "prompt"), value(self.kwargs, "suffix"))
