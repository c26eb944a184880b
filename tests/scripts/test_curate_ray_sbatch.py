"""scripts/slurm/curate_ray.sbatch run as SLURM would run it, on this machine: `srun` and `scontrol` are stand-ins
that run each step here, so the script's two nodes are two Ray nodes of one machine. It starts the head and a
worker, waits for both, runs the recipe on them, and stops what it started."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "slurm" / "curate_ray.sbatch"
RECIPE = """\
extends: {base}
sample: {{size: 800, test_size: 50}}
"""
SRUN = """\
#!/usr/bin/env bash
# srun stand-in: drop the allocation options, run the step here.
while [[ $# -gt 0 && $1 == -* ]]; do
    case $1 in -w | --nodelist) shift 2 ;; *) shift ;; esac
done
exec "$@"
"""
SCONTROL = """\
#!/usr/bin/env bash
[[ "$1 $2" == "show hostnames" ]] && printf 'node-a\\nnode-b\\n'
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [*out.glob("*.parquet"), *out.glob("*_report.json")]}


@pytest.mark.slow
def test_the_batch_script_runs_a_recipe_on_a_two_node_ray_cluster(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    psutil = pytest.importorskip("psutil")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("srun", SRUN), ("scontrol", SCONTROL)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.format(base=ROOT / "recipes" / "openr1-math-45k.yaml"))
    ray_tmp = Path(
        tempfile.mkdtemp(prefix="rt-", dir="/tmp")
    )  # short: Ray's socket paths have a length limit
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "CURATE_VENV": sys.prefix,
        "CURATE_CACHE": str(tmp_path / "cache"),
        "CURATE_PROGRESS": "0",
        "CURATE_VERDICTS": str(tmp_path / "verdicts.sqlite"),
        "CURATE_SPILL": str(tmp_path / "spill"),
        "SLURM_JOB_NODELIST": "node-[a-b]",
        "SLURM_CPUS_PER_TASK": "1",
        "SLURM_SUBMIT_DIR": str(ROOT),
        "RAY_PORT": str(free_port()),
        "RAY_TMPDIR": str(ray_tmp),
        "CURATE_RAY_WAIT": "240",
        "RAY_AUTH_TOKEN": secrets.token_hex(32),  # the job's own token: nothing written to ~/.ray
    }
    local = subprocess.run(
        [
            sys.executable,
            "-m",
            "curate.cli",
            "run",
            str(recipe),
            "--source",
            "sample:1500",
            "--out",
            str(tmp_path / "local"),
            "--workers",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert local.returncode == 0, local.stderr
    try:
        run = subprocess.run(
            ["bash", str(SCRIPT), str(recipe), "--source", "sample:1500", "--out", str(tmp_path / "cluster")],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "ray executor: 1 workers on 2 node(s)" in run.stderr
        assert outputs(tmp_path / "cluster") == outputs(tmp_path / "local")
    finally:
        left = [
            p
            for p in psutil.process_iter(["pid", "cmdline"])
            if str(ray_tmp) in " ".join(p.info["cmdline"] or [])
        ]
        for process in left:  # only processes of this test's own Ray session
            process.kill()
    assert not left, [p.info["cmdline"][:2] for p in left]
