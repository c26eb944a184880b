"""Hangs: input crafted or broken so that naive reading never ends (alias bombs, endless nesting, absurd
sizes, pipes where files belong) ends in an error within seconds. Each case runs under a pytest-timeout and
asserts its own wall-clock bound."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.hostile.cli import assert_user_error, run_here
from tests.hostile.conftest import Workspace

pytestmark = pytest.mark.timeout(60)
FAST = 10.0  # seconds: what "at once" means on a loaded 2-core machine


def alias_bomb() -> str:
    """Ten lines that expand to 9**10 (3.5 billion) strings."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        ref = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([ref] * 9)}]")
    return "\n".join(lines) + "\n"


def merge_bomb() -> str:
    lines = ["m0: &m0 {k0: 1, k1: 2}"]
    lines += [f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i + 1}: {i}}}" for i in range(1, 40)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (alias_bomb(), "expands to more than"),
        ("name: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested"),
        ("name: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n", "nested"),
        ("name: x\ndescription: " + "x" * (2 << 20) + "\n", "at most"),
    ],
    ids=["alias-bomb", "deep-lists", "deep-maps", "2-MB"],
)
def test_hostile_yaml_is_refused_at_once(
    ws: Workspace, capfd: pytest.CaptureFixture[str], text: str, fragment: str
) -> None:
    ws.recipe.write_text(text)
    started = time.monotonic()
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)), fragment)
    assert time.monotonic() - started < FAST


def test_a_merge_key_bomb_is_bounded(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    ws.recipe.write_text(merge_bomb() + ws.recipe.read_text())
    started = time.monotonic()
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)))
    assert time.monotonic() - started < FAST


@pytest.mark.parametrize(
    "args",
    [
        ("run", "RECIPE", "--source", "sample:99999999999"),
        ("sample", "--out", "s.parquet", "--rows", "99999999999"),
        ("bench", "--rows", "99999999999", "--out", "bench-out"),
        ("bench", "--rows", "1000", "--scaling", "10,99999999999", "--out", "bench-out"),
    ],
)
def test_absurd_sizes_are_refused_before_any_work(
    ws: Workspace, capfd: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    cache = Path(os.environ["CURATE_CACHE"])
    before = sorted(p.name for p in cache.rglob("*"))
    started = time.monotonic()
    outcome = run_here(capfd, *[str(ws.recipe) if a == "RECIPE" else a for a in args])
    assert_user_error(outcome, "99999999999")
    assert time.monotonic() - started < FAST
    assert sorted(p.name for p in cache.rglob("*")) == before  # no temp file of a started generation
    assert not (ws.root / "s.parquet").exists() and not (ws.root / "bench-out").exists()


def test_a_sample_larger_than_the_free_disk_is_refused(
    ws: Workspace, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,000,000 rows are allowed, but not where they cannot fit: the check comes before any row is made."""
    statvfs = os.statvfs(os.environ["CURATE_CACHE"])
    if statvfs.f_bavail * statvfs.f_frsize > 8 << 30:
        pytest.skip("this disk has room for the largest sample")
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "sample:1000000")
    assert_user_error(outcome, "GB are free")


@pytest.mark.parametrize("where", ["recipe", "source", "decontaminate", "rollouts"])
def test_a_pipe_where_a_file_belongs(ws: Workspace, capfd: pytest.CaptureFixture[str], where: str) -> None:
    name = {"recipe": "pipe.yaml", "source": "pipe.parquet", "decontaminate": "pipe.jsonl"}.get(
        where, "pipe.jsonl"
    )
    pipe = ws.root / name
    os.mkfifo(pipe)
    started = time.monotonic()
    if where == "recipe":
        outcome = run_here(capfd, "validate", str(pipe))
    elif where == "source":
        outcome = run_here(capfd, "run", str(ws.recipe), "--source", str(pipe))
    elif where == "decontaminate":
        ws.recipe.write_text(
            ws.recipe.read_text().replace(
                "filters:\n", "filters:\n  - decontaminate: {files: [pipe.jsonl]}\n"
            )
        )
        outcome = run_here(capfd, "validate", str(ws.recipe))
    else:
        outcome = run_here(capfd, "eval", "score", str(pipe), "--out", "scores")
    assert_user_error(outcome, name)
    assert time.monotonic() - started < FAST


def test_a_device_as_the_source(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert_user_error(run_here(capfd, "run", str(ws.recipe), "--source", "/dev/zero"), "/dev/zero")
    assert time.monotonic() - started < FAST


def test_a_symlink_loop_in_a_folder_source(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    (ws.root / "data" / "loop").symlink_to(ws.root / "data")
    (ws.root / "data" / "self").symlink_to(ws.root / "data" / "self")
    started = time.monotonic()
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "data", "--out", "out/x")
    assert "Traceback" not in outcome.err and outcome.code in (0, 2), outcome.err
    assert time.monotonic() - started < 60
