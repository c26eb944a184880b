"""Data loss: no command deletes, hides or overwrites anything curate did not write, and no crash or
concurrent run loses an output. Each case checks the user's files byte for byte afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.hostile.cli import (
    TRAIN_DRY_RUN,
    assert_ok,
    assert_user_error,
    process_env,
    run_here,
    snapshot,
    write_recipe,
)
from tests.hostile.conftest import Workspace

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize(
    ("out", "what"),
    [
        (".", "the current directory"),
        ("data", "the source data's folder"),
        ("..", "a folder that holds the current directory"),
        ("/", "filesystem root"),
    ],
)
def test_protected_folders_are_refused_even_with_force(
    ws: Workspace, capfd: pytest.CaptureFixture[str], out: str, what: str, force: bool
) -> None:
    before = snapshot(ws.root.parent)
    outcome = run_here(capfd, "run", str(ws.recipe), "--out", out, *(["--force"] if force else []))
    assert_user_error(outcome, what)
    assert snapshot(ws.root.parent) == before


def test_the_recipes_folder_is_refused(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    recipe = write_recipe(ws.root / "recipes" / "r.yaml", ws.source, "recipes")
    before = snapshot(ws.root)
    assert_user_error(run_here(capfd, "run", str(recipe), "--force"), "the recipe's folder")
    assert snapshot(ws.root) == before


def test_the_home_folder_is_refused(
    ws: Workspace, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = ws.root.parent / "home"
    home.mkdir()
    (home / ".bashrc").write_text("export A=1\n")
    monkeypatch.setenv("HOME", str(home))
    assert_user_error(run_here(capfd, "run", str(ws.recipe), "--out", "~", "--force"), "home folder")
    assert (home / ".bashrc").read_text() == "export A=1\n"


def test_an_empty_output_dir_is_refused(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    recipe = write_recipe(ws.root / "empty.yaml", ws.source, '""')
    before = snapshot(ws.root)
    assert_user_error(run_here(capfd, "run", str(recipe)), "output folder is empty")
    assert snapshot(ws.root) == before


def test_an_output_inside_a_folder_source_is_refused(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    """The next run would read the outputs' parquet files as source rows."""
    before = snapshot(ws.root)
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "data", "--out", "data/curated", "--force")
    assert_user_error(outcome, "inside the source data's folder")
    assert snapshot(ws.root) == before


@pytest.mark.parametrize(("out", "what"), [("notes.md", "is a file"), ("notes.md/sub", "which is a file")])
def test_an_output_at_or_under_a_file_is_refused(
    ws: Workspace, capfd: pytest.CaptureFixture[str], out: str, what: str
) -> None:
    before = snapshot(ws.root)
    assert_user_error(run_here(capfd, "run", str(ws.recipe), "--out", out, "--force"), what)
    assert snapshot(ws.root) == before


def test_a_folder_of_the_users_files_needs_force_and_keeps_them(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    mine = ws.root / "mine"
    (mine / "sub").mkdir(parents=True)
    (mine / "a.txt").write_text("a\n")
    (mine / "sub" / "b.bin").write_bytes(os.urandom(256))
    before = snapshot(mine)
    assert_user_error(run_here(capfd, "run", str(ws.recipe), "--out", "mine"), "did not write", "--force")
    assert snapshot(mine) == before
    assert_ok(run_here(capfd, "run", str(ws.recipe), "--out", "mine", "--force"))
    after = snapshot(mine)
    assert {k: after[k] for k in before} == before and "train.parquet" in after
    assert_ok(run_here(capfd, "run", str(ws.recipe), "--out", "mine"))  # curate's folder now: no --force
    assert {k: snapshot(mine)[k] for k in before} == before


def test_force_never_overwrites_a_file_of_the_users(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    mine = ws.root / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("my readme\n")
    before = snapshot(ws.root)
    assert_user_error(
        run_here(capfd, "run", str(ws.recipe), "--out", "mine", "--force"), "'README.md' is there"
    )
    assert snapshot(ws.root) == before


def test_force_never_replaces_files_in_a_curate_folder_it_did_not_write(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    (ws.out / "train.sh").write_text("#!/bin/sh\necho my own script\n")
    assert_user_error(
        run_here(capfd, "train", str(ws.out), *TRAIN_DRY_RUN),
        "'train.sh' is there and curate did not write it",
    )
    assert (ws.out / "train.sh").read_text() == "#!/bin/sh\necho my own script\n"


def test_rerun_keeps_the_users_files_and_other_commands_files(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    first = snapshot(ws.out)
    (ws.out / "my-notes.txt").write_text("looked at rows 3 and 9\n")
    (ws.out / "analysis").mkdir()
    (ws.out / "analysis" / "plot.png").write_bytes(b"\x89PNG fake")
    assert_ok(run_here(capfd, "train", str(ws.out), *TRAIN_DRY_RUN))
    kept = {k: v for k, v in snapshot(ws.out).items() if k not in first}
    assert {"my-notes.txt", "analysis/plot.png", "train.sh", "train_overrides.yaml"} <= set(kept)
    assert_ok(run_here(capfd, "run", str(ws.recipe), "--no-cache"))
    after = snapshot(ws.out)
    assert {k: after.get(k) for k in kept} == kept
    owner = json.loads((ws.out / ".curate" / "owner.json").read_text())["files"]
    assert owner["train.sh"] == "train" and owner["train.parquet"] == "run" and "my-notes.txt" not in owner


def test_rerun_removes_only_the_stale_files_of_the_earlier_run(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    with_dedup = write_recipe(ws.root / "dedup.yaml", ws.source, ws.out, "")
    with_dedup.write_text(with_dedup.read_text().replace("filters:\n", "filters:\n  - exact_dedup: {}\n"))
    assert_ok(run_here(capfd, "run", str(with_dedup)))
    assert (ws.out / "exact_dedup_report.json").is_file()
    (ws.out / "keep_report.json").write_text("{}\n")  # the user's file, named like a report
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    assert not (ws.out / "exact_dedup_report.json").exists()
    assert (ws.out / "keep_report.json").read_text() == "{}\n"


def test_a_failed_first_run_leaves_no_folder_behind(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    recipe = write_recipe(ws.root / "big.yaml", ws.source, "out/new/deeper")
    recipe.write_text(recipe.read_text().replace("size: 10", "size: 5000"))
    assert_user_error(run_here(capfd, "run", str(recipe)), "requested")
    assert not (ws.root / "out").exists()


def test_a_run_killed_at_any_moment_keeps_the_previous_output(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    previous = snapshot(ws.out)
    edited = write_recipe(ws.root / "edited.yaml", ws.source, ws.out)
    edited.write_text(edited.read_text().replace("seed: 7", "seed: 8"))
    outcomes = set()
    for delay in (0.3, 1.0, 2.0, 3.0, 4.5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "curate.cli", "run", str(edited), "--no-cache"],
            cwd=ws.root,
            env=process_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        now = snapshot(ws.out)
        outcomes.add("previous" if now == previous else "new")
        # whichever output is there is whole: the next command on the folder sweeps what the kill left
        assert_ok(run_here(capfd, "inspect", str(ws.out), "--rows", "0"))
        assert_ok(run_here(capfd, "run", str(ws.recipe)))
        assert without_timings(snapshot(ws.out)) == without_timings(previous)
        leftovers = sorted(os.listdir(ws.out / ".curate"))
        assert leftovers == ["lock", "owner.json"], leftovers
        assert not [n for n in os.listdir(ws.out) if n.endswith(".tmp")]
    assert "previous" in outcomes


def without_timings(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if k != "stats.json"}  # the one file with seconds in it


def test_the_output_an_older_curate_left_hidden_is_restored(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    """Earlier versions swapped through `.NAME.previous-PID`; a crash between the renames hid the output."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    hidden = ws.out.parent / f".{ws.out.name}.previous-{pid}"
    hidden.mkdir(parents=True)
    (hidden / "train.parquet").write_bytes(b"PAR1 old output PAR1")
    (hidden / "stats.json").write_text("{}\n")
    staging = ws.out.parent / f".{ws.out.name}.staging-{pid}"
    staging.mkdir()
    (staging / "train.parquet").write_bytes(b"half written")
    outcome = run_here(capfd, "run", str(ws.recipe))
    # restored first; it has no marker (older versions wrote none), so curate asks before writing into it
    assert_user_error(outcome, "did not write", "--force")
    assert (ws.out / "train.parquet").read_bytes() == b"PAR1 old output PAR1"
    assert not hidden.exists() and not staging.exists()


def test_a_second_run_into_the_same_folder_fails_at_once(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    slow = write_recipe(ws.root / "slow.yaml", "sample", ws.out)
    slow.write_text(
        slow.read_text()
        .replace("source: {path: sample}", "source: {sample: true, rows: 3000}")
        .replace("sample: {size: 10, test_size: 2}", "sample: {size: 100}")
        + "\n"
    )
    first = subprocess.Popen(
        [sys.executable, "-m", "curate.cli", "run", str(slow)],
        cwd=ws.root,
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = ws.out / ".curate" / "lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (lock.exists() and str(first.pid) in lock.read_text()):
        time.sleep(0.05)
    assert str(first.pid) in lock.read_text(), "the first run never held the folder's lock"
    if first.poll() is not None:
        pytest.skip("the first run finished before the second could start")
    started = time.monotonic()
    second = run_here(capfd, "run", str(ws.recipe))
    assert time.monotonic() - started < 10
    _out, err = first.communicate(timeout=150)
    assert first.returncode == 0, err
    assert_user_error(second, "another curate command is writing this folder", f"pid {first.pid}")
    assert (ws.out / "train.parquet").is_file()


def test_eval_score_writes_only_where_it_may(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    folder = ws.root / "my-rollouts"
    folder.mkdir()
    line = {"id": 1, "dataset": "d", "answer": "3", "completions": ["</think> \\boxed{3}"]}
    (folder / "rollouts.jsonl").write_text(json.dumps(line) + "\n")
    (folder / "metrics.json").write_text('{"mine": true}\n')
    before = snapshot(folder)
    score = ("eval", "score", str(folder / "rollouts.jsonl"), "--judge", "exact")
    assert_user_error(run_here(capfd, *score), "did not write", "--force")
    assert snapshot(folder) == before
    assert_user_error(
        run_here(capfd, *score, "--force"), "'metrics.json' is there and curate did not write it"
    )
    assert_ok(run_here(capfd, *score, "--out", str(ws.root / "scores")))
    assert snapshot(folder) == before
    (ws.root / "rollouts.jsonl").write_text(json.dumps(line) + "\n")
    outcome = run_here(capfd, "eval", "score", "rollouts.jsonl", "--judge", "exact", "--force")
    assert_user_error(outcome, "current directory")


def test_sample_never_overwrites_a_file_it_did_not_write(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(ws.root)
    assert_user_error(
        run_here(capfd, "sample", "--out", str(ws.source), "--rows", "20"), "not a sample curate wrote"
    )
    assert snapshot(ws.root) == before
    target = ws.root / "generated" / "s.parquet"
    assert_ok(run_here(capfd, "sample", "--out", str(target), "--rows", "20"))
    assert_ok(run_here(capfd, "sample", "--out", str(target), "--rows", "30"))  # its own: replaced


@pytest.mark.parametrize("command", [("card",), ("bench", "--rows", "100", "--out")])
def test_card_and_bench_refuse_a_folder_of_the_users(
    ws: Workspace, capfd: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    before = snapshot(ws.root)
    assert_user_error(run_here(capfd, *command, "data"), "did not write")
    assert snapshot(ws.root) == before


def test_output_paths_with_a_symlink_are_judged_by_their_target(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    (ws.root / "link-to-here").symlink_to(ws.root)
    before = snapshot(ws.root)
    assert_user_error(
        run_here(capfd, "run", str(ws.recipe), "--out", "link-to-here", "--force"), "current directory"
    )
    assert snapshot(ws.root) == before


def test_push_and_inspect_read_a_settled_folder(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    """A swap cut short (the journal written, some files moved) is completed before anything reads it."""
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    new = ws.root / "new.yaml"
    new.write_text(ws.recipe.read_text().replace("seed: 7", "seed: 9"))
    assert_ok(run_here(capfd, "run", str(new), "--out", "out/other"))
    other = ws.root / "out" / "other"
    expected = snapshot(other)
    # replay the first half of a swap of the seed-9 files into out/hostile, as a kill would leave it
    meta = ws.out / ".curate"
    staging = meta / "staging-1-1"
    staging.mkdir()
    names = sorted(n for n in os.listdir(other) if (other / n).is_file())
    for name in names:
        staging.joinpath(name).write_bytes((other / name).read_bytes())
    owner = json.loads((meta / "owner.json").read_text())["files"]
    journal = {
        "format": "curate-output/1",
        "staging": staging.name,
        "install": names,
        "remove": [],
        "files": owner,
    }
    (meta / "journal.json").write_text(json.dumps(journal))
    (meta / "previous").mkdir()
    os.rename(ws.out / "train.parquet", meta / "previous" / "train.parquet")
    os.rename(staging / "stats.json", ws.out / "stats.json")
    assert_ok(run_here(capfd, "inspect", str(ws.out), "--rows", "1"))
    assert snapshot(ws.out) == expected
    assert sorted(os.listdir(meta)) == ["lock", "owner.json"]
