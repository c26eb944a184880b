"""How the hostile-input suite drives curate: the real CLI, in a fresh process (`python -m curate.cli`) or
in this one (through `curate.cli.main`, faster), and the assertions that matter for each class of fault."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from curate.cli import main
from tests import openr1_rows as rows

ROOT = Path(__file__).resolve().parents[2]

RECIPE = """\
name: hostile
source: {{path: {source}}}
seed: 7
filters:
  - source: {{exclude: [cn_k12]}}
  - is_reasoning_complete: {{}}
  - finish_reason: {{allowed: [stop]}}
sample: {{size: 10, test_size: 2}}
output: {{dir: {out}}}
"""


# `curate train` writing its launch files for one GPU and a small batch (the test outputs are small).
TRAIN_DRY_RUN = (
    "--dry-run",
    "--model",
    "Qwen/Qwen3-4B-Base",
    "--batch-size",
    "8",
    "--nnodes",
    "1",
    "--gpus-per-node",
    "1",
)


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("curate: error:")]


def run_here(capfd: pytest.CaptureFixture[str], *args: str) -> Outcome:
    """`curate ARGS` through `curate.cli.main` in this process. An exception other than SystemExit is a
    traceback the user would have seen: it propagates and fails the test."""
    saved = sys.argv
    sys.argv = ["curate", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    captured = capfd.readouterr()
    return Outcome(code, captured.out, captured.err)


def run_process(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    preexec_fn: Callable[[], Any] | None = None,
) -> Outcome:
    """`curate ARGS` in a fresh process, as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "curate.cli", *args],
        cwd=cwd,
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def process_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["CURATE_PROGRESS"] = "0"
    env.update(extra or {})
    return env


def assert_user_error(outcome: Outcome, *fragments: str) -> str:
    """Exit code 2, exactly one `curate: error:` line, no traceback; the line names what it must."""
    assert "Traceback" not in outcome.err, outcome.err
    assert outcome.code == 2, (outcome.code, outcome.err)
    assert len(outcome.error_lines) == 1, outcome.err
    line = outcome.error_lines[0]
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def assert_ok(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.err, outcome.err
    assert outcome.code == 0, (outcome.code, outcome.err)
    assert not outcome.error_lines, outcome.err


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` (curate's own `.curate` bookkeeping aside) by relative path -> sha256."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and ".curate" not in relative.parts:
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def corpus(count: int = 30) -> list[dict[str, Any]]:
    return rows.many(count) + rows.many(4, start=500, source="cn_k12")


def write_source(path: Path, data: list[dict[str, Any]] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return rows.write(path, data if data is not None else corpus())


def write_recipe(path: Path, source: Path | str, out: Path | str, extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RECIPE.format(source=source, out=out) + extra, encoding="utf-8")
    return path
