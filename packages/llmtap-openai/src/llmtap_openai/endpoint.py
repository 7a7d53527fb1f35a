"""Which client a call goes through: provider name, host, and whether the host takes
`stream_options` (needed for exact usage on chat streams)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

import openai

from llmtap.faults import logger

StreamUsageMode = Literal["auto", "always", "never"]

_AZURE_CLIENTS = (openai.AzureOpenAI, openai.AsyncAzureOpenAI)
# Azure accepts stream_options from this API version on (2024-09-01-preview); earlier
# versions reject the request.
_AZURE_STREAM_OPTIONS_SINCE = "2024-09-01"
_OPENAI_HOSTS = frozenset({"api.openai.com"})


def provider_of(client: Any) -> str:
    return "azure.ai.openai" if isinstance(client, _AZURE_CLIENTS) else "openai"


@dataclass
class StreamUsagePolicy:
    """When llmtap may add `stream_options={"include_usage": true}` to a chat stream.

    `auto` (default) adds it only for servers known to accept it (api.openai.com, Azure
    from API version 2024-09-01, and hosts listed by the user); `always` adds it
    everywhere; `never` leaves requests untouched. A server that answers 4xx naming
    `stream_options` is remembered and never sent it again (the call is retried once
    without it, so the caller sees what it would have seen without llmtap).
    """

    mode: StreamUsageMode = "auto"
    hosts: frozenset[str] = frozenset()
    rejected: set[str] = field(default_factory=set)

    @classmethod
    def from_options(
        cls, mode: StreamUsageMode | None, hosts: tuple[str, ...] | list[str] | None
    ) -> StreamUsagePolicy:
        if mode is None:
            raw = os.environ.get("LLMTAP_OPENAI_STREAM_USAGE", "auto").strip().lower()
            if raw in ("auto", "always", "never"):
                mode = raw  # type: ignore[assignment]
            else:
                logger.warning(
                    "llmtap: ignoring LLMTAP_OPENAI_STREAM_USAGE=%r; use auto, always or never", raw
                )
                mode = "auto"
        if mode not in ("auto", "always", "never"):
            raise ValueError(
                f"instrument_openai(stream_usage={mode!r}) must be 'auto', 'always' or 'never'"
            )
        if hosts is None:
            env_hosts = os.environ.get("LLMTAP_OPENAI_STREAM_USAGE_HOSTS", "")
            hosts = [h.strip() for h in env_hosts.split(",") if h.strip()]
        if isinstance(hosts, str):  # type: ignore[unreachable]
            raise ValueError("instrument_openai(stream_usage_hosts=...) takes a list of host names")
        return cls(mode=mode, hosts=frozenset(h.lower() for h in hosts))

    def allows(self, client: Any, host: str | None) -> bool:
        if self.mode == "never" or host is None or host in self.rejected:
            return False
        if self.mode == "always" or host in _OPENAI_HOSTS or host in self.hosts:
            return True
        if isinstance(client, _AZURE_CLIENTS):
            version = getattr(client, "_api_version", None)
            return isinstance(version, str) and version >= _AZURE_STREAM_OPTIONS_SINCE
        return False

    def is_rejection(self, error: BaseException) -> bool:
        status = getattr(error, "status_code", None)
        return isinstance(status, int) and 400 <= status < 500 and "stream_options" in str(error)

    def remember_rejection(self, host: str | None) -> None:
        if host is not None and host not in self.rejected:
            self.rejected.add(host)
            logger.info(
                "llmtap: %s rejected stream_options; streams to it are no longer sent it, "
                "so their usage is recorded only if the server sends it unasked",
                host,
            )
