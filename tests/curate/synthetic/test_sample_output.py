"""The sample file itself: OpenR1's schema, byte-identical reruns, prefix consistency, the manifest, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.synthetic import GENERATOR_VERSION, generate, manifest_path, write_sample
from curate.synthetic.planting import KINDS
from tests.curate.synthetic.conftest import ROWS, SEED, Sample

# open-r1/OpenR1-Math-220k's dataset card (`dataset_info.features`), written out independently of the code.
OPENR1_FEATURES = [
    ("problem", pa.string()),
    ("solution", pa.string()),
    ("answer", pa.string()),
    ("problem_type", pa.string()),
    ("question_type", pa.string()),
    ("source", pa.string()),
    ("uuid", pa.string()),
    ("is_reasoning_complete", pa.list_(pa.bool_())),
    ("generations", pa.list_(pa.string())),
    ("correctness_math_verify", pa.list_(pa.bool_())),
    ("correctness_llama", pa.list_(pa.bool_())),
    ("finish_reasons", pa.list_(pa.string())),
    ("correctness_count", pa.int64()),
    ("messages", pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """1,100 rows (a full chunk and a partial one) written in one process and again with two workers."""
    folder = tmp_path_factory.mktemp("small")
    one, two = folder / "one.parquet", folder / "two.parquet"
    write_sample(one, rows=1100, seed=SEED, workers=1)
    write_sample(two, rows=1100, seed=SEED, workers=2)
    return one, two


def test_schema_is_openr1(sample: Sample) -> None:
    schema = pq.read_schema(sample.path)
    assert [(f.name, f.type) for f in schema] == OPENR1_FEATURES
    assert pq.ParquetFile(sample.path).metadata.num_rows == ROWS


def test_row_groups_stream_in_chunks_of_1000(sample: Sample) -> None:
    meta = pq.ParquetFile(sample.path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [1000, 1000, 1000]


def test_same_rows_and_seed_give_identical_bytes_with_or_without_workers(small: tuple[Path, Path]) -> None:
    one, two = small
    assert one.read_bytes() == two.read_bytes()
    assert manifest_path(one).read_text() == manifest_path(two).read_text()


def test_a_prefix_does_not_depend_on_the_total(sample: Sample, small: tuple[Path, Path]) -> None:
    first = pq.read_table(small[0])
    assert first.equals(pq.read_table(sample.path).slice(0, 1100))
    assert generate(250, SEED).equals(first.slice(0, 250))
    manifest = json.loads(manifest_path(small[0]).read_text())["planted"]
    assert manifest == {u: e for u, e in sample.planted.items() if e["row"] < 1100}


def test_a_different_seed_gives_different_rows() -> None:
    assert generate(20, SEED).column("uuid") != generate(20, SEED + 1).column("uuid")
    assert generate(20, SEED).column("problem") != generate(20, SEED + 1).column("problem")


def test_uuids_are_unique_and_uuid4_shaped(sample: Sample) -> None:
    uuids = [row["uuid"] for row in sample.rows]
    assert len(set(uuids)) == len(uuids)
    assert all(len(u) == 36 and u[14] == "4" and u[19] in "89ab" for u in uuids)


def test_manifest_lists_every_kind_with_its_filters(sample: Sample) -> None:
    manifest = sample.manifest
    assert manifest["generator_version"] == GENERATOR_VERSION
    assert (manifest["rows"], manifest["seed"]) == (ROWS, SEED)
    counts = manifest["counts"]
    assert set(counts) == set(KINDS)
    assert min(counts.values()) >= 10  # several of every kind even at 3,000 rows
    assert sum(counts.values()) == len(sample.planted)
    rows = sample.by_uuid()
    for uuid, entry in sample.planted.items():
        assert entry["filters"] == list(KINDS[entry["kind"]][0])
        assert sample.rows[entry["row"]]["uuid"] == uuid
        assert uuid in rows
    assert manifest["accidental_duplicates"] == {}


def test_cli_writes_the_sample_and_prints_one_line(tmp_path: Path) -> None:
    out = tmp_path / "cli" / "s.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "curate.cli", "sample", "--rows", "40", "--out", str(out), "--seed", "3"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = done.stdout.strip()
    assert "\n" not in line
    assert line.startswith(f"{out}: 40 rows, ") and "MB of text" in line and "MB/s" in line
    assert "planted" in line and "peak RSS" in line
    assert pq.read_table(out).equals(generate(40, 3))
    assert manifest_path(out).exists()


@pytest.mark.parametrize("name", ["folder", "s.csv"])
def test_cli_rejects_a_bad_output_path_in_one_line(tmp_path: Path, name: str) -> None:
    (tmp_path / "folder").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "curate.cli", "sample", "--rows", "10", "--out", str(tmp_path / name)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("curate: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "folder"]
