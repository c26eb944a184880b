"""The same recipe on one process, on local worker processes, on Ray and on a multi-node Ray cluster gives
byte-identical outputs; on the cluster the worker nodes read their own shards, and losing one mid-run still
gives the whole output."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from curate import steps
from curate.engine import RunResult, run_recipe
from curate.recipe import Recipe, SourceSpec, load_recipe
from curate.source import resolve_source

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "openr1-math-45k.yaml"
ROWS = 1500


def recipe(out: Path, executor: dict) -> Recipe:
    loaded = load_recipe(RECIPE).with_overrides(source=SourceSpec(sample=True, rows=ROWS), out=str(out))
    spec = loaded.model
    spec.sample = spec.sample.model_copy(update={"size": 800, "test_size": 50})  # type: ignore[union-attr]
    spec.executor = spec.executor.model_copy(update=executor)
    return loaded


def outputs(out: Path) -> dict[str, bytes]:
    """The data and the filter reports (the lock file and card name the executor and folder, so they differ)."""
    files = [*out.glob("*.parquet"), *out.glob("*_report.json")]
    return {p.name: p.read_bytes() for p in files}


def funnel(result: RunResult) -> list[tuple[str, int, dict | None]]:
    entries = []
    for entry in result.stats["funnel"]:
        generations = dict(entry.get("generations") or {})
        generations.pop("seconds", None)
        entries.append((entry["filter"], entry["rows_out"], generations or None))
    return entries


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small batches, so every parallel path (row filters, signatures, trace chain) really splits."""
    monkeypatch.setattr(steps, "ROW_BATCH", 200)
    monkeypatch.setattr(steps, "CHAIN_BATCH", 128)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], RunResult]:
    """The serial run every other executor must reproduce."""
    out = tmp_path_factory.mktemp("serial")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steps, "ROW_BATCH", 200)
        patch.setattr(steps, "CHAIN_BATCH", 128)
        serial = run_recipe(recipe(out, {"workers": 1}), use_cache=False)
    assert serial.stats["executor"] == {"type": "local", "workers": 1}
    found = outputs(out)
    assert len(found) == 3 + 5  # train, test, rejections; five filter reports
    return found, serial


@pytest.mark.slow
@pytest.mark.usefixtures("small_batches")
def test_local_and_ray_executors_agree_byte_for_byte(tmp_path: Path, expected: tuple) -> None:
    ray = pytest.importorskip("ray")
    files, serial = expected
    local = run_recipe(recipe(tmp_path / "local", {"workers": 2}), use_cache=False)
    assert local.stats["executor"] == {"type": "local", "workers": 2}
    assert outputs(tmp_path / "local") == files
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_recipe(recipe(tmp_path / "ray", {"type": "ray", "workers": 2}), use_cache=False)
    finally:
        ray.shutdown()
    assert on_ray.stats["executor"] == {"type": "ray", "workers": 2}
    assert outputs(tmp_path / "ray") == files
    assert funnel(serial) == funnel(local) == funnel(on_ray)


def reads(folder: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for path in folder.glob("reads-*.jsonl") for line in path.read_text().splitlines()
    ]


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, list[Any], Path]]:
    """A Ray cluster of three nodes on this machine: a head with no CPUs for tasks (the driver's node) and two
    worker nodes of one CPU, each its own raylet, object store and worker processes. Every process of it
    logs the row groups it decodes (CURATE_READ_LOG)."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    log = tmp_path / "reads"
    log.mkdir()
    monkeypatch.setenv("CURATE_READ_LOG", str(log))
    config = {"health_check_period_ms": 500, "health_check_failure_threshold": 4}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "include_dashboard": False, "_system_config": config},
    )
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        yield cluster, workers, log
    finally:
        ray.shutdown()
        cluster.shutdown()


def chain_groups() -> set[tuple[str, int]]:
    """The (file, row group) pairs of the sample source: every one holds rows that reach the trace chain."""
    path = resolve_source(SourceSpec(sample=True, rows=ROWS)).files[0]
    return {(str(path), group) for group in range(pq.ParquetFile(path).num_row_groups)}


@pytest.mark.slow
@pytest.mark.usefixtures("small_batches")
def test_two_worker_nodes_read_their_own_shards_and_match_local_output(
    tmp_path: Path, cluster: tuple, expected: tuple
) -> None:
    import ray

    _, workers, log = cluster
    files, serial = expected
    driver_node = ray.get_runtime_context().get_node_id()
    result = run_recipe(recipe(tmp_path / "cluster", {"type": "ray", "address": "auto"}), use_cache=False)
    assert result.stats["executor"] == {"type": "ray", "workers": 2}
    assert outputs(tmp_path / "cluster") == files
    assert funnel(result) == funnel(serial)

    found = reads(log)
    driver = [r for r in found if r["pid"] == os.getpid()]
    # The driver reads small columns only (uuids for the rejections, the dedup clusters' problems); never a
    # generation, and no worker process runs on its node.
    assert driver and all("generations" not in r["columns"] for r in driver)
    assert all(r["node"] == driver_node for r in driver)
    remote = [r for r in found if r["pid"] != os.getpid()]
    assert {r["node"] for r in remote} == {node.node_id for node in workers}
    generations = {(r["file"], r["group"]) for r in remote if "generations" in r["columns"]}
    assert generations == chain_groups()  # the worker nodes read every shard of the chain themselves
    by_node = {r["node"] for r in remote if "generations" in r["columns"]}
    assert len(by_node) == 2  # and both of them did


@pytest.mark.slow
def test_losing_a_worker_node_mid_run_still_gives_the_whole_output(
    tmp_path: Path, cluster: tuple, expected: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ray retries the tasks of a lost node on the node that is left; the output is whole and identical."""
    import ray

    head, workers, log = cluster
    files, _ = expected
    monkeypatch.setattr(steps, "ROW_BATCH", 200)
    monkeypatch.setattr(steps, "CHAIN_BATCH", 32)  # a long chain, so the node dies while it runs
    out = tmp_path / "out"
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = run_recipe(
                recipe(out, {"type": "ray", "address": "auto"}), use_cache=False
            )
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    lost = workers[1]
    deadline = time.monotonic() + 300
    while not any(r["node"] == lost.node_id and "generations" in r["columns"] for r in reads(log)):
        assert time.monotonic() < deadline and thread.is_alive(), outcome
        time.sleep(0.2)
    head.remove_node(lost, allow_graceful=False)  # raylet, object store and workers killed at once
    killed = time.time()
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outputs(out) == files
    assert not any(n["Alive"] for n in ray.nodes() if n["NodeID"] == lost.node_id)
    # Everything after the loss ran on the node that is left, the writing of the output included.
    after = [r for r in reads(log) if r["pid"] != os.getpid() and r["time"] > killed]
    assert {r["node"] for r in after} == {workers[0].node_id}
    assert any("problem_type" in r["columns"] and "generations" in r["columns"] for r in after)
