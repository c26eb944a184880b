"""Where the parallel work of a run happens: local worker processes, or Ray Data on a cluster.

Work is expressed as a *task class*: built once per worker from plain arguments (so it can be shipped to
any machine), then called on Arrow tables, one batch at a time. Both executors run the same task classes on
the same batches and return the results in input order, so a run's output does not depend on where it ran.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from curate.errors import CurateError

log = logging.getLogger("curate")


class Task(Protocol):
    def __call__(self, batch: pa.Table) -> pa.Table: ...


TaskFactory = Callable[..., Task]

# One built task per (factory, arguments) per process: workers build once and serve every batch.
_BUILT: dict[tuple[int, str], Task] = {}


def _task(factory: TaskFactory, key: str, kwargs: dict[str, Any]) -> Task:
    slot = (id(factory), key)
    if slot not in _BUILT:
        _BUILT.clear()  # a new step: free the previous step's indexes
        _BUILT[slot] = factory(**kwargs)
    return _BUILT[slot]


def _run_local(factory: TaskFactory, key: str, kwargs: dict[str, Any], batch: pa.Table) -> pa.Table:
    return _task(factory, key, kwargs)(batch)


class Executor(ABC):
    """Runs `factory(**kwargs)(batch)` over batches, results in input order."""

    workers: int

    @abstractmethod
    def map(
        self, factory: TaskFactory, kwargs: dict[str, Any], batches: Sequence[pa.Table], key: str
    ) -> Iterator[pa.Table]: ...

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    @abstractmethod
    def close(self) -> None:
        """Release workers."""


class LocalExecutor(Executor):
    """Worker processes on this machine (started with forkserver: polars and tiktoken threads make fork
    unsafe). With one worker everything runs in this process."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def map(
        self, factory: TaskFactory, kwargs: dict[str, Any], batches: Sequence[pa.Table], key: str
    ) -> Iterator[pa.Table]:
        if self.workers == 1 or len(batches) == 1:
            task = _task(factory, key, kwargs)
            for batch in batches:
                yield task(batch)
            return
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        # Keep a bounded window in flight so memory stays flat on long inputs.
        window = 2 * self.workers
        pending = []
        for batch in batches:
            pending.append(self._pool.submit(_run_local, factory, key, kwargs, batch))
            if len(pending) >= window:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class RayExecutor(Executor):
    """Ray Data `map_batches` with an actor pool of task objects on a Ray cluster (or a local Ray)."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            import ray
            import ray.data
        except ImportError:
            raise CurateError("the ray executor needs ray", hint="pip install 'curate[ray]'") from None
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address,
                    log_to_driver=False,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                )
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise CurateError(
                    f"cannot connect to the Ray cluster at {address!r} ({str(exc).splitlines()[0]})",
                    hint="start one with `ray start --head`, or leave `executor.address` empty for a local Ray",
                ) from None
        self._ray = ray
        for name in ("ray", "ray.data"):  # its per-operator INFO lines would bury curate's own log
            logging.getLogger(name).setLevel(logging.WARNING)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(workers or cpus, cpus))
        log.info("ray executor: %d workers on %s", self.workers, address or "a local Ray instance")

    def map(
        self, factory: TaskFactory, kwargs: dict[str, Any], batches: Sequence[pa.Table], key: str
    ) -> Iterator[pa.Table]:
        if not batches:
            return
        tagged = [
            b.append_column("_batch", pa.array(np.full(b.num_rows, i, dtype=np.int64)))
            for i, b in enumerate(batches)
            if b.num_rows
        ]
        dataset = self._ray.data.from_arrow(tagged).map_batches(
            _RayTask,
            fn_constructor_kwargs={"factory": factory, "kwargs": kwargs},
            batch_size=None,
            batch_format="pyarrow",
            concurrency=self.workers,
            num_cpus=1,
        )
        parts = [t for t in self._ray.get(dataset.to_arrow_refs()) if t.num_rows]
        merged = pa.concat_tables(parts).sort_by([("_batch", "ascending"), ("_pos", "ascending")])
        tags = merged.column("_batch").to_numpy()
        merged = merged.drop(["_batch", "_pos"])
        starts = np.searchsorted(tags, np.arange(len(batches) + 1))
        for index in range(len(batches)):
            yield merged.slice(int(starts[index]), int(starts[index + 1] - starts[index]))

    def close(self) -> None:
        """The Ray instance outlives the run: other steps and runs reuse it."""


class _RayTask:
    """A Ray Data actor: builds the task once; tags every output row with its batch and position, so the
    driver restores input order whatever order blocks come back in."""

    def __init__(self, factory: TaskFactory, kwargs: dict[str, Any]) -> None:
        self.task = factory(**kwargs)

    def __call__(self, batch: pa.Table) -> pa.Table:
        tags = batch.column("_batch").to_numpy()
        outputs = []
        for index in np.unique(tags):  # normally one; Ray may hand several blocks over at once
            out = self.task(batch.filter(pa.array(tags == index)).drop(["_batch"]))
            out = out.append_column("_batch", pa.array(np.full(out.num_rows, index, dtype=np.int64)))
            outputs.append(out.append_column("_pos", pa.array(np.arange(out.num_rows, dtype=np.int64))))
        return pa.concat_tables(outputs)


def make_executor(kind: str, workers: int | None, address: str | None) -> Executor:
    if kind == "ray":
        return RayExecutor(address, workers)
    return LocalExecutor(workers)
