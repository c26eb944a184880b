"""Spills keep per-row state in memory up to a bound and on disk beyond it, and read back the same either way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from curate import spill
from curate.spill import ParquetRows, Spill, spill_folder, write_parquet


def batches(count: int, rows: int) -> list[pa.Table]:
    return [
        pa.table(
            {
                "row_id": np.arange(i * rows, (i + 1) * rows, dtype=np.int64),
                "detail": [
                    f"row {j} dropped for a reason long enough to matter"
                    for j in range(i * rows, (i + 1) * rows)
                ],
            }
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("bound", [1 << 30, 1 << 12])
def test_reads_back_in_order_by_column_and_by_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bound: int
) -> None:
    monkeypatch.setattr(spill, "BOUND", bound)
    parts = batches(20, 100)
    store = Spill(tmp_path, "drops")
    for part in parts:
        store.append(part)
    store.append(parts[0].slice(0, 0))  # empty batches are skipped
    assert store.on_disk == (bound < 1 << 20) == store.path.exists()
    assert store.rows == 2000
    whole = pa.concat_tables(parts)
    assert pa.Table.from_batches(list(store.batches())).equals(whole)
    assert store.column("row_id").to_numpy().tolist() == list(range(2000))
    positions = np.array([0, 99, 100, 1234, 1999])
    taken = store.take(positions, ["detail"])
    assert taken.column_names == ["detail"]
    assert taken.column("detail").to_pylist() == [whole.column("detail")[int(p)].as_py() for p in positions]
    assert store.take(np.array([], dtype=np.int64)).num_rows == 0
    store.close()
    assert not store.path.exists()


def test_a_cache_entry_reads_like_a_spill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "BOUND", 1 << 12)
    store = Spill(tmp_path, "drops")
    for part in batches(5, 300):
        store.append(part)
    write_parquet(tmp_path / "entry.parquet", store, store.schema)
    entry = ParquetRows(tmp_path / "entry.parquet")
    assert entry.rows == store.rows == 1500
    assert pa.Table.from_batches(list(entry.batches(["row_id"]))).column(0).equals(store.column("row_id"))


def test_each_run_gets_its_own_folder_and_removes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATE_SPILL", str(tmp_path / "spill"))
    keep = tmp_path / "spill" / "not-ours"
    keep.mkdir(parents=True)
    with spill_folder() as first, spill_folder() as second:
        assert first != second and first.parent == second.parent == tmp_path / "spill"
        (first / "x.arrow").write_bytes(b"data")
    with pytest.raises(RuntimeError), spill_folder() as third:
        raise RuntimeError("a failed run")
    assert not first.exists() and not second.exists() and not third.exists()
    assert keep.exists()  # what curate did not create stays
