"""Plan, check against the installed verl, write the launch files, and start (or submit) the run."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from curate.errors import CurateError
from curate.train.plan import Plan, Request, build_plan
from curate.train.scripts import Written, write_launch
from curate.train.verl_env import (
    INSTALL_HINT,
    check_verl,
    compose,
    find_verl,
    missing_runtime,
    visible_gpus,
)


@dataclass(frozen=True)
class Prepared:
    plan: Plan
    written: Written
    validated_with: str | None  # the verl version whose config accepted the overrides, if any
    notes: tuple[str, ...]


def prepare(request: Request) -> Prepared:
    """Everything short of starting the run; the files are written only once every check has passed."""
    plan = build_plan(request)
    notes = list(plan.notes)
    install = find_verl()
    validated = None
    if install is not None:
        warning = check_verl(install)
        if warning:
            notes.append(f"warning: {warning}")
        compose(install, plan.hydra_overrides())
        validated = install.version
    else:
        notes.append(
            f"verl is not installed here, so the overrides were not checked against its config ({INSTALL_HINT})"
        )
    return Prepared(plan, write_launch(plan), validated, tuple(notes))


def start(prepared: Prepared) -> int:
    """Run the single-node script here, or submit the sbatch file; the exit code of either."""
    script = prepared.written.script
    if prepared.plan.request.scheduler == "slurm":
        sbatch = shutil.which("sbatch")
        if sbatch is None:
            raise CurateError(
                "sbatch is not on PATH", hint=f"submit it from a SLURM login node: sbatch {script}"
            )
        return subprocess.run([sbatch, str(script)], check=False).returncode
    if prepared.validated_with is None:
        raise CurateError("verl is not installed", hint=f"{INSTALL_HINT}, then run: bash {script}")
    missing = missing_runtime()
    if missing:
        raise CurateError(
            f"verl's trainer imports {', '.join(missing)}, not installed here", hint=INSTALL_HINT
        )
    gpus = visible_gpus()
    wanted = prepared.plan.gpus_per_node
    if gpus == 0:
        raise CurateError(
            "no CUDA GPU is visible on this machine", hint=f"run {script} on a machine with {wanted} GPUs"
        )
    if gpus < wanted:
        raise CurateError(
            f"{gpus} GPU(s) visible, the launch uses {wanted}",
            hint=f"pass --gpus-per-node {gpus} (and a --batch-size it divides), or run {script} elsewhere",
        )
    return subprocess.run(["bash", str(script)], check=False).returncode
