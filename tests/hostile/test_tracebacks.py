"""Tracebacks: every mistake in input or environment is one `curate: error:` line naming the file, row or
YAML line, with exit code 2; a damaged cache entry is recomputed with a warning, never a crash."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.synthetic import OPENR1_SCHEMA
from tests import openr1_rows as rows
from tests.hostile.cli import (
    TRAIN_DRY_RUN,
    assert_ok,
    assert_user_error,
    corpus,
    run_here,
    run_process,
    snapshot,
    write_source,
)
from tests.hostile.conftest import Workspace
from tests.hostile.test_hangs import alias_bomb

pytestmark = pytest.mark.timeout(180)


# ---------------------------------------------------------------------------------------------- recipes


def test_a_recipe_that_is_not_utf8_names_its_line(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    ws.recipe.write_bytes(
        ws.recipe.read_bytes().replace(b"name: hostile", b"name: hostile\ndescription: caf\xe9")
    )
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)), "recipe.yaml:2", "not UTF-8")


def test_a_base_recipe_that_is_not_utf8_is_named(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    (ws.root / "base.yaml").write_bytes(b"seed: 1\ndescription: \xff\xfe\n")
    child = ws.root / "child.yaml"
    child.write_text("extends: base.yaml\n" + ws.recipe.read_text())
    assert_user_error(run_here(capfd, "validate", str(child)), "base.yaml:2", "not UTF-8")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("name: a\x00b\n", ("recipe.yaml:1", "#x0000")),
        ("? [1, 2]\n: x\n", ("recipe.yaml:1", "plain value")),
        ("name: [unclosed\n", ("recipe.yaml:", "invalid YAML")),
        ("- just\n- a list\n", ("a recipe must be a YAML mapping",)),
        ("name: x\nsource: {sample: true}\noutput: {dir: o}\nlock: {source: 5}\nfilters: 7\n", ("filters",)),
    ],
)
def test_broken_yaml_is_one_line(
    ws: Workspace, capfd: pytest.CaptureFixture[str], text: str, fragments: tuple[str, ...]
) -> None:
    ws.recipe.write_text(text)
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)), *fragments)


def test_a_recipe_that_is_a_folder(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    assert_user_error(run_here(capfd, "run", "data"), "data")


# ---------------------------------------------------------------------------------------------- sources


def _table(data: list[dict], **replace: pa.DataType) -> pa.Table:
    fields = [pa.field(f.name, replace.get(f.name, f.type)) for f in OPENR1_SCHEMA]
    return pa.Table.from_pylist(data, schema=pa.schema(fields))


def _bad_source(ws: Workspace, table: pa.Table) -> None:
    pq.write_table(table, ws.source, row_group_size=7)


def test_generations_stored_as_a_string(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    data = corpus()
    for row in data:
        row["generations"] = json.dumps(row["generations"])
    _bad_source(ws, _table(data, generations=pa.string()))
    line = assert_user_error(
        run_here(capfd, "run", str(ws.recipe)), "src.parquet", "'generations'", "list of strings"
    )
    assert "string" in line


def test_correctness_count_stored_as_text(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    data = corpus()
    for row in data:
        row["correctness_count"] = str(row["correctness_count"])
    _bad_source(ws, _table(data, correctness_count=pa.string()))
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), "'correctness_count'", "an integer")


def test_finish_reasons_of_numbers(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    data = corpus()
    for row in data:
        row["finish_reasons"] = [1 for _ in row["finish_reasons"]]
    _bad_source(ws, _table(data, finish_reasons=pa.list_(pa.int64())))
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), "'finish_reasons'")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("problem", None, "problem is null"), ("uuid", None, "uuid is null"), ("uuid", "  ", "uuid is empty")],
)
def test_missing_required_values_name_the_row(
    ws: Workspace, capfd: pytest.CaptureFixture[str], column: str, value: str | None, message: str
) -> None:
    data = corpus()
    data[17][column] = value
    _bad_source(ws, _table(data))
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), message, "src.parquet row index 17")
    assert not ws.out.exists()


def test_label_lists_of_different_lengths(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    data = corpus()
    data[5]["finish_reasons"] = ["stop", "stop", "stop"]
    _bad_source(ws, _table(data))
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), "row index 5", "finish_reasons has 3 entries")


def test_generations_and_labels_of_different_lengths(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    data = corpus()
    data[9]["generations"] = data[9]["generations"][:1]
    _bad_source(ws, _table(data))
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), "row index 9", "but generations has 1")


def test_a_second_shard_is_named_by_file_and_row(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    data = rows.many(12, start=900)
    data[3]["problem"] = None
    write_source(ws.root / "data" / "src-2.parquet", data)
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "data/src*.parquet")
    assert_user_error(outcome, "src-2.parquet row index 3", "problem is null")


@pytest.mark.parametrize(
    ("content", "line"), [(b'{"a": 1}\n\n{"a": \n', 3), (b'{"a": 1}\n{"a": "caf\xe9"}\n', 2)]
)
def test_jsonl_sources_name_the_bad_line(
    ws: Workspace, capfd: pytest.CaptureFixture[str], content: bytes, line: int
) -> None:
    (ws.root / "data" / "rows.jsonl").write_bytes(content)
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "data/rows.jsonl")
    assert_user_error(outcome, f"rows.jsonl:{line}")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_source_parquet(ws: Workspace, capfd: pytest.CaptureFixture[str], damage: str) -> None:
    data = ws.source.read_bytes()
    ws.source.write_bytes(os.urandom(4000) if damage == "garbage" else data[: len(data) // 2])
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), "src.parquet")


@pytest.mark.parametrize("spec", ["sample:0", "sample:5", "sample:abc", "sample:-3", "sample:1_000_001"])
def test_bad_sample_sizes(ws: Workspace, capfd: pytest.CaptureFixture[str], spec: str) -> None:
    assert_user_error(run_here(capfd, "run", str(ws.recipe), "--source", spec), spec)


def test_a_sample_size_of_zero_in_the_recipe(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    ws.recipe.write_text(ws.recipe.read_text().replace("{path: data/src.parquet}", "{sample: true, rows: 0}"))
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)), "recipe.yaml:2", "source.rows")


@pytest.mark.parametrize(
    ("sample", "column"),
    [
        ("{size: 10, stratify: difficulty}", "difficulty"),
        ("{size: 10, weights: {a: 2}, weight_by: tier}", "tier"),
    ],
)
def test_sample_columns_are_checked_before_any_filter(
    ws: Workspace, capfd: pytest.CaptureFixture[str], sample: str, column: str
) -> None:
    ws.recipe.write_text(ws.recipe.read_text().replace("{size: 10, test_size: 2}", sample))
    outcome = run_here(capfd, "run", str(ws.recipe))
    assert_user_error(outcome, f"column {column!r}", "sample.")
    assert "kept" not in outcome.err  # no filter ran


# ---------------------------------------------------------------------------------------------- outputs


def _mounted(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs at `folder` for the test (root only), unmounted after it."""
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    if (
        os.geteuid() != 0
        or shutil.which("mount") is None
        or subprocess.run(mount, capture_output=True).returncode
    ):
        pytest.skip("cannot mount a filesystem here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def readonly_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be written into: a read-only tmpfs as root (who ignores modes), else 0555."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    yield from _mounted(tmp_path / "readonly", "ro,size=64k")


def test_an_output_on_a_read_only_disk(
    ws: Workspace, capfd: pytest.CaptureFixture[str], readonly_dir: Path
) -> None:
    outcome = run_here(capfd, "run", str(ws.recipe), "--out", str(readonly_dir / "out"))
    assert_user_error(outcome, str(readonly_dir))


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    yield from _mounted(tmp_path / "tiny", "size=48k")


def test_an_output_on_a_full_disk(ws: Workspace, capfd: pytest.CaptureFixture[str], tiny_disk: Path) -> None:
    outcome = run_here(capfd, "run", str(ws.recipe), "--out", str(tiny_disk / "out"))
    assert_user_error(outcome, "disk is full")
    assert sorted(os.listdir(tiny_disk)) == []  # nothing half-written, and the folder it made is gone


def test_an_output_larger_than_the_process_may_write(ws: Workspace) -> None:
    """A file-size limit (ulimit -f) fails writes the way a full disk does, on any machine, as any user."""
    assert_ok(run_process("run", str(ws.recipe), "--out", "out/warm", cwd=ws.root))  # the cache is warm

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    outcome = run_process("run", str(ws.recipe), cwd=ws.root, preexec_fn=limit)
    assert_user_error(outcome, "larger than this system allows")
    assert not ws.out.exists()


# -------------------------------------------------------------------------------------------- the cache


def _steps(cache: Path) -> list[Path]:
    entries = sorted(cache.glob("steps*/*.parquet"))
    assert entries, "the run cached no step"
    return entries


@pytest.mark.parametrize("damage", ["truncate parquet", "garbage parquet", "garbage json", "empty json"])
def test_a_damaged_step_entry_is_recomputed_with_a_warning(
    ws: Workspace, capfd: pytest.CaptureFixture[str], damage: str
) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    expected = snapshot(ws.out)
    cache = Path(os.environ["CURATE_CACHE"])
    for entry in _steps(cache):
        if damage == "truncate parquet":
            entry.write_bytes(entry.read_bytes()[:100])
        elif damage == "garbage parquet":
            entry.write_bytes(os.urandom(entry.stat().st_size))
        elif damage == "garbage json":
            entry.with_suffix(".json").write_bytes(os.urandom(50))
        else:
            entry.with_suffix(".json").write_text("")
    for _ in range(2):  # the second plain run uses the recomputed entries
        outcome = run_here(capfd, "run", str(ws.recipe))
        assert_ok(outcome)
        assert {k: v for k, v in snapshot(ws.out).items() if k != "stats.json"} == {
            k: v for k, v in expected.items() if k != "stats.json"
        }
    assert "is damaged" not in outcome.err


def test_a_damaged_sample_is_generated_again(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe), "--source", "sample:200", "--allow-smaller"))
    expected = snapshot(ws.out)
    cache = Path(os.environ["CURATE_CACHE"])
    (sample,) = (cache / "sample").glob("*.parquet")
    sample.write_bytes(sample.read_bytes()[:-5000])
    outcome = run_here(capfd, "run", str(ws.recipe), "--source", "sample:200", "--allow-smaller")
    assert_ok(outcome)
    assert "is damaged" in outcome.err
    assert {k: v for k, v in snapshot(ws.out).items() if k != "stats.json"} == {
        k: v for k, v in expected.items() if k != "stats.json"
    }


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_verdict_store_is_started_afresh(
    ws: Workspace, capfd: pytest.CaptureFixture[str], damage: str
) -> None:
    verify = "  - finish_reason: {allowed: [stop]}\n  - answer_verify: {timeout: 5}\n"
    ws.recipe.write_text(ws.recipe.read_text().replace("  - finish_reason: {allowed: [stop]}\n", verify))
    assert_ok(run_here(capfd, "run", str(ws.recipe), "--workers", "1"))
    expected = snapshot(ws.out)
    store = Path(os.environ["CURATE_CACHE"]) / "mathcheck.sqlite"
    with sqlite3.connect(store) as db:  # fold the write-ahead log in, so the file holds everything
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = store.read_bytes()
    store.write_bytes(os.urandom(len(data)) if damage == "garbage" else data[: len(data) // 2])
    for _ in range(2):  # each in a fresh process: this one may hold the store open from the first run
        for steps in Path(os.environ["CURATE_CACHE"]).glob("steps*"):
            shutil.rmtree(steps)  # so the answers are verified again, through the store
        outcome = run_process("run", str(ws.recipe), "--workers", "1", cwd=ws.root)
        assert_ok(outcome)
        assert {k: v for k, v in snapshot(ws.out).items() if k != "stats.json"} == {
            k: v for k, v in expected.items() if k != "stats.json"
        }


# ------------------------------------------------------------------------------- reading what was written


def _written(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> Path:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    return ws.out


@pytest.mark.parametrize(
    "damage",
    [
        b'{"recipe": "x", "funnel": [',
        b"[]",
        b'{"recipe": 1, "funnel": [{"filter": 2}], "rows": {}}',
        b"\xff\xfe{}",
        b"",
    ],
)
def test_inspect_on_a_damaged_stats_json(
    ws: Workspace, capfd: pytest.CaptureFixture[str], damage: bytes
) -> None:
    out = _written(ws, capfd)
    (out / "stats.json").write_bytes(damage)
    assert_user_error(run_here(capfd, "inspect", str(out)), "stats.json")


@pytest.mark.parametrize("command", [("inspect",), ("card",), ("push", "--dry-run", "--repo-id", "me/x")])
def test_readers_on_a_garbage_parquet(
    ws: Workspace, capfd: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    out = _written(ws, capfd)
    (out / "train.parquet").write_bytes(b"PAR1" + os.urandom(3000))
    if command[0] == "push":
        (out / "README.md").unlink()  # push writes the card first when it is missing
    assert_user_error(run_here(capfd, command[0], str(out), *command[1:]), "train.parquet")


def test_train_on_a_garbage_parquet(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    out = _written(ws, capfd)
    (out / "train.parquet").write_bytes(os.urandom(3000))
    outcome = run_here(capfd, "train", str(out), "--dry-run", "--model", "Qwen/Qwen3-4B-Base")
    assert_user_error(outcome, "train.parquet")


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (
            b'{"id": 1, "dataset": "d", "answer": "1", "completions": ["\\\\boxed{1}"]}\n{"id": 2, "dat\xe9\n',
            ":2",
        ),
        (b'{"id": 1, "dataset": "d", "answer": "1", "completions": ["x"]}\n{"id": 2,\n', ":2"),
        (b"\xff\xfe{}\n", ":1"),
    ],
)
def test_eval_score_on_broken_rollouts(
    ws: Workspace, capfd: pytest.CaptureFixture[str], content: bytes, where: str
) -> None:
    (ws.root / "runs").mkdir()
    rollouts = ws.root / "runs" / "rollouts.jsonl"
    rollouts.write_bytes(content)
    outcome = run_here(capfd, "eval", "score", str(rollouts), "--judge", "exact", "--out", "runs/scored")
    assert_user_error(outcome, f"rollouts.jsonl{where}")


def test_a_missing_local_source_is_not_a_hub_dataset(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    for spec in ("data/missing.parquet", "data/train", "./nope", "missing.jsonl"):
        line = assert_user_error(run_here(capfd, "run", str(ws.recipe), "--source", spec), "does not exist")
        assert "Hub" not in line


READERS = [
    ("inspect",),
    ("card",),
    ("push", "--dry-run", "--repo-id", "me/x"),
    ("train", *TRAIN_DRY_RUN),
]
DAMAGE = {
    "stats not UTF-8": ("stats.json", b'{"recipe": "caf\xe9"}'),
    "stats a list": ("stats.json", b"[1, 2, 3]"),
    "stats without counts": ("stats.json", b'{"recipe": "r", "funnel": [], "rows": {"train": "many"}}'),
    "lock not UTF-8": ("recipe.lock.yaml", b"name: caf\xe9\n"),
    "lock a list": ("recipe.lock.yaml", b"- 1\n- 2\n"),
    "lock alias bomb": ("recipe.lock.yaml", b""),  # written by the test: see alias_bomb
    "lock bad bound": ("recipe.lock.yaml", b"name: r\nfilters:\n  - token_length: {max_tokens: lots}\n"),
    "report not UTF-8": ("exact_dedup_report.json", b"\xff"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", READERS, ids=[r[0] for r in READERS])
def test_readers_on_damaged_provenance(
    ws: Workspace, capfd: pytest.CaptureFixture[str], command: tuple[str, ...], damage: str
) -> None:
    out = _written(ws, capfd)
    name, data = DAMAGE[damage]
    (out / name).write_bytes(alias_bomb().encode() if damage == "lock alias bomb" else data)
    if command[0] == "push":
        (out / "README.md").unlink()  # so push reads everything to write the card first
    started = time.monotonic()
    outcome = run_here(capfd, command[0], str(out), *command[1:])
    assert time.monotonic() - started < 20
    assert "Traceback" not in outcome.err, outcome.err
    if outcome.code != 0:
        assert_user_error(outcome, name)
