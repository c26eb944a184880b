"""Shared test setup: every test gets its own curate cache, and progress bars stay quiet."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_CACHE", str(tmp_path_factory.mktemp("curate-cache")))
    monkeypatch.setenv("CURATE_PROGRESS", "0")
