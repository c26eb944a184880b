"""Wall time, CPU time and peak memory of a command together with every process it starts.

A run's memory is not one process's: `curate run` has a driver, a forkserver, worker processes and, inside
them, math-verify workers. The tree (the command and all its descendants) is sampled every `interval`
seconds with psutil, and three peaks are kept:

- `peak_rss_tree_mb`: the largest sum of RSS over the tree. Pages shared between processes (a forkserver's
  imported modules in every worker) count once per process, so this is an upper bound of what the tree holds;
- `peak_pss_tree_mb`: the largest sum of PSS (shared pages split between their sharers, from
  `/proc/PID/smaps_rollup`), what the tree really holds; None where the kernel does not say;
- `peak_rss_single_mb`: the largest RSS of any one process;
- `peak_rss_root_mb`: the largest RSS of the command's own process (for `curate run`: the driver).

Every full sample also records the tree's CPU seconds so far against the wall clock (`cpu_timeline`), so a
run's own phase timestamps can be matched with the CPU the whole tree spent in each phase.

A peak shorter than the interval can be missed; CPU seconds are each process's user + system time as last
seen, so a process that exits between two samples loses at most one interval.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

MB = 1 << 20


@dataclass
class Measured:
    command: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_tree_mb: float
    peak_pss_tree_mb: float | None
    peak_rss_single_mb: float
    peak_rss_root_mb: float
    peak_processes: int
    samples: int
    monitor_cpu_s: float  # what the sampling itself cost this process
    timeline: list[
        tuple[float, float, float]
    ]  # (seconds, tree RSS MB, command's own RSS MB), per full sample
    cpu_timeline: list[tuple[float, float]]  # (time.time(), tree CPU seconds so far), per full sample
    stdout: str
    stderr: str

    @property
    def cores_busy(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self) -> dict[str, float | int | None]:
        return {
            "wall_s": round(self.wall_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "cores_busy": round(self.cores_busy, 2),
            "peak_rss_tree_mb": round(self.peak_rss_tree_mb, 1),
            "peak_pss_tree_mb": None if self.peak_pss_tree_mb is None else round(self.peak_pss_tree_mb, 1),
            "peak_rss_single_mb": round(self.peak_rss_single_mb, 1),
            "peak_rss_root_mb": round(self.peak_rss_root_mb, 1),
            "peak_processes": self.peak_processes,
            "samples": self.samples,
            "monitor_cpu_s": round(self.monitor_cpu_s, 2),
        }


def _pss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class _Tree:
    """Running peaks over the samples of one process tree.

    Every sample reads the RSS of the processes already known (cheap: /proc/PID/statm); every `full_every`
    samples the tree is listed again (new workers), and CPU times and PSS are read (PSS walks the page
    tables, a few ms for a large process). A 2-core machine has little to spare for its own measurement.
    """

    def __init__(self, pid: int, full_every: int) -> None:
        self.root = psutil.Process(pid)
        self.procs: list[psutil.Process] = []
        self.full_every = full_every
        self.cpu: dict[tuple[int, float], float] = {}  # (pid, create time) -> user + system seconds
        self.rss_tree = self.rss_single = self.rss_root = 0
        self.pss_tree: int | None = 0 if Path(f"/proc/{pid}/smaps_rollup").exists() else None
        self.processes = self.samples = 0
        self.timeline: list[tuple[float, float, float]] = []  # (seconds, tree RSS MB, root RSS MB)
        self.cpu_timeline: list[tuple[float, float]] = []  # (time.time(), tree CPU seconds so far)

    def sample(self, elapsed: float) -> None:
        full = self.samples % self.full_every == 0
        if full:
            try:
                self.procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                self.procs = []
        rss = pss = alive = root_rss = 0
        for proc in self.procs:
            try:
                memory = proc.memory_info().rss
                if full:
                    times = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
                    self.cpu[key] = max(self.cpu.get(key, 0.0), times.user + times.system)
            except psutil.Error:  # exited since it was listed
                continue
            alive += 1
            rss += memory
            root_rss = memory if proc is self.root else root_rss
            self.rss_single = max(self.rss_single, memory)
            if full and self.pss_tree is not None:
                value = _pss_bytes(proc.pid)
                pss += value if value is not None else memory
        self.rss_tree = max(self.rss_tree, rss)
        self.rss_root = max(self.rss_root, root_rss)
        if full and self.pss_tree is not None:
            self.pss_tree = max(self.pss_tree, pss)
        self.processes = max(self.processes, alive)
        self.samples += 1
        if full:
            self.timeline.append((round(elapsed, 1), round(rss / MB, 1), round(root_rss / MB, 1)))
            self.cpu_timeline.append((time.time(), sum(self.cpu.values())))


def run_monitored(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    interval: float = 0.2,
    full_every: int = 5,
    timeout: float | None = None,
) -> Measured:
    """Run `command` to completion, sampling its process tree; stdout and stderr are captured (in files, so
    a chatty command never blocks on a full pipe)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(command), env=dict(env) if env is not None else None, cwd=cwd, stdout=out, stderr=err
        )
        tree = _Tree(proc.pid, full_every)
        own = time.process_time()
        try:
            while True:
                tree.sample(time.perf_counter() - started)
                try:
                    proc.wait(timeout=interval)
                    break
                except subprocess.TimeoutExpired:
                    if timeout is not None and time.perf_counter() - started > timeout:
                        _kill_tree(tree.root)
                        proc.wait()
                        raise
        except BaseException:
            if proc.poll() is None:
                _kill_tree(tree.root)
                proc.wait()
            raise
        wall = time.perf_counter() - started
        own = time.process_time() - own
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return Measured(
        command=list(command),
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=sum(tree.cpu.values()),
        peak_rss_tree_mb=tree.rss_tree / MB,
        peak_pss_tree_mb=None if tree.pss_tree is None else tree.pss_tree / MB,
        peak_rss_single_mb=tree.rss_single / MB,
        peak_rss_root_mb=tree.rss_root / MB,
        peak_processes=tree.processes,
        samples=tree.samples,
        monitor_cpu_s=own,
        timeline=tree.timeline,
        cpu_timeline=tree.cpu_timeline,
        stdout=stdout,
        stderr=stderr,
    )


def _kill_tree(root: psutil.Process) -> None:
    """Kill a command and everything it started (children first, so none is re-parented and missed)."""
    try:
        procs = root.children(recursive=True)
    except psutil.Error:
        procs = []
    for proc in [*procs, root]:
        try:
            proc.kill()
        except psutil.Error:
            continue


def process_cpu_seconds(pid: int) -> float:
    """User + system seconds of one running process."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def child_env(**overrides: str) -> dict[str, str]:
    """This process's environment with `overrides` (a fresh curate cache, progress bars off...)."""
    return {**os.environ, **overrides}
