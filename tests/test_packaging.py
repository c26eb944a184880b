"""The wheel curate ships: every package of the source tree in it, `filters/` only as `curate.filters`, and
the package data (the card template, benchmarks, presets) beside the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path_factory.mktemp("source")
    for name in ("curate", "filters"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("curate-*.whl")
    return zipfile.ZipFile(built)


def test_every_package_is_in_the_wheel_and_filters_only_under_curate(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    sources = [p for p in ROOT.glob("curate/**/__init__.py")] + [p for p in ROOT.glob("filters/**/__init__.py")]
    for init in sources:
        relative = init.relative_to(ROOT)
        installed = Path("curate") / relative if relative.parts[0] == "filters" else relative
        assert installed.as_posix() in names, installed
    for module in ROOT.glob("filters/*.py"):
        assert f"curate/filters/{module.name}" in names
    assert not any(name.startswith("filters/") for name in names)
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"curate"}


def test_package_data_is_shipped(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "curate/card.md.jinja" in names
    assert any(name.startswith("curate/data/benchmarks/") for name in names)
    assert any(name.startswith("curate/train/presets/") and name.endswith(".yaml") for name in names)
    assert any(name.startswith("curate/synthetic/data/") for name in names)
