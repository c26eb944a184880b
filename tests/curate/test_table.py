"""Row-selective, column-projected reads across files and row groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curate.errors import CurateError
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


def test_batches_follow_row_groups_and_never_span_files(tmp_path: Path) -> None:
    first = rows.write(tmp_path / "a.parquet", rows.many(40), row_group_size=10)
    second = rows.write(tmp_path / "b.parquet", rows.many(30, start=40), row_group_size=30)
    table = SourceTable([first, second])
    every = np.arange(70, dtype=np.int64)
    assert [b.tolist() for b in table.batches(every, 15)] == [
        list(range(0, 10)),
        list(range(10, 20)),
        list(range(20, 30)),
        list(range(30, 40)),
        list(range(40, 70)),  # a group of 30 is not split: at most twice the batch size
    ]
    assert [b.size for b in table.batches(every, 25)] == [20, 20, 30]
    assert [b.size for b in table.batches(every, 12)][-2:] == [12, 18]  # more than twice: split
    some = np.array([1, 2, 15, 16, 17, 33, 41, 69], dtype=np.int64)
    assert [b.tolist() for b in table.batches(some, 3)] == [[1, 2], [15, 16, 17], [33], [41, 69]]
    assert list(table.batches(np.array([], dtype=np.int64), 5)) == []


def test_a_worker_opens_only_its_rows_files_and_logs_what_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    first = rows.write(tmp_path / "a.parquet", rows.many(20), row_group_size=5)
    second = rows.write(tmp_path / "b.parquet", rows.many(20, start=20), row_group_size=5)
    layout = SourceTable([first, second]).layout()
    first.rename(tmp_path / "gone.parquet")  # this worker cannot see the first file
    log = tmp_path / "reads"
    log.mkdir()
    monkeypatch.setenv("CURATE_READ_LOG", str(log))
    worker = SourceTable.from_layout(layout)
    frame = worker.read(["uuid", "generations"], np.array([21, 22, 37], dtype=np.int64))
    assert frame["uuid"].to_list() == ["uuid-00021", "uuid-00022", "uuid-00037"]
    records = [json.loads(line) for path in log.iterdir() for line in path.read_text().splitlines()]
    assert [(r["file"], r["group"], r["columns"]) for r in records] == [
        (str(second), 0, ["generations", "uuid"]),
        (str(second), 3, ["generations", "uuid"]),
    ]
    with pytest.raises(CurateError, match="source file is not on"):
        worker.read(["uuid"], np.array([3], dtype=np.int64))


def test_a_worker_refuses_a_copy_with_other_rows(tmp_path: Path) -> None:
    path = rows.write(tmp_path / "a.parquet", rows.many(20), row_group_size=5)
    layout = SourceTable([path]).layout()
    rows.write(path, rows.many(12), row_group_size=5)
    with pytest.raises(CurateError, match="has 12 rows, the driver's 20"):
        SourceTable.from_layout(layout).read(["uuid"], np.array([0], dtype=np.int64))


def test_a_worker_without_the_drivers_copy_reads_the_hub_file_at_the_locked_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Hub source on a cluster whose nodes each have their own Hugging Face cache: the worker downloads
    the file the driver planned from, at the driver's commit, even after the dataset has moved on."""
    from dataclasses import replace

    from curate.recipe import SourceSpec
    from curate.source import resolve_source
    from curate.table import hub_locator
    from tests.hubserver import HubServer, User, point_client_at

    card = "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n---\n"
    first = rows.write(tmp_path / "a.parquet", rows.many(20), row_group_size=5).read_bytes()
    newer = rows.write(tmp_path / "b.parquet", rows.many(20, start=500), row_group_size=5).read_bytes()
    with HubServer({"hf_token": User("alice", orgs=("acme",))}) as hub:
        point_client_at(monkeypatch, hub.url, tmp_path / "driver-hf")
        hub.seed("dataset", "acme/mini", {"README.md": card.encode(), "data/train-0.parquet": first})
        source = resolve_source(SourceSpec(dataset="acme/mini", config="default"))
        layout = SourceTable(source.files, hub=hub_locator(source.files, source.provenance)).layout()
        assert layout.hub == (("acme/mini", source.provenance["commit"], "data/train-0.parquet"),)
        hub.seed("dataset", "acme/mini", {"data/train-0.parquet": newer}, message="newer rows")
        point_client_at(monkeypatch, hub.url, tmp_path / "worker-hf")  # another machine's cache
        elsewhere = replace(layout, files=(str(tmp_path / "not-on-this-node.parquet"),))
        frame = SourceTable.from_layout(elsewhere).read(["uuid"], np.array([0, 19], dtype=np.int64))
        assert frame["uuid"].to_list() == ["uuid-00000", "uuid-00019"]
        assert list((tmp_path / "worker-hf").rglob("train-0.parquet"))
