"""What a Messages request keeps at call time, and how the worker maps it later."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmtap.messages import Message
from llmtap.record import Record
from llmtap.stainless import given, host_of
from llmtap_anthropic.content import input_message, system_parts, tool_definitions

# Request parameters reported in `record.settings` when the caller gave them.
SETTINGS = frozenset(
    {
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tool_choice",
        "thinking",
        "metadata",
        "service_tier",
        "output_config",
        "inference_geo",
        "speed",
    }
)


class MessagesRequest:
    """A `messages.create/parse/stream` request, frozen at call time.

    `kwargs` is the dict Python built for this call, so keeping it is free. The
    `messages` and `tools` lists are copied because callers append to them after the
    call (a tool loop adds each turn), and a one-shot iterable is materialised once, for
    both llmtap and the SDK.
    """

    __slots__ = ("client", "kwargs", "messages", "tools")

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        self.client = client
        self.kwargs = kwargs
        self.messages = self._snapshot("messages")
        self.tools = self._snapshot("tools")

    def _snapshot(self, name: str) -> list[Any] | None:
        value: Any = self.kwargs.get(name)
        if not given(value):
            return None
        items = list(value)
        if not isinstance(value, (list, tuple)):
            self.kwargs = {**self.kwargs, name: items}
        return items

    @property
    def model(self) -> str | None:
        model = self.kwargs.get("model")
        return model if isinstance(model, str) else None

    def apply(self, record: Record) -> None:
        """Settings, system instructions, input messages and tools (on the worker)."""
        kwargs = self.kwargs
        settings = {k: v for k, v in kwargs.items() if k in SETTINGS and given(v)}
        extra_body = kwargs.get("extra_body")
        if isinstance(extra_body, Mapping):
            # Newer SDK lines take sampling parameters (temperature, top_p, top_k) only
            # through extra_body, whose values win over the named ones, as on the wire.
            settings.update((k, v) for k, v in extra_body.items() if k in SETTINGS and given(v))
        record.settings = settings
        if record.server_address is None:
            record.server_address = host_of(self.client)
        messages: list[Message] = []
        system = kwargs.get("system")
        instructions = system_parts(system) if given(system) else None
        if instructions:
            record.system_instructions = instructions
            # Its own parts, so a redactor editing one in place does not edit both.
            messages.append({"role": "system", "parts": system_parts(system)})
        if self.messages is not None:
            messages.extend(input_message(m) for m in self.messages)
        record.input = messages or None
        if self.tools is not None:
            record.tools = tool_definitions(self.tools)


def apply_request_only(request: MessagesRequest, record: Record) -> None:
    """The resolver for calls that returned nothing llmtap can read (errors, raw bodies)."""
    request.apply(record)
