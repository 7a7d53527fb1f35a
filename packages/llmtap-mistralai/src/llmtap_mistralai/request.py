"""What every surface keeps of a request, the settings it reports, and the server's host."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from llmtap.messages import plain
from llmtap.record import Record


def given(value: Any) -> bool:
    """False for None and the SDK's `Unset()` sentinel (Speakeasy models use it, not None)."""
    return value is not None and type(value).__name__ != "Unset"


def host_of(server_url: Any, config: Any) -> str | None:
    """The host a call went to: the method's `server_url=` override, else the client's."""
    url = server_url
    if not (isinstance(url, str) and url):
        details = getattr(config, "get_server_details", None)
        if details is None:
            return None
        url = details()[0]
    return urlsplit(str(url)).hostname


class Request:
    """The request as the caller sent it, frozen at call time.

    Every SDK method takes keyword arguments only, and `kwargs` is the dict Python built
    for this call, so keeping it is free. Subclasses copy the lists a caller may mutate
    after the call (messages, inputs) in `__init__`, and map them in `apply`, which runs
    on the worker.
    """

    __slots__ = ("config", "kwargs")

    SETTINGS: ClassVar[frozenset[str]] = frozenset()
    """Request parameters reported in `record.settings` when the caller gave them."""

    def __init__(self, instance: Any, kwargs: Mapping[str, Any]) -> None:
        # The client's configuration (its server URL), read on the worker, not now.
        self.config = getattr(instance, "sdk_configuration", None)
        self.kwargs = kwargs

    def snapshot(self, name: str) -> list[Any] | None:
        """A copy of the list argument `name`, taken now because callers mutate it later.

        The SDK types these as any `Iterable`: a one-shot iterable (a generator) is
        materialised, and the SDK is then passed the list instead, so both see every item.
        """
        value: Any = self.kwargs.get(name)
        if not given(value) or isinstance(value, str):
            return None
        items = list(value)
        if not isinstance(value, (list, tuple)):
            self.kwargs = {**self.kwargs, name: items}
        return items

    def apply(self, record: Record) -> None:
        settings = self.SETTINGS
        record.settings = {
            k: plain(v) for k, v in self.kwargs.items() if k in settings and given(v)
        }
        record.server_address = host_of(self.kwargs.get("server_url"), self.config)


def apply_request_only(request: Request, record: Record) -> None:
    """The resolver for calls that returned nothing llmtap can read (errors)."""
    request.apply(record)
