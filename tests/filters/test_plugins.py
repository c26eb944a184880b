"""Filters from outside curate: the example plugin package (`examples/curate-plugin`) installed into a folder
of its own, found through its `curate.filters` entry point or by dotted path, and run by the command line in
a fresh process, as a user who pip-installed it would run it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from curate.synthetic import generate

ROOT = Path(__file__).parents[2]
PLUGIN = ROOT / "examples" / "curate-plugin"
CURATE = Path(sys.executable).with_name("curate")
RECIPE = """\
name: plugin-test
source: {{path: {source}}}
filters:
  - source: {{exclude: [cn_k12]}}
  - {name}: {{max_repeats: 3}}
sample: {{test_size: 0}}
output: {{dir: {out}}}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin, installed by pip (metadata and entry points included) into a folder put on PYTHONPATH."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build") / "curate-plugin"
    shutil.copytree(PLUGIN, build)  # pip builds in the source folder; the repository's stays untouched
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(build)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "sample.parquet"
    pq.write_table(generate(400, seed=1), path)
    return path


def curate(site: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "CURATE_PROGRESS": "0"}
    done = subprocess.run([str(CURATE), *args], env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def run(site: Path, tmp_path: Path, source: Path, name: str, out: str = "out") -> dict:
    recipe = tmp_path / f"{out}.yaml"
    recipe.write_text(RECIPE.format(source=source, name=name, out=tmp_path / out))
    curate(site, "run", str(recipe), "--workers", "2")
    return json.loads((tmp_path / out / "stats.json").read_text())


def most_repeated(text: str, min_words: int = 4) -> int:
    """How often the reasoning's most repeated sentence is written: an independent count of what the plugin
    decides on."""
    reasoning = text.partition("</think>")[0]
    parts = [" ".join(p.split()) for p in re.split(r"(?<=[.!?])\s+", reasoning)]
    counts = Counter(p for p in parts if len(p.split()) >= min_words)
    return max(counts.values(), default=0)


def test_curate_filters_lists_the_plugin(site: Path) -> None:
    listing = curate(site, "filters").stdout
    line = next(line for line in listing.splitlines() if line.startswith("sentence_loop "))
    assert "[trace] (plugin: curate-loops 0.1.0)" in line and "max_repeats=3" in line and "min_words=4" in line
    # Not installed, it is not there, and a recipe naming it fails before reading data, in one line.
    assert "sentence_loop" not in curate(ROOT, "filters").stdout


@pytest.mark.parametrize("name", ["sentence_loop", "curate_loops.quality:SentenceLoop"])
def test_a_plugin_filter_runs_from_yaml_and_is_counted(site: Path, tmp_path: Path, source: Path, name: str) -> None:
    stats = run(site, tmp_path, source, name)
    step = next(e for e in stats["funnel"] if e["filter"] == name)
    rejected = pl.read_parquet(tmp_path / "out" / "rejections.parquet").filter(pl.col("filter") == name)
    assert step["dropped"] == {"sentence_loop": rejected.height} and rejected.height > 0
    assert step["rows_in"] - step["rows_out"] == rejected.height
    rows = pl.read_parquet(source).filter(pl.col("uuid").is_in(rejected["uuid"].to_list()))
    for generations in rows["generations"]:  # every generation of a dropped row loops
        assert all(most_repeated(g) > 3 for g in generations)
    kept = pl.read_parquet(tmp_path / "out" / "train.parquet")
    for messages in kept["messages"]:
        assert most_repeated(messages[1]["content"]) <= 3
    report = json.loads((tmp_path / "out" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)}_report.json").read_text())
    assert report["dropped"] == rejected.height
    lock = (tmp_path / "out" / "recipe.lock.yaml").read_text()
    assert f"{name}:" in lock and "max_repeats: 3" in lock


def test_a_plugin_filter_is_cached_until_its_code_changes(tmp_path: Path, source: Path, site: Path) -> None:
    own = tmp_path / "site"
    shutil.copytree(site, own)
    first = run(own, tmp_path, source, "sentence_loop", "a")
    again = run(own, tmp_path, source, "sentence_loop", "b")
    cached = {e["filter"]: e.get("cached") for e in again["funnel"]}
    assert cached["sentence_loop"] is True and not {e["filter"]: e.get("cached") for e in first["funnel"]}["sentence_loop"]
    # The filter's module is unchanged; the helper module it imports is edited: the step runs again.
    helper = own / "curate_loops" / "sentences.py"
    helper.write_text(helper.read_text() + "\n# edited\n")
    edited = run(own, tmp_path, source, "sentence_loop", "c")
    step = next(e for e in edited["funnel"] if e["filter"] == "sentence_loop")
    assert step["cached"] is False
    assert next(e for e in edited["funnel"] if e["filter"] == "source")["cached"] is True


def test_a_broken_plugin_reference_is_one_line(site: Path, tmp_path: Path, source: Path) -> None:
    for name, message in [
        ("curate_loops.quality:NoSuchFilter", "has no attribute 'NoSuchFilter'"),
        ("curate_loops.sentences:most_repeated", "not a RowFilter, GlobalFilter or TraceFilter subclass"),
        ("no_such_pkg.mod:Cls", "cannot import 'no_such_pkg.mod'"),
    ]:
        recipe = tmp_path / "bad.yaml"
        recipe.write_text(RECIPE.format(source=source, name=name, out=tmp_path / "bad"))
        done = curate(site, "validate", str(recipe), check=False)
        assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith("curate: error:") and message in done.stderr and "bad.yaml:5" in done.stderr


def test_a_broken_plugin_is_listed_and_named_in_one_line(site: Path, tmp_path: Path, source: Path) -> None:
    """An installed distribution whose entry point names a module that does not import."""
    broken = tmp_path / "broken"
    info = broken / "broken_loops-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-loops\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[curate.filters]\nbroken_loop = broken_loops.missing:Loop\n")
    both = f"{site}{os.pathsep}{broken}"
    listing = curate(Path(both), "filters").stdout
    assert "sentence_loop [trace] (plugin: curate-loops 0.1.0)" in listing
    assert "broken_loop [plugin, cannot be loaded]" in listing and "cannot import 'broken_loops.missing'" in listing
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(RECIPE.format(source=source, name="broken_loop", out=tmp_path / "bad"))
    done = curate(Path(both), "validate", str(recipe), check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "bad.yaml:5: plugin filter 'broken_loop'" in done.stderr and "cannot import" in done.stderr
