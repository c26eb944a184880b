"""Silently wrong results: the cache never answers for data it was not computed from, and `validate`
accepts only what `run` accepts. Each case compares against a run that cannot have been fooled."""

from __future__ import annotations

import json
import os
import random
import shutil
import string
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xxhash
import yaml

from curate.cache import digest
from curate.synthetic import OPENR1_SCHEMA
from tests import openr1_rows as rows
from tests.hostile.cli import assert_ok, assert_user_error, run_here, snapshot
from tests.hostile.conftest import Workspace

pytestmark = pytest.mark.timeout(180)


def _data(ws: Workspace) -> dict[str, str]:
    return {k: v for k, v in snapshot(ws.out).items() if k != "stats.json"}


def _big_source(path: Path, count: int = 60) -> None:
    """Over a megabyte (random text does not compress), so the file-hash memo is used for it."""
    rng = random.Random(5)
    data = rows.many(count)
    for row in data:
        row["solution"] = "".join(rng.choices(string.ascii_letters, k=30_000))
    table = pa.Table.from_pylist(data, schema=OPENR1_SCHEMA)
    # plain bytes, so a test can edit a value in place
    pq.write_table(
        table, path, row_group_size=7, compression="none", use_dictionary=False, write_statistics=False
    )
    assert path.stat().st_size > 1 << 20


def _edit_in_place(path: Path, old: bytes, new: bytes) -> None:
    """Same size, same modification time: only the content (and the change time, which no one can set)."""
    assert len(old) == len(new)
    stat = path.stat()
    data = path.read_bytes()
    assert data.count(old) == 1
    with path.open("r+b") as handle:
        handle.seek(data.index(old))
        handle.write(new)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


def _lock_hash(out: Path) -> str:
    lock = yaml.safe_load((out / "recipe.lock.yaml").read_text())
    return lock["lock"]["source"]["files"][0]["xxh3_128"]


@pytest.mark.parametrize("no_cache", [False, True])
def test_a_source_edited_in_place_is_read_again(
    ws: Workspace, capfd: pytest.CaptureFixture[str], no_cache: bool
) -> None:
    _big_source(ws.source)
    flags = ["--no-cache"] if no_cache else []
    assert_ok(run_here(capfd, "run", str(ws.recipe), *flags))
    _edit_in_place(ws.source, b"uuid-00003", b"uuid-99993")
    assert_ok(run_here(capfd, "run", str(ws.recipe), *flags))
    assert _lock_hash(ws.out) == xxhash.xxh3_128_hexdigest(ws.source.read_bytes())
    uuids = pq.read_table(ws.out / "rejections.parquet").column("uuid").to_pylist()
    uuids += pq.read_table(ws.out / "train.parquet").column("uuid").to_pylist()
    uuids += pq.read_table(ws.out / "test.parquet").column("uuid").to_pylist()
    assert "uuid-99993" in uuids and "uuid-00003" not in uuids


def test_garbage_in_the_file_hash_memo_never_reaches_the_lock_file(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    _big_source(ws.source)
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    memos = list((Path(os.environ["CURATE_CACHE"]) / "filehash").glob("*.json"))
    assert memos
    for memo in memos:
        memo.write_text("deadbeef" * 4)
    outcome = run_here(capfd, "run", str(ws.recipe))
    assert_ok(outcome)
    assert "is damaged" in outcome.err
    assert _lock_hash(ws.out) == xxhash.xxh3_128_hexdigest(ws.source.read_bytes())


def test_no_cache_bypasses_even_a_well_formed_memo(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    """A memo that passes every check but lies (written by someone who knew the format) is not read by
    --no-cache: the hash comes from the bytes."""
    _big_source(ws.source)
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    (memo,) = (Path(os.environ["CURATE_CACHE"]) / "filehash").glob("*.json")
    record = json.loads(memo.read_text())
    record.pop("check")
    record["xxh3_128"] = "0" * 32
    memo.write_text(json.dumps({**record, "check": digest(record)}))
    assert_ok(run_here(capfd, "run", str(ws.recipe), "--no-cache"))
    assert _lock_hash(ws.out) == xxhash.xxh3_128_hexdigest(ws.source.read_bytes())


def test_swapped_step_entries_are_never_used(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    truth = _data(ws)
    funnel = json.loads((ws.out / "stats.json").read_text())["funnel"]
    cache = Path(os.environ["CURATE_CACHE"]) / "steps-v2"
    entries = sorted(cache.glob("*.parquet"))
    assert len(entries) >= 2
    first, second = entries[0], entries[1]
    for suffix in (".parquet", ".json"):  # swap whole entries: data and record
        a, b = first.with_suffix(suffix), second.with_suffix(suffix)
        shutil.move(a, a.with_suffix(".swap"))
        shutil.move(b, a)
        shutil.move(a.with_suffix(".swap"), b)
    outcome = run_here(capfd, "run", str(ws.recipe))
    assert_ok(outcome)
    assert "another step" in outcome.err
    assert _data(ws) == truth
    again = json.loads((ws.out / "stats.json").read_text())["funnel"]
    strip = [{k: v for k, v in e.items() if k not in ("seconds", "cached")} for e in funnel]
    assert [{k: v for k, v in e.items() if k not in ("seconds", "cached")} for e in again] == strip


def test_swapped_step_data_alone_is_never_used(ws: Workspace, capfd: pytest.CaptureFixture[str]) -> None:
    assert_ok(run_here(capfd, "run", str(ws.recipe)))
    truth = _data(ws)
    entries = sorted((Path(os.environ["CURATE_CACHE"]) / "steps-v2").glob("*.parquet"))
    a, b = entries[0].read_bytes(), entries[1].read_bytes()
    entries[0].write_bytes(b)
    entries[1].write_bytes(a)
    outcome = run_here(capfd, "run", str(ws.recipe))
    assert_ok(outcome)
    assert "is damaged" in outcome.err
    assert _data(ws) == truth


@pytest.mark.parametrize(
    ("filter_line", "fragments"),
    [
        ("- decontaminate: {files: [evals/mine.jsonl]}", ("recipe.yaml:", "mine.jsonl", "file not found")),
        ("- decontaminate: {files: [notes.md]}", ("notes.md", "unsupported file type")),
        ("- decontaminate: {benchmarks: [], files: []}", ("nothing to check against",)),
        ("- token_length: {tokenizer: gpt-17}", ("recipe.yaml:", "unknown tokenizer 'gpt-17'")),
        ("- token_length: {tokenizer: tok/tokenizer.json}", ("tokenizer file not found",)),
    ],
)
def test_validate_rejects_what_run_rejects(
    ws: Workspace, capfd: pytest.CaptureFixture[str], filter_line: str, fragments: tuple[str, ...]
) -> None:
    text = ws.recipe.read_text()
    row_filter = filter_line.startswith("- decontaminate")
    anchor = "  - source: {exclude: [cn_k12]}\n" if row_filter else "  - finish_reason: {allowed: [stop]}\n"
    ws.recipe.write_text(text.replace(anchor, anchor + "  " + filter_line + "\n"))
    validated = run_here(capfd, "validate", str(ws.recipe))
    ran = run_here(capfd, "run", str(ws.recipe))
    assert_user_error(validated, *fragments)
    assert_user_error(ran, *fragments)
    assert not ws.out.exists()


def test_validate_accepts_the_shipped_recipes_and_a_users_eval_file(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    for recipe in sorted((root / "recipes").glob("*.yaml")):
        assert_ok(run_here(capfd, "validate", str(recipe)))
    (ws.root / "evals").mkdir()
    (ws.root / "evals" / "mine.jsonl").write_text('{"problem": "What is 1+1?"}\n')
    text = ws.recipe.read_text().replace(
        "filters:\n", "filters:\n  - decontaminate: {files: [evals/mine.jsonl]}\n"
    )
    ws.recipe.write_text(text)
    assert_ok(run_here(capfd, "validate", str(ws.recipe)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d[4].update(uuid=d[11]["uuid"]), "also belongs to"),
        (lambda d: d[4].update(uuid=""), "uuid is empty"),
    ],
    ids=["duplicate", "empty"],
)
def test_bad_uuids_never_reach_the_output(
    ws: Workspace, capfd: pytest.CaptureFixture[str], change, message: str
) -> None:
    data = rows.many(30)
    change(data)
    rows.write(ws.source, data)
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), message, "src.parquet row index")
    assert not ws.out.exists()


def test_a_jsonl_source_converted_once_is_checked_when_reused(
    ws: Workspace, capfd: pytest.CaptureFixture[str]
) -> None:
    source = ws.root / "data" / "rows.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows.many(30)))
    args = ("run", str(ws.recipe), "--source", str(source))
    assert_ok(run_here(capfd, *args))
    truth = _data(ws)
    (converted,) = (Path(os.environ["CURATE_CACHE"]) / "jsonl").glob("*.parquet")
    pq.write_table(pa.Table.from_pylist(rows.many(12, start=400), schema=OPENR1_SCHEMA), converted)
    outcome = run_here(capfd, *args)
    assert_ok(outcome)
    assert "is damaged" in outcome.err
    assert _data(ws) == truth


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("data/src.parquet", "data/missing.parquet", "does not exist"),
        ("data/src.parquet", "data/*.jsonl", "matches no .parquet or .jsonl file"),
        ("out/hostile", "notes.md", "is a file"),
        ("out/hostile", ".", "the current directory"),
        ("out/hostile", "data", "the source data's folder"),
    ],
)
def test_validate_checks_the_source_path_and_the_output_folder(
    ws: Workspace, capfd: pytest.CaptureFixture[str], old: str, new: str, fragment: str
) -> None:
    ws.recipe.write_text(ws.recipe.read_text().replace(old, new))
    before = snapshot(ws.root)
    assert_user_error(run_here(capfd, "validate", str(ws.recipe)), fragment)
    assert_user_error(run_here(capfd, "run", str(ws.recipe)), fragment)
    assert snapshot(ws.root) == before
