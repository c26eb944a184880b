"""The resumable rollouts file: what survives an interruption, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.evaluate.rollouts import RolloutLog, check_settings

KEYS = ["d/a", "d/b", "d/c"]


def record(ident: str, n: int = 2) -> dict:
    return {"id": ident, "dataset": "d", "answer": "1", "completions": [f"{ident}{i}" for i in range(n)]}


def test_append_finalize_in_suite_order(tmp_path: Path) -> None:
    path = tmp_path / "rollouts.jsonl"
    log = RolloutLog(path, 2, KEYS)
    for ident in ("c", "a"):
        log.append(record(ident))
    assert not log.complete()
    log.close()
    # a second process sees both lines, in completion order, and finishes the run
    log = RolloutLog(path, 2, KEYS)
    assert list(log.done) == ["d/c", "d/a"]
    log.append(record("b"))
    assert log.complete()
    log.finalize()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b", "c"]


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "rollouts.jsonl"
    whole = json.dumps(record("a")) + "\n"
    path.write_text(whole + json.dumps(record("b"))[:25])
    log = RolloutLog(path, 2, KEYS)
    assert list(log.done) == ["d/a"]
    log.append(record("b"))
    log.close()
    assert path.read_text() == whole + json.dumps(record("b")) + "\n"


def test_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "rollouts.jsonl"
    path.write_text(json.dumps(record("a")))
    log = RolloutLog(path, 2, KEYS)
    log.append(record("b"))
    log.close()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken\n" + json.dumps(record("a")) + "\n", "not valid JSON"),
        (json.dumps(record("zz")) + "\n", "not in this suite"),
        (json.dumps(record("a")) + "\n" + json.dumps(record("a")) + "\n", "appears twice"),
        (json.dumps(record("a", n=3)) + "\n", "3 completions, not 2"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rollouts.jsonl"
    path.write_text(content)
    with pytest.raises(CurateError, match=message):
        RolloutLog(path, 2, KEYS)
    assert path.read_text() == content  # never repaired behind the user's back


def test_settings_are_stored_then_enforced(tmp_path: Path) -> None:
    settings = {"model": "m", "rollouts": 16, "temperature": 0.6}
    assert check_settings(tmp_path / "out", settings) is False
    assert check_settings(tmp_path / "out", dict(settings)) is True
    with pytest.raises(CurateError, match=r"rollouts: 16 -> 8; temperature: 0.6 -> 1.0"):
        check_settings(tmp_path / "out", {**settings, "rollouts": 8, "temperature": 1.0})


def test_rollouts_without_settings_are_refused(tmp_path: Path) -> None:
    (tmp_path / "rollouts.jsonl").write_text(json.dumps(record("a")) + "\n")
    with pytest.raises(CurateError, match="settings are unknown"):
        check_settings(tmp_path, {"model": "m"})
