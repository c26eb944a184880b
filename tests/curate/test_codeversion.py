"""Step code versions follow the code a filter imports: found by reading the imports, not from lists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from curate import codeversion
from curate.codeversion import closure, code_version


def test_token_length_depends_on_the_formatting_it_counts() -> None:
    found = closure(["curate.filters.token_length"], frozenset({"curate"}))
    assert {"curate.formatting", "curate.filters.base", "curate.tokenizers", "curate"} <= found
    assert any(name.startswith("curate.tokenizers.") for name in found)
    # Not the rest of curate: the engine, the card and the other filters do not change its results.
    assert not found & {"curate.engine", "curate.card", "curate.filters.dedup", "curate.filters.decontaminate"}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "myfilters"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "main.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from myfilters import typing_only\n"
        "def run():\n    from . import lazy\n    return lazy.VALUE\n"
    )
    for name in ("lazy", "typing_only", "unrelated"):
        (root / f"{name}.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for cache in (codeversion._origin, codeversion._spec, codeversion._imports):
        cache.cache_clear()
    yield root
    for name in [m for m in sys.modules if m.startswith("myfilters")]:
        del sys.modules[name]
    for cache in (codeversion._origin, codeversion._spec, codeversion._imports):
        cache.cache_clear()


def version_after(package: Path, module: str, text: str) -> str:
    (package / f"{module}.py").write_text(text)
    codeversion._imports.cache_clear()
    return code_version("myfilters.main")


def test_a_lazy_import_counts_a_type_checking_one_does_not(package: Path) -> None:
    assert closure(["myfilters.main"], frozenset({"curate", "myfilters"})) == {
        "myfilters",
        "myfilters.main",
        "myfilters.lazy",
    }
    before = code_version("myfilters.main")
    assert version_after(package, "typing_only", "VALUE = 2\n") == before
    assert version_after(package, "unrelated", "VALUE = 2\n") == before
    assert version_after(package, "lazy", "VALUE = 2\n") != before
