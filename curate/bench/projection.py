"""A projection, from the costs a benchmark measured, of a run far larger than the benchmark machine: the
3.2M-row OpenMathReasoning `cot` split (about 72 GB of text) on one 64-core node with local workers, and on
four such nodes with Ray.

The model is the run's own phases (stats.json: each row or global step, the trace chain, the draw, the
writing). For each phase the benchmark knows the driver's CPU seconds (work more workers do not shorten: the
driver is one process) and the whole process tree's (the rest is the workers'). Each is fitted as a fixed part
plus a part per unit of what the phase's work follows (a least-squares line through the scaling points; with
one point, proportional): the trace chain follows the bytes of text, the writing nothing (the same 45K-row
draw), every other phase the rows. Carried to the target, a phase's wall time is its driver time plus its
worker time spread over the target's worker cores; on Ray the worker time is scaled by the CPU Ray spent over
the local executor on the same rows (when the benchmark measured it). Overlap of driver and workers is not
counted, so the projection errs long; I/O is inside the measured CPU (reading and decoding parquet), and a
shared filesystem slower than local disk is not modelled.
"""

from __future__ import annotations

from typing import Any

TARGET: dict[str, Any] = {"name": "OpenMathReasoning cot", "rows": 3_200_000, "text_mb": 72_000.0}
MACHINES = (("1 node x 64 cores (local executor)", 1, 64), ("4 nodes x 64 cores (Ray)", 4, 64))
TEXT_PHASES = {"traces"}  # work that follows the text of the rows: the generations the chain reads
FIXED_PHASES = {"write"}  # the same draw (45,000 + 200 rows) whatever the source's size


def _runs(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The local runs that recorded their phases with the tree's CPU, one per size."""
    runs = {r["rows"]: r for r in [*report.get("scaling", []), report["end_to_end"]] if r.get("phases")}
    return [r for r in runs.values() if all("tree_cpu_s" in p for p in r["phases"])]


def _units(phase: str, rows: float, text_mb: float) -> float:
    return text_mb if phase in TEXT_PHASES else 0.0 if phase in FIXED_PHASES else rows


def _line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(fixed, per unit) through the points, neither negative: a least-squares line, else proportional."""
    xs = {x for x, _ in points}
    if len(xs) >= 2:
        n = len(points)
        mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
            (x - mean_x) ** 2 for x, _ in points
        )
        fixed = mean_y - slope * mean_x
        if slope >= 0 and fixed >= 0:
            return fixed, slope
        if slope < 0:
            return mean_y, 0.0
    total_x = sum(x for x, _ in points)
    if total_x == 0:
        return sum(y for _, y in points) / len(points), 0.0
    return 0.0, sum(y for _, y in points) / total_x


def _cpu(runs: list[dict[str, Any]]) -> float:
    return sum(r["cpu_s"] for r in runs) / len(runs)


def project(report: dict[str, Any]) -> dict[str, Any] | None:
    runs = _runs(report)
    if not runs:
        return None
    reference = max(runs, key=lambda r: r["rows"])
    ray = report.get("ray")
    ray_cpu = _cpu(ray["runs"]["ray"]) / _cpu(ray["runs"]["local"]) if ray else None
    fixed, _ = _line(
        [(r["rows"], max(r["wall_s"] - sum(p["wall_s"] for p in r["phases"]), 0.0)) for r in runs]
    )
    phases = []
    for p in reference["phases"]:
        name = p["phase"]
        points = [
            (_units(name, r["rows"], r["text_mb"]), q)
            for r in runs
            for q in r["phases"]
            if q["phase"] == name
        ]
        target = _units(name, TARGET["rows"], TARGET["text_mb"])
        d_fixed, d_unit = _line([(x, q["driver_cpu_s"]) for x, q in points])
        w_fixed, w_unit = _line([(x, max(q["tree_cpu_s"] - q["driver_cpu_s"], 0.0)) for x, q in points])
        driver, workers = d_fixed + d_unit * target, w_fixed + w_unit * target
        projected = {}
        for machine, nodes, cores in MACHINES:
            factor = (ray_cpu or 1.0) if nodes > 1 else 1.0
            projected[machine] = round(driver + workers * factor / (nodes * cores - 1), 1)
        phases.append(
            {
                "phase": name,
                "wall_s": p["wall_s"],
                "driver_cpu_s": p["driver_cpu_s"],
                "workers_cpu_s": round(max(p["tree_cpu_s"] - p["driver_cpu_s"], 0.0), 3),
                "driver_cpu_target_s": round(driver, 1),
                "workers_cpu_target_s": round(workers, 1),
                "projected_s": projected,
            }
        )
    totals = {m: round(fixed + sum(p["projected_s"][m] for p in phases), 1) for m, _, _ in MACHINES}
    return {
        "target": TARGET,
        "reference": {
            "rows": reference["rows"],
            "text_mb": reference["text_mb"],
            "wall_s": reference["wall_s"],
        },
        "fitted_on_rows": sorted(r["rows"] for r in runs),
        "ray_cpu_over_local": None if ray_cpu is None else round(ray_cpu, 3),
        "cores": {name: nodes * cores for name, nodes, cores in MACHINES},
        "fixed_s": round(fixed, 1),
        "phases": phases,
        "totals_s": totals,
    }
