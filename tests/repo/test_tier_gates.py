"""A tier that cannot run here (no Chromium, no qemu) is one skipped test saying how to enable it; under CI it fails
instead, so CI can never pass with a tier skipped (tests/support.py; used by tests/browser and tests/artifact)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.support import cannot_run_tier, skip_tier_in_one_line

PROBLEM, ENABLE = "no Chromium found", "install Chromium (`apt-get install -y chromium`)"


class Item:
    def __init__(self, name: str) -> None:
        self.name, self.markers = name, list[Any]()

    def add_marker(self, marker: Any) -> None:
        self.markers.append(marker)


@pytest.mark.parametrize(("ci", "problem"), [("", PROBLEM), ("true", PROBLEM), ("", None)], ids=["here", "ci", "ok"])
def test_a_tier_that_cannot_run_is_one_skip_here_and_a_failure_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, problem: str | None
) -> None:
    monkeypatch.setenv("CI", ci)
    other, tier = Item("other tier"), [Item("a"), Item("b"), Item("c")]
    items, deselected = [other, *tier], list[Any]()
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)))

    skip_tier_in_one_line(config, items, list(tier), "browser tier", problem, ENABLE)

    if ci or problem is None:  # every test stays, and the tier's session fixture fails each under CI
        assert (items, deselected, [i.markers for i in tier]) == ([other, *tier], [], [[], [], []])
    else:
        assert (items, deselected) == ([other, tier[0]], tier[1:])
        [skip] = tier[0].markers
        assert skip.kwargs["reason"] == f"browser tier (3 tests): {PROBLEM}; to run it, {ENABLE}"
    if problem is not None:
        with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception) as stopped:
            cannot_run_tier("browser tier", problem, ENABLE)
        here = f"browser tier: {PROBLEM}; to run it, {ENABLE}"
        assert str(stopped.value) == (f"browser tier cannot run under CI: {PROBLEM}; {ENABLE}" if ci else here)
