"""Lazy entry points: `llmtap.instrument_openai()` and `llmtap.instrument()`."""

from __future__ import annotations

import logging
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import llmtap
import llmtap.integrations
from llmtap.integrations import ENTRY_POINT_GROUP


class FakeIntegration(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def instrument(self, **options: Any) -> None:
        self.calls.append(("instrument", options))

    def uninstrument(self) -> None:
        self.calls.append(("uninstrument", {}))


class FakeEntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name = name
        self._target = target

    def load(self) -> Any:
        if isinstance(self._target, BaseException):
            raise self._target
        return self._target


def use_entry_points(monkeypatch: pytest.MonkeyPatch, *entries: FakeEntryPoint) -> list[str]:
    groups: list[str] = []

    def entry_points(*, group: str) -> list[FakeEntryPoint]:
        groups.append(group)
        return list(entries)

    monkeypatch.setattr(llmtap.integrations, "entry_points", entry_points)
    return groups


# -- instrument_openai() ---------------------------------------------------------------------


def test_a_missing_integration_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(llmtap.integrations.KNOWN, "openai", ("llmtap_no_such_module", "openai"))

    with pytest.raises(llmtap.IntegrationNotInstalled) as raised:
        llmtap.instrument_openai()

    assert str(raised.value) == (
        "llmtap.instrument_openai() needs the openai integration, which is not installed. "
        'Run: pip install "llmtap[openai]"'
    )
    assert isinstance(raised.value, ImportError)


def test_uninstrument_of_a_missing_integration_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(llmtap.integrations.KNOWN, "openai", ("llmtap_no_such_module", "openai"))

    with pytest.raises(llmtap.IntegrationNotInstalled, match=r'pip install "llmtap\[openai\]"'):
        llmtap.uninstrument_openai()


def test_an_import_error_inside_an_installed_integration_is_not_disguised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "llmtap_broken_integration.py").write_text("import llmtap_missing_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "llmtap_broken_integration", raising=False)
    monkeypatch.setitem(
        llmtap.integrations.KNOWN, "openai", ("llmtap_broken_integration", "openai")
    )

    with pytest.raises(ModuleNotFoundError) as raised:
        llmtap.instrument_openai()

    assert not isinstance(raised.value, llmtap.IntegrationNotInstalled)
    assert raised.value.name == "llmtap_missing_dependency"


def test_instrument_openai_passes_its_options_to_the_integration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = FakeIntegration("llmtap_fake_openai")
    monkeypatch.setitem(sys.modules, "llmtap_fake_openai", module)
    monkeypatch.setitem(llmtap.integrations.KNOWN, "openai", ("llmtap_fake_openai", "openai"))

    llmtap.instrument_openai(capture_raw=True)
    llmtap.uninstrument_openai()

    assert module.calls == [("instrument", {"capture_raw": True}), ("uninstrument", {})]


# -- instrument() ----------------------------------------------------------------------------


def test_instrument_turns_on_every_integration_registered_as_an_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    openai = FakeIntegration("openai")
    anthropic = FakeIntegration("anthropic")
    groups = use_entry_points(
        monkeypatch, FakeEntryPoint("openai", openai), FakeEntryPoint("anthropic", anthropic)
    )

    assert llmtap.instrument() == ["openai", "anthropic"]
    assert groups == [ENTRY_POINT_GROUP]
    assert ENTRY_POINT_GROUP == "llmtap.integrations"
    assert openai.calls == [("instrument", {})]
    assert anthropic.calls == [("instrument", {})]


def test_instrument_with_nothing_installed_returns_no_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_entry_points(monkeypatch)

    assert llmtap.instrument() == []


def test_instrument_skips_an_integration_whose_library_is_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    openai = FakeIntegration("openai")
    use_entry_points(
        monkeypatch,
        FakeEntryPoint("mistralai", ModuleNotFoundError("No module named 'mistralai'")),
        FakeEntryPoint("openai", openai),
    )

    with caplog.at_level(logging.INFO, logger="llmtap"):
        assert llmtap.instrument() == ["openai"]

    assert [r.getMessage() for r in caplog.records] == [
        "llmtap: skipping integration mistralai: No module named 'mistralai'"
    ]
    assert openai.calls == [("instrument", {})]


def test_instrument_survives_an_integration_that_fails_and_turns_on_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken:
        def instrument(self) -> None:
            raise AttributeError("module 'anthropic' has no attribute 'Messages'")

    openai = FakeIntegration("openai")
    use_entry_points(
        monkeypatch, FakeEntryPoint("anthropic", Broken()), FakeEntryPoint("openai", openai)
    )

    assert llmtap.instrument() == ["openai"]
    assert openai.calls == [("instrument", {})]
    assert llmtap.stats()["faults"] == {"instrument.anthropic": 1}
