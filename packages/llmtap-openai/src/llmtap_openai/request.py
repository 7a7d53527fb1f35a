"""What every surface keeps of a request, and the settings it reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from llmtap.record import Record
from llmtap.stainless import given, host_of


class Request:
    """The request as the caller sent it, frozen at call time.

    `kwargs` is the dict Python built for this call, so keeping it is free. Subclasses
    copy the lists a caller may mutate after the call (messages, input items) in their
    `__init__`, and map them in `apply`, which runs on the worker.
    """

    __slots__ = ("client", "kwargs")

    SETTINGS: ClassVar[frozenset[str]] = frozenset()
    """Request parameters reported in `record.settings` when the caller gave them."""

    def __init__(self, client: Any, kwargs: Mapping[str, Any]) -> None:
        self.client = client
        self.kwargs = kwargs

    def snapshot(self, name: str) -> list[Any] | None:
        """A copy of the list argument `name`, taken now because callers mutate it later.

        A one-shot iterable (a generator) is materialised, and the SDK is then passed the
        list instead, so both see every item.
        """
        value: Any = self.kwargs.get(name)
        if not given(value):
            return None
        items = list(value)
        if not isinstance(value, (list, tuple)):
            self.kwargs = {**self.kwargs, name: items}
        return items

    def apply(self, record: Record) -> None:
        settings = self.SETTINGS
        record.settings = {k: v for k, v in self.kwargs.items() if k in settings and given(v)}
        if record.server_address is None:
            record.server_address = host_of(self.client)


def apply_request_only(request: Request, record: Record) -> None:
    """The resolver for calls that returned nothing llmtap can read (errors, raw bodies)."""
    request.apply(record)
