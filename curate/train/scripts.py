"""The launch scripts `curate train` writes beside the data: a `torchrun --standalone` script for one node,
or an sbatch file that starts one torchrun per node with a static rendezvous on the first node.

The overrides live in a bash array, one per line, quoted for the shell, so the script can be read, edited
and re-run by hand; arguments given to the script are appended as further Hydra overrides.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import curate
from curate.recipe import dump_yaml
from curate.train.plan import Plan
from curate.train.verl_env import CONFIG_NAME, ENTRY_MODULE, SUPPORTED

MASTER_PORT = 29500


@dataclass(frozen=True)
class Written:
    script: Path
    overrides: Path


OVERRIDES = "train_overrides.yaml"


def script_path(plan: Plan) -> Path:
    name = "train.sbatch" if plan.request.scheduler == "slurm" else "train.sh"
    return plan.data.dir / name


def render(plan: Plan) -> str:
    return render_slurm(plan) if plan.request.scheduler == "slurm" else render_local(plan)


def render_local(plan: Plan) -> str:
    launch = (
        f"torchrun --standalone --nnodes=1 --nproc_per_node={plan.gpus_per_node} -m {ENTRY_MODULE} "
        '"${OVERRIDES[@]}" "$@"'
    )
    return "\n".join(
        [
            "#!/usr/bin/env bash",
            *_header(plan),
            "set -euo pipefail",
            *_environment(plan),
            *_array(plan),
            launch,
            *_footer(plan),
        ]
    )


def render_slurm(plan: Plan) -> str:
    per_node = (
        f'exec torchrun --nnodes="$SLURM_NNODES" --nproc_per_node={plan.gpus_per_node} '
        '--node_rank="$SLURM_NODEID" --master_addr="$MASTER_ADDR" --master_port="$MASTER_PORT" '
        f'-m {ENTRY_MODULE} "$@"'
    )
    return "\n".join(
        [
            "#!/usr/bin/env bash",
            f"#SBATCH --job-name={plan.overrides['trainer.experiment_name']}",
            f"#SBATCH --nodes={plan.nnodes}",
            "#SBATCH --ntasks-per-node=1",
            f"#SBATCH --gpus-per-node={plan.gpus_per_node}",
            f"#SBATCH --output={plan.data.dir / 'train-%j.out'}",
            *_header(plan),
            "# Site options (partition, account, time limit, CPUs) go on the command line, e.g.",
            f"#   sbatch --partition=gpu --account=ACCOUNT --time=48:00:00 {script_path(plan)}",
            "# sbatch passes your environment to the job: activate the environment that has verl first.",
            "set -euo pipefail",
            "# The first host of the allocation runs the rendezvous (sed, not head: no SIGPIPE under pipefail).",
            'MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | sed -n 1p)"',
            f"export MASTER_ADDR MASTER_PORT={MASTER_PORT}",
            *_environment(plan),
            *_array(plan),
            "# One task per node; each runs torchrun for the node's GPUs, ranked by its SLURM node id.",
            'srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 --kill-on-bad-exit=1 \\',
            f"  bash -c {shlex.quote(per_node)} \\",
            '  torchrun "${OVERRIDES[@]}" "$@"',
            *_footer(plan),
        ]
    )


def _header(plan: Plan) -> list[str]:
    data = plan.data
    test = f", {data.test.rows} validation rows" if plan.overrides.get("data.val_files") and data.test else ""
    return [
        f"# Full-parameter SFT of {plan.model} with {SUPPORTED}: {ENTRY_MODULE}, config {CONFIG_NAME}.",
        f"# Written by `curate train` (curate {curate.__version__}, preset {plan.preset.name}); "
        "extra Hydra overrides may follow the script name.",
        f"# Data: {data.train.rows} rows{test}; longest {data.longest} tokens, "
        f"data.max_length {plan.overrides['data.max_length']} ({plan.max_length_source}).",
        f"# {plan.nnodes} node(s) x {plan.gpus_per_node} GPUs; {plan.steps_per_epoch} steps per epoch, "
        f"{plan.total_steps} steps in all.",
        f"# Checkpoints: {plan.ckpt_dir} (a re-run resumes from the latest one).",
    ]


def _environment(plan: Plan) -> list[str]:
    metrics = shlex.quote(str(plan.ckpt_dir / "metrics"))
    return [
        "# verl's `file` logger writes one JSON line per step here; a resumed run starts a new file.",
        f'export VERL_FILE_LOGGER_PATH="${{VERL_FILE_LOGGER_PATH:-{metrics}/$(date +%Y%m%d-%H%M%S).jsonl}}"',
        'mkdir -p "$(dirname "$VERL_FILE_LOGGER_PATH")"',
    ]


def _array(plan: Plan) -> list[str]:
    return [
        "# Hydra overrides for verl, quoted for bash around Hydra's own quoting. model.custom_chat_template is",
        "# the ChatML training template (readable in train_overrides.yaml): it keeps the <think> block trained.",
        "OVERRIDES=(",
        *[f"  {shlex.quote(o)}" for o in plan.hydra_overrides()],
        ")",
    ]


def _footer(plan: Plan) -> list[str]:
    return [
        'echo "Training done. Merge the last checkpoint into a Hugging Face model with:"',
        f"echo {shlex.quote('  ' + plan.merge_command())}",
        "",
    ]


def overrides_document(plan: Plan) -> dict[str, Any]:
    """The resolved launch, as written to `train_overrides.yaml`: what verl receives and why."""
    data = plan.data
    return {
        "verl": SUPPORTED,
        "entry": f"torchrun -m {ENTRY_MODULE} (config {CONFIG_NAME})",
        "preset": plan.preset.name,
        "model": plan.model,
        "launch": {
            "scheduler": plan.request.scheduler,
            "nnodes": plan.nnodes,
            "gpus_per_node": plan.gpus_per_node,
            "script": str(script_path(plan)),
        },
        "data": {
            "train_rows": data.train.rows,
            "test_rows": data.test.rows if data.test else 0,
            "longest_tokens": data.longest,
            "token_bound": data.bound.max_tokens if data.bound else None,
            "max_length_from": plan.max_length_source,
        },
        "steps": {
            "per_epoch": plan.steps_per_epoch,
            "total": plan.total_steps,
            "last_checkpoint": str(plan.last_checkpoint),
        },
        "overrides": plan.overrides,
        "extra_overrides": list(plan.extra),
        "merge": plan.merge_command(),
        "notes": list(plan.notes),
    }


def write_launch(plan: Plan) -> Written:
    script = script_path(plan)
    overrides = plan.data.dir / OVERRIDES
    _atomic_write(overrides, dump_yaml(overrides_document(plan)), 0o644)
    _atomic_write(script, render(plan), 0o755)
    return Written(script, overrides)


def _atomic_write(path: Path, text: str, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
