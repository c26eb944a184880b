"""The same recipe on one process, on local worker processes and on Ray gives byte-identical outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate import steps
from curate.engine import run_recipe
from curate.recipe import Recipe, SourceSpec, load_recipe

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "openr1-math-45k.yaml"


def recipe(out: Path, executor: dict) -> Recipe:
    loaded = load_recipe(RECIPE).with_overrides(source=SourceSpec(sample=True, rows=1500), out=str(out))
    spec = loaded.model
    spec.sample = spec.sample.model_copy(update={"size": 800, "test_size": 50})  # type: ignore[union-attr]
    spec.executor = spec.executor.model_copy(update=executor)
    return loaded


def outputs(out: Path) -> dict[str, bytes]:
    """The data and the filter reports (the lock file and card name the executor and folder, so they differ)."""
    files = [*out.glob("*.parquet"), *out.glob("*_report.json")]
    return {p.name: p.read_bytes() for p in files}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small batches, so every parallel path (row filters, signatures, trace chain) really splits."""
    monkeypatch.setattr(steps, "ROW_BATCH", 200)
    monkeypatch.setattr(steps, "CHAIN_BATCH", 128)


@pytest.mark.slow
@pytest.mark.usefixtures("small_batches")
def test_local_and_ray_executors_agree_byte_for_byte(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    serial = run_recipe(recipe(tmp_path / "serial", {"workers": 1}), use_cache=False)
    local = run_recipe(recipe(tmp_path / "local", {"workers": 2}), use_cache=False)
    assert serial.stats["executor"] == {"type": "local", "workers": 1}
    assert local.stats["executor"] == {"type": "local", "workers": 2}
    expected = outputs(tmp_path / "serial")
    assert len(expected) == 3 + 5  # train, test, rejections; five filter reports
    assert outputs(tmp_path / "local") == expected
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_recipe(recipe(tmp_path / "ray", {"type": "ray", "workers": 2}), use_cache=False)
    finally:
        ray.shutdown()
    assert on_ray.stats["executor"] == {"type": "ray", "workers": 2}
    assert outputs(tmp_path / "ray") == expected
    funnels = [
        [(e["filter"], e["rows_out"], e.get("generations")) for e in r.stats["funnel"]]
        for r in (serial, local, on_ray)
    ]
    for funnel in funnels:
        for entry in funnel:
            if entry[2]:
                entry[2].pop("seconds")
    assert funnels[0] == funnels[1] == funnels[2]
