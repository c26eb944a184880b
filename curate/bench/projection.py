"""A projection, from the costs a benchmark measured, of a run far larger than the benchmark machine: the
3.2M-row OpenMathReasoning `cot` split (about 72 GB of text) on one 64-core node with local workers, and on
four such nodes with Ray.

The model is the run's own phases (stats.json: each row or global step, the trace chain, the draw, the
writing). For each phase the benchmark knows the driver's CPU seconds (work more workers do not shorten: the
driver is one process) and the whole process tree's (the rest is the workers'). Each is carried to the
target by what the phase's work follows: the trace chain by the bytes of text, the writing not at all (the
same 45K-row draw), every other phase by rows. Projected wall time of a phase is its driver time plus its
worker time spread over the target's worker cores; on Ray the worker time is scaled by the CPU Ray spent over
the local executor on the same rows (when the benchmark measured it). Overlap of driver and workers is not
counted, so the projection errs long; I/O is inside the measured CPU (reading and decoding parquet), and a
shared filesystem slower than local disk is not modelled.
"""

from __future__ import annotations

from typing import Any

TARGET = {"name": "OpenMathReasoning cot", "rows": 3_200_000, "text_mb": 72_000.0}
MACHINES = (("1 node x 64 cores (local executor)", 1, 64), ("4 nodes x 64 cores (Ray)", 4, 64))
TEXT_PHASES = {"traces"}  # work that follows the text of the rows: the generations the chain reads
FIXED_PHASES = {"write"}  # the same draw (45,000 + 200 rows) whatever the source's size


def _reference(report: dict[str, Any]) -> dict[str, Any] | None:
    """The largest local run that recorded its phases with the tree's CPU."""
    runs = [report["end_to_end"], *report.get("scaling", [])]
    runs = [r for r in runs if r.get("phases") and all("tree_cpu_s" in p for p in r["phases"])]
    return max(runs, key=lambda r: r["rows"]) if runs else None


def project(report: dict[str, Any]) -> dict[str, Any] | None:
    run = _reference(report)
    if run is None:
        return None
    rows_scale = TARGET["rows"] / run["rows"]
    text_scale = TARGET["text_mb"] / run["text_mb"]
    ray = report.get("ray")
    ray_cpu = ray["runs"]["ray"]["cpu_s"] / ray["runs"]["local"]["cpu_s"] if ray else None
    fixed = max(run["wall_s"] - sum(p["wall_s"] for p in run["phases"]), 0.0)
    phases = []
    for p in run["phases"]:
        scale = text_scale if p["phase"] in TEXT_PHASES else 1.0 if p["phase"] in FIXED_PHASES else rows_scale
        driver = p["driver_cpu_s"] * scale
        workers = max(p["tree_cpu_s"] - p["driver_cpu_s"], 0.0) * scale
        projected = {}
        for name, nodes, cores in MACHINES:
            factor = (ray_cpu or 1.0) if nodes > 1 else 1.0
            projected[name] = round(driver + workers * factor / (nodes * cores - 1), 1)
        phases.append(
            {
                "phase": p["phase"],
                "wall_s": p["wall_s"],
                "driver_cpu_s": p["driver_cpu_s"],
                "workers_cpu_s": round(max(p["tree_cpu_s"] - p["driver_cpu_s"], 0.0), 3),
                "scale": round(scale, 2),
                "projected_s": projected,
            }
        )
    totals = {name: round(fixed + sum(p["projected_s"][name] for p in phases), 1) for name, _, _ in MACHINES}
    return {
        "target": TARGET,
        "reference": {"rows": run["rows"], "text_mb": run["text_mb"], "wall_s": run["wall_s"]},
        "ray_cpu_over_local": None if ray_cpu is None else round(ray_cpu, 3),
        "cores": {name: nodes * cores for name, nodes, cores in MACHINES},
        "fixed_s": round(fixed, 1),
        "phases": phases,
        "totals_s": totals,
    }
