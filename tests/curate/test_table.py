"""Row-selective, column-projected reads across files and row groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from curate.table import SourceTable
from tests import openr1_rows as rows


def test_reads_selected_rows_across_files_and_groups(tmp_path: Path) -> None:
    first = rows.write(tmp_path / "a.parquet", rows.many(25), row_group_size=4)
    second = rows.write(tmp_path / "b.parquet", rows.many(10, start=25), row_group_size=3)
    table = SourceTable([first, second])
    assert table.num_rows == 35
    wanted = np.array([0, 3, 4, 24, 25, 27, 34], dtype=np.int64)
    frame = table.read(["uuid"], wanted)
    assert frame.columns == ["row_id", "uuid"]
    assert frame["row_id"].to_list() == wanted.tolist()
    assert frame["uuid"].to_list() == [f"uuid-{i:05d}" for i in wanted]
    chunks = list(table.iter_rows(["uuid", "generations"], wanted, batch_rows=2))
    assert sum(c.height for c in chunks) == wanted.size
    assert all(c.height >= 2 for c in chunks[:-1])
    assert table.read(["uuid"], np.array([], dtype=np.int64)).height == 0


def test_all_null_label_column_is_cast_to_its_type(tmp_path: Path) -> None:
    """Some OpenR1 shards store `correctness_llama` as all-null; reads give the canonical list<bool>."""
    path = rows.write(tmp_path / "a.parquet", rows.many(5))
    frame = SourceTable([path]).read(["correctness_llama", "generations"])
    assert str(frame.schema["correctness_llama"]) == "List(Boolean)"
    assert frame["correctness_llama"].null_count() == 5
