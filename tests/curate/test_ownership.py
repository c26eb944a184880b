"""Output folders: ownership, the lock, and a swap that loses nothing whenever it is cut short."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.ownership import META, claim, protected_paths, read_owner, settle
from curate.recipe import parse_recipe


class Killed(BaseException):
    """What a kill -9 at that instant leaves: nothing after it runs (not even `except Exception`)."""


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in folder.iterdir() if p.is_file()}


OLD = {"train.parquet": "old train", "stats.json": "old stats", "dedup_report.json": "old report"}
NEW = {"train.parquet": "new train", "stats.json": "new stats", "README.md": "new card"}


def _first_output(target: Path) -> None:
    with claim(target, command="run") as out, out.staged() as staging:
        _write(staging, OLD)


def _swap_killed_after(target: Path, steps: int, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Swap NEW in over OLD, killed at the rename after the first `steps` ones; True if it was killed."""
    calls = 0
    real_rename, real_replace = os.rename, os.replace

    def counting(real):
        def call(src, dst):
            nonlocal calls
            if str(src).startswith(str(target)) and Path(dst).parent.name != META:  # not the bookkeeping
                calls += 1
                if calls > steps:
                    raise Killed
            return real(src, dst)

        return call

    monkeypatch.setattr(os, "rename", counting(real_rename))
    monkeypatch.setattr(os, "replace", counting(real_replace))
    try:
        with claim(target, command="run") as out, out.staged() as staging:
            _write(staging, NEW)
    except Killed:
        return True
    finally:
        monkeypatch.setattr(os, "rename", real_rename)
        monkeypatch.setattr(os, "replace", real_replace)
    return False


def test_a_swap_killed_at_any_step_is_completed_by_the_next_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kill the swap before each rename it makes, in turn: every old file is always in place or kept in
    `.curate/previous`, every new one staged or in place, and the next command finishes the swap."""
    steps = 0
    while True:
        target = tmp_path / f"out{steps}"
        _first_output(target)
        (target / "mine.txt").write_text("the user's")
        killed = _swap_killed_after(target, steps, monkeypatch)
        meta = target / META
        live = _contents(target)
        kept = _contents(meta / "previous") if (meta / "previous").exists() else {}
        staged = {}
        for folder in meta.glob("staging-*"):
            staged.update(_contents(folder))
        if killed:  # every rename comes after the journal: the swap is decided, and nothing is lost
            assert (meta / "journal.json").exists()
            assert all(live.get(n) == t or kept.get(n) == t for n, t in OLD.items())
            assert all(live.get(n) == t or staged.get(n) == t for n, t in NEW.items())
        assert live["mine.txt"] == "the user's"
        with claim(target, command="run"):  # the next command on the folder
            pass
        assert _contents(target) == {**NEW, "mine.txt": "the user's"}
        assert sorted(os.listdir(meta)) == ["lock", "owner.json"]
        if not killed:
            break
        steps += 1
    assert steps >= 6  # every rename of the swap was a kill point


def test_a_failed_write_keeps_the_previous_output_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _first_output(target)
    with pytest.raises(RuntimeError), claim(target, command="run") as out, out.staged() as staging:
        _write(staging, NEW)
        raise RuntimeError("the run failed")
    assert _contents(target) == OLD
    assert sorted(os.listdir(target / META)) == ["lock", "owner.json"]


def test_the_marker_lists_what_each_command_wrote(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _first_output(target)
    with claim(target, command="train") as out:
        out.record(["train.sh"])
        (target / "train.sh").write_text("#!/bin/sh\n")
    with claim(target, command="run") as out, out.staged() as staging:
        _write(staging, NEW)
    owner = read_owner(target)
    assert owner == {**dict.fromkeys(NEW, "run"), "train.sh": "train"}  # the stale report is gone
    assert (target / "train.sh").read_text() == "#!/bin/sh\n" and not (target / "dedup_report.json").exists()


def test_a_second_holder_is_refused_with_the_first_ones_name(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with (
        claim(target, command="run"),
        pytest.raises(CurateError, match=r"another curate command.*`curate run`"),
        claim(target, command="eval"),
    ):
        pass


def test_a_marker_that_is_not_curates_is_no_marker(tmp_path: Path) -> None:
    target = tmp_path / "out"
    (target / META).mkdir(parents=True)
    (target / META / "owner.json").write_text(json.dumps({"format": "something else", "files": {}}))
    (target / "data.csv").write_text("a,b\n")
    assert read_owner(target) is None
    with pytest.raises(CurateError, match="did not write"), claim(target, command="run"):
        pass


def test_records_of_files_that_are_gone_are_dropped(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with claim(target, command="eval") as out:
        out.record(["scored.jsonl", "metrics.json"])
        (target / "metrics.json").write_text("{}")
    with claim(target, command="eval"):
        pass
    assert read_owner(target) == {"metrics.json": "eval"}


def test_settle_completes_a_decided_swap_for_readers(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _first_output(target)
    staging = target / META / "staging-1-1"
    staging.mkdir()
    _write(staging, NEW)
    journal = {
        "format": "curate-output/1",
        "staging": staging.name,
        "install": sorted(NEW),
        "remove": ["dedup_report.json"],
        "files": dict.fromkeys(NEW, "run"),
    }
    (target / META / "journal.json").write_text(json.dumps(journal))
    settle(target)
    assert _contents(target) == NEW


@pytest.mark.parametrize(
    ("source", "clear", "inside"),
    [
        ("data/train.parquet", ["data"], []),
        ("data", ["data"], ["data"]),
        ("data/*.parquet", ["data"], []),
        ("data/**/*.parquet", ["data"], ["data"]),
        ("data/shard-*/x.parquet", ["data"], []),
    ],
)
def test_protected_paths_of_a_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, clear: list[str], inside: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    recipe = parse_recipe(f"name: r\nsource: {{path: '{source}'}}\noutput: {{dir: out}}\n")
    keep, forbidden = protected_paths(recipe)
    assert [Path(p).resolve() for p, _ in keep] == [(tmp_path / c).resolve() for c in clear]
    assert [Path(p).resolve() for p, _ in forbidden] == [(tmp_path / c).resolve() for c in inside]
