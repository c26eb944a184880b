"""Timed runs of curate itself, each in a fresh process with an empty curate cache, so nothing carries over
from an earlier run (no step results, no answer-verification verdicts) and the whole process tree's memory
can be measured: the full recipe end to end (`curate run`), and each filter of it alone."""

from __future__ import annotations

import bisect
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from curate.bench.corpus import Corpus
from curate.bench.monitor import Measured, child_env, run_monitored
from curate.errors import CurateError
from curate.outputs import RunOutput

# Columns every trace filter's chain reads besides the filter's own (see `curate.traces.run_chain`).
CHAIN_COLUMNS = ("uuid", "problem", "answer", "generations", "finish_reasons")


def _check(measured: Measured, what: str) -> None:
    if measured.returncode != 0:
        tail = "\n".join(measured.stderr.strip().splitlines()[-15:])
        raise CurateError(f"{what} failed with exit code {measured.returncode}:\n{tail}")


def fresh_cache(scratch: Path) -> Path:
    """An empty curate cache for one run: no step results, no answer-verification verdicts."""
    return Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))


def _thin(points: list[tuple[float, float, float]], most: int) -> list[tuple[float, float, float]]:
    """At most `most` points of a (seconds, tree RSS MB, driver RSS MB) timeline, peaks kept: each kept point
    is the one with the highest tree RSS of its stretch."""
    step = max(1, -(-len(points) // most))
    return [max(points[i : i + step], key=lambda p: p[1]) for i in range(0, len(points), step)]


def _per_second(amount: float, seconds: float) -> float:
    return amount / seconds if seconds > 0 else 0.0


def _phases(stats: dict[str, Any], measured: Measured) -> list[dict[str, Any]]:
    """The run's phases (stats.json) with the CPU seconds the whole process tree spent in each, read off the
    monitor's CPU timeline at the phase's start and end."""
    points = measured.cpu_timeline
    times = [t for t, _ in points]

    def cpu_at(moment: float) -> float:
        index = bisect.bisect_left(times, moment)
        if index == 0:
            return points[0][1] if points else 0.0
        if index == len(points):
            return points[-1][1]
        (t0, c0), (t1, c1) = points[index - 1], points[index]
        return c0 + (c1 - c0) * (moment - t0) / (t1 - t0) if t1 > t0 else c1

    return [
        {
            "phase": p["phase"],
            "wall_s": p["wall_s"],
            "driver_cpu_s": p["driver_cpu_s"],
            "tree_cpu_s": round(cpu_at(p["started"] + p["wall_s"]) - cpu_at(p["started"]), 3),
        }
        for p in stats.get("phases", [])
    ]


def curate_run(
    recipe: Path, corpus: Corpus, *, workers: int, scratch: Path, executor: str = "local"
) -> dict[str, Any]:
    """`curate run RECIPE --source CORPUS --no-cache` in a fresh process and cache (`--executor ray`: a local
    Ray instance started by the run); wall time, CPU time and peak memory of its process tree, and the run's
    own stats.json (funnel with seconds per step, phases with the driver's and the tree's CPU)."""
    out = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))
    cache = fresh_cache(scratch)
    command = [
        sys.executable,
        "-m",
        "curate.cli",
        "--quiet",
        "run",
        str(recipe),
        "--source",
        str(corpus.path),
        "--out",
        str(out / "out"),
        "--workers",
        str(workers),
        "--no-cache",
        "--allow-smaller",
        *(["--executor", executor] if executor != "local" else []),
    ]
    measured = run_monitored(command, env=child_env(CURATE_CACHE=str(cache), CURATE_PROGRESS="0"))
    _check(measured, f"curate run on {corpus.rows} rows")
    output = RunOutput(out / "out")
    stats = output.stats()
    hashes = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (*(path for _, path in output.splits()), output.rejections)
    }
    return {
        "command": " ".join(["curate", *command[4:]]),
        "executor": executor,
        "rows": corpus.rows,
        "text_mb": round(corpus.total_text_bytes / 1e6, 1),
        **measured.summary(),
        "rows_per_s": round(_per_second(corpus.rows, measured.wall_s), 1),
        "text_mb_per_s": round(_per_second(corpus.total_text_bytes / 1e6, measured.wall_s), 2),
        "seconds_per_1k_rows": round(1000 * measured.wall_s / corpus.rows, 4),
        "engine_seconds": stats.get("seconds_total"),
        "memory_timeline": _thin(measured.timeline, 240),
        "phases": _phases(stats, measured),
        "rows_out": stats["rows"],
        "outputs_sha256": hashes,
        "funnel": [
            {
                "filter": step["filter"],
                "level": step["level"],
                "rows_in": step["rows_in"],
                "rows_out": step["rows_out"],
                "seconds": step.get("seconds"),
                "generations": step.get("generations"),
            }
            for step in stats["funnel"]
        ],
    }


def filter_alone(
    recipe: Path, index: int, corpus: Corpus, *, workers: int, scratch: Path, columns: tuple[str, ...]
) -> dict[str, Any]:
    """Filter `index` of the recipe alone over every row of the corpus (`curate.bench.child filter`), in a
    fresh process; `columns` are the source columns it reads, for its MB/s."""
    cache = fresh_cache(scratch)
    result = scratch / f"filter-{index}.json"
    command = [
        sys.executable,
        "-m",
        "curate.bench.child",
        "filter",
        str(recipe),
        str(index),
        str(corpus.path),
        str(workers),
        str(result),
    ]
    measured = run_monitored(command, env=child_env(CURATE_CACHE=str(cache), CURATE_PROGRESS="0"))
    _check(measured, f"filter {index} of {recipe.name} alone")
    step = json.loads(result.read_text())
    seconds = step["seconds"]
    text_bytes = corpus.bytes_of(columns)
    out = {
        **step,
        "columns": list(columns),
        "text_bytes": text_bytes,
        "rows_per_s": round(_per_second(step["rows_in"], seconds), 1),
        "text_mb_per_s": round(_per_second(text_bytes / 1e6, seconds), 2),
        "process": measured.summary(),
    }
    if step.get("generations"):
        out["generations_per_s"] = round(_per_second(step["generations"]["seen"], seconds), 1)
    return out
