"""Where the parallel work of a run happens: local worker processes, or Ray tasks on a cluster.

Work is expressed as a *task class*: built once per worker process from plain arguments (so it can be
shipped to any machine), then called on batches. A batch is a small Arrow table of row ids; the task opens
the source files itself (`curate.table.Layout`) and reads only the columns and row groups of its rows, so
the driver never ships data, only ids, and gets back only results (verdicts, trace choices, signatures,
finished output rows). Both executors run the same task classes on the same batches and return results in
input order, so a run's output does not depend on where it ran.

Global steps keep their signatures where they were computed (`Signatures`): in a spill on the driver's disk
for local workers, in the Ray object store of the node that computed them on Ray. Candidate pairs come from
grouping bucket keys: by sorting one key column at a time in the driver (local workers, or a Ray cluster of
one node), with a Ray Data groupby across a Ray cluster of several nodes; only the signatures of candidate
rows are fetched.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from curate.clusters import PAIR_SCHEMA, bucket_pairs
from curate.errors import CurateError
from curate.spill import Spill

log = logging.getLogger("curate")

RAY_RETRIES = 3  # attempts after the first when a Ray worker or node dies under a task
PARTITIONS_PER_WORKER = 4  # Ray Data groupby partitions of the bucket keys, per worker


class Task(Protocol):
    def __call__(self, batch: pa.Table) -> pa.Table: ...


TaskFactory = Callable[..., Task]

# One built task per (factory, arguments) per process: workers build once and serve every batch.
_BUILT: dict[tuple[int, str], Task] = {}


def _task(factory: TaskFactory, key: str, kwargs: dict[str, Any]) -> Task:
    slot = (id(factory), key)
    if slot not in _BUILT:
        release_tasks()  # a new step: free the previous step's indexes and worker pools
        _BUILT[slot] = factory(**kwargs)
    return _BUILT[slot]


def release_tasks() -> None:
    """Drop this process's built tasks, closing those that hold resources (verifier pools)."""
    for task in _BUILT.values():
        close = getattr(task, "close", None)
        if close is not None:
            close()
    _BUILT.clear()


def _run_local(factory: TaskFactory, key: str, kwargs: dict[str, Any], batch: pa.Table) -> pa.Table:
    return _task(factory, key, kwargs)(batch)


def _in_order(
    submit: Callable[[pa.Table], Any],
    result: Callable[[Any], Any],
    cancel: Callable[[Any], Any],
    batches: Iterable[pa.Table],
    window: int,
) -> Iterator[Any]:
    """Results of `submit(batch)` in input order, with at most `window` in flight so memory stays flat on
    long inputs; what is still in flight when the caller stops (an error, an interrupt) is cancelled."""
    pending: deque[Any] = deque()
    try:
        for batch in batches:
            pending.append(submit(batch))
            if len(pending) >= window:
                yield result(pending.popleft())
        while pending:
            yield result(pending.popleft())
    finally:
        for handle in pending:
            cancel(handle)


class Signatures(ABC):
    """A global filter's signatures and bucket keys for every row it sees, kept where they were computed."""

    @abstractmethod
    def candidate_pairs(self, first_only: bool = False) -> Iterator[np.ndarray]:
        """Pairs of rows that share a bucket key, as positions in the order the rows were given (chunks; a
        pair may come more than once); with `first_only`, each row paired with its bucket's first row only
        (`curate.clusters.bucket_pairs`)."""

    @abstractmethod
    def take(self, positions: np.ndarray) -> pa.Array:
        """The signatures of the rows at `positions` (sorted, distinct), in that order."""

    @abstractmethod
    def close(self) -> None: ...


def key_columns(table: pa.Table | pa.Schema) -> list[str]:
    names = table.names if isinstance(table, pa.Schema) else table.column_names
    return [name for name in names if name.startswith("key_")]


def spilled_pairs(keys: Spill, first_only: bool = False) -> Iterator[np.ndarray]:
    """Candidate pairs (positions) from spilled bucket keys, one key column at a time (8 bytes a row)."""
    if keys.rows == 0 or keys.schema is None:
        return
    high, low = (keys.column(c).to_numpy() for c in ("high", "low"))
    positions = np.arange(keys.rows)
    for band, name in enumerate(key_columns(keys.schema)):
        key = keys.column(name).to_numpy()
        yield bucket_pairs(np.full(key.size, band), key, high, low, positions, first_only=first_only)


class Executor(ABC):
    """Runs `factory(**kwargs)(batch)` over batches, results in input order."""

    workers: int
    # Whether every step that reads the source runs on the workers, cheap ones included (Ray: the data is
    # where the workers are); locally, cheap column filters read their small columns in the driver.
    remote: bool = False

    @abstractmethod
    def map(
        self, factory: TaskFactory, kwargs: dict[str, Any], batches: Iterable[pa.Table], key: str
    ) -> Iterator[pa.Table]: ...

    @abstractmethod
    def signatures(
        self,
        factory: TaskFactory,
        kwargs: dict[str, Any],
        batches: Iterable[pa.Table],
        key: str,
        folder: Path,
    ) -> Signatures:
        """Run a signature task (its tables: `row_id`, `signature`, `high`, `low`, `key_0`...) and keep the
        results where they are; `folder` is the run's spill folder."""

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    @abstractmethod
    def close(self) -> None:
        """Release workers."""


class LocalSignatures(Signatures):
    """Signatures and keys in two spills: in memory while small, on the driver's disk beyond the bound."""

    def __init__(self, signatures: Spill, keys: Spill) -> None:
        self.signatures = signatures
        self.keys = keys

    def candidate_pairs(self, first_only: bool = False) -> Iterator[np.ndarray]:
        return spilled_pairs(self.keys, first_only)

    def take(self, positions: np.ndarray) -> pa.Array:
        return self.signatures.take(positions, ["signature"]).column(0).combine_chunks()

    def close(self) -> None:
        self.signatures.close()
        self.keys.close()


class LocalExecutor(Executor):
    """Worker processes on this machine (started with forkserver: polars and tiktoken threads make fork
    unsafe). With one worker everything runs in this process."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def map(
        self, factory: TaskFactory, kwargs: dict[str, Any], batches: Iterable[pa.Table], key: str
    ) -> Iterator[pa.Table]:
        if self.workers == 1:
            task = _task(factory, key, kwargs)
            for batch in batches:
                yield task(batch)
            return
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        pool = self._pool
        yield from _in_order(
            lambda batch: pool.submit(_run_local, factory, key, kwargs, batch),
            self._result,
            Future.cancel,
            batches,
            2 * self.workers,
        )

    def _result(self, future: Future) -> pa.Table:
        try:
            return future.result()
        except BrokenProcessPool:
            self._pool = None
            raise CurateError(
                "a worker process died (killed by the system, e.g. out of memory)",
                hint="run with fewer --workers, or on a machine with more memory; the previous output is untouched",
            ) from None

    def signatures(
        self,
        factory: TaskFactory,
        kwargs: dict[str, Any],
        batches: Iterable[pa.Table],
        key: str,
        folder: Path,
    ) -> Signatures:
        signatures, keys = Spill(folder, f"{key}-signatures"), Spill(folder, f"{key}-keys")
        for result in self.map(factory, kwargs, batches, key):
            signatures.append(result.select(["signature"]))
            keys.append(result.drop(["signature"]))
        return LocalSignatures(signatures, keys)

    def close(self) -> None:
        release_tasks()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _run_signatures(
    factory: TaskFactory, key: str, kwargs: dict[str, Any], batch: pa.Table
) -> tuple[pa.Table, pa.Table, int]:
    """On a Ray worker: the signature table split in two objects kept there (signatures, keys), and the row
    count, the one small value the driver fetches (an error in the task surfaces through it)."""
    table = _run_local(factory, key, kwargs, batch)
    return table.select(["row_id", "signature"]), table.drop(["signature"]), table.num_rows


def _take_rows(table: pa.Table, positions: np.ndarray) -> pa.Array:
    return table.column("signature").take(pa.array(positions)).combine_chunks()


def _explode_keys(table: pa.Table, partitions: int) -> pa.Table:
    """One row per (row, key column), with the groupby partition its (band, key) hashes to."""
    names = key_columns(table)
    n = table.num_rows
    keys = [table.column(name).to_numpy() for name in names]
    band = np.repeat(np.arange(len(names), dtype=np.int64), n)
    key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    with np.errstate(over="ignore"):
        mixed = (key ^ (band.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))) * np.uint64(
            0xBF58476D1CE4E5B9
        )
    return pa.table(
        {
            "part": (mixed >> np.uint64(40)).astype(np.int64) % partitions,
            "band": band,
            "key": key,
            "high": np.tile(table.column("high").to_numpy(), len(names)),
            "low": np.tile(table.column("low").to_numpy(), len(names)),
            "row_id": np.tile(table.column("row_id").to_numpy(), len(names)),
        }
    )


def _partition_pairs(group: pa.Table, first_only: bool) -> pa.Table:
    columns = (group.column(c).to_numpy() for c in ("band", "key", "high", "low", "row_id"))
    pairs = bucket_pairs(*columns, first_only=first_only)
    return pa.table({"a": pairs[:, 0], "b": pairs[:, 1]}, schema=PAIR_SCHEMA)


class RaySignatures(Signatures):
    """Signatures and keys as objects in the Ray object store, on the nodes that computed them."""

    def __init__(
        self,
        executor: RayExecutor,
        refs: list[tuple[Any, Any]],
        ids: np.ndarray,
        firsts: list[int],
        partitions: int,
        folder: Path,
    ) -> None:
        self._executor = executor
        self.folder = folder
        self._ray = executor._ray
        self.refs = refs  # (signatures, keys) per batch
        self.ids = ids  # the row ids, in order: positions are indexes into it
        self.firsts = np.asarray(firsts, dtype=np.int64)  # position of each batch's first row
        self.partitions = partitions

    def candidate_pairs(self, first_only: bool = False) -> Iterator[np.ndarray]:
        """On a cluster of several nodes, a Ray Data groupby of every (band, key): no process holds all the
        keys. On one node a shuffle buys nothing: the keys (not the signatures) come to the driver, through a
        spill, and are grouped as the local executor groups them."""
        if not self.refs:
            return
        if len([n for n in self._ray.nodes() if n.get("Alive")]) == 1:
            keys = Spill(self.folder, "keys")
            for _, ref in self.refs:
                keys.append(self._executor._get(ref).drop(["row_id"]))
            yield from spilled_pairs(keys, first_only)
            keys.close()
            return
        dataset = self._ray.data.from_arrow_refs([keys for _, keys in self.refs])
        grouped = (
            dataset.map_batches(
                _explode_keys,
                fn_kwargs={"partitions": self.partitions},
                batch_format="pyarrow",
                batch_size=None,
                zero_copy_batch=True,
            )
            .groupby("part")
            .map_groups(_partition_pairs, batch_format="pyarrow", fn_kwargs={"first_only": first_only})
        )
        for batch in grouped.iter_batches(batch_format="pyarrow", batch_size=None):
            if batch.num_rows:
                pairs = np.stack([batch.column("a").to_numpy(), batch.column("b").to_numpy()], axis=1)
                yield np.searchsorted(self.ids, pairs)

    def take(self, positions: np.ndarray) -> pa.Array:
        which = np.searchsorted(self.firsts, positions, side="right") - 1
        refs = [
            self._executor._take.remote(self.refs[index][0], positions[which == index] - self.firsts[index])
            for index in np.unique(which).tolist()
        ]
        return pa.concat_arrays([self._executor._get(ref) for ref in refs])

    def close(self) -> None:
        self.refs = []


class RayExecutor(Executor):
    """Ray tasks on a Ray cluster (or a local Ray): each task opens its rows' files on the node it runs on.
    A task whose worker or node dies is retried on another (`RAY_RETRIES`)."""

    remote = True

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
        context.print_on_execution_start = False
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(workers or cpus, cpus))
        self._call = ray.remote(_run_local).options(num_cpus=1, max_retries=RAY_RETRIES)
        self._signature_call = ray.remote(_run_signatures).options(
            num_cpus=1, max_retries=RAY_RETRIES, num_returns=3
        )
        self._take = ray.remote(_take_rows).options(num_cpus=1, max_retries=RAY_RETRIES)
        nodes = len([n for n in ray.nodes() if n.get("Alive")])
        log.info(
            "ray executor: %d workers on %d node(s) of %s", self.workers, nodes, address or "a local Ray"
        )

    def map(
        self, factory: TaskFactory, kwargs: dict[str, Any], batches: Iterable[pa.Table], key: str
    ) -> Iterator[pa.Table]:
        shared = self._ray.put(kwargs)
        yield from _in_order(
            lambda batch: self._call.remote(factory, key, shared, batch),
            self._get,
            self._ray.cancel,
            batches,
            2 * self.workers,
        )

    def _get(self, ref: Any) -> Any:
        from ray.exceptions import RayError, RayTaskError

        try:
            return self._ray.get(ref)
        except RayTaskError as exc:
            if isinstance(exc.cause, CurateError):
                raise exc.cause from None
            raise
        except RayError as exc:
            raise CurateError(
                f"a Ray task failed after {RAY_RETRIES} retries ({str(exc).splitlines()[0]})",
                hint="a worker node was lost or out of memory; the previous output is untouched, rerun when the "
                "cluster is healthy",
            ) from None

    def signatures(
        self,
        factory: TaskFactory,
        kwargs: dict[str, Any],
        batches: Iterable[pa.Table],
        key: str,
        folder: Path,
    ) -> Signatures:
        shared = self._ray.put(kwargs)
        refs: list[tuple[Any, Any]] = []
        ids: list[np.ndarray] = []
        firsts: list[int] = []

        def submit(batch: pa.Table) -> Any:
            firsts.append(sum(len(i) for i in ids))
            ids.append(batch.column("row_id").to_numpy())
            signatures, keys, count = self._signature_call.remote(factory, key, shared, batch)
            refs.append((signatures, keys))
            return count  # the one small value fetched: it carries the task's error, if any

        for _ in _in_order(submit, self._get, self._ray.cancel, batches, 2 * self.workers):
            pass
        rows = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
        return RaySignatures(self, refs, rows, firsts, PARTITIONS_PER_WORKER * self.workers, folder)

    def close(self) -> None:
        """The Ray instance outlives the run: other steps and runs reuse it."""


def make_executor(kind: str, workers: int | None, address: str | None) -> Executor:
    if kind == "ray":
        return RayExecutor(address, workers)
    return LocalExecutor(workers)
