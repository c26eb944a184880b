"""A workspace per test, as a user has one: a folder (the current directory) with a source parquet in
`data/`, a recipe beside it, and notes of the user's own that must survive whatever curate does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hostile.cli import write_recipe, write_source


@dataclass
class Workspace:
    root: Path
    source: Path
    recipe: Path
    out: Path


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    source = write_source(root / "data" / "src.parquet")
    (root / "data" / "README.txt").write_text("my notes about this data\n")
    (root / "notes.md").write_text("my own notes\n")
    recipe = write_recipe(root / "recipe.yaml", "data/src.parquet", "out/hostile")
    return Workspace(root, source, recipe, root / "out" / "hostile")
