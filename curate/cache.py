"""Content-addressed cache for step results, source conversions and file hashes: one that cannot lie.

Keys are hashes of everything a result depends on (input content, parameters, code version), so a stale
entry is never looked up. Every entry is also checked when read: a step result carries its own key and a
hash of its bytes, a file produced into the cache (the embedded sample, a converted jsonl) a hash sidecar,
a remembered file hash the file's identity and a sample of its content. An entry that fails its check
(truncated, garbage, or another step's result under this name) is dropped with a warning and recomputed.
Entries are written to a temp name and renamed, so a killed run leaves no half-written entry; the temp
files of writers that died are swept away by the next run. `--no-cache` (`caching(False)`) reads no entry
at all: every memo, the file-hash one included, is recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import xxhash

log = logging.getLogger("curate")

_UMASK = os.umask(0)
os.umask(_UMASK)
_NO_CACHE = "CURATE_NO_CACHE"  # set for the whole process tree by `caching(False)`: workers inherit it
_VERDICTS = "CURATE_VERDICTS"  # filters.answer_verify: a node-local verdict store
_HOST = socket.gethostname().replace("@", "_") or "host"
_SWEPT: set[Path] = set()
STALE_TEMP_SECONDS = 7 * 24 * 3600  # a temp file of another machine's writer this old is abandoned
PROBE_BLOCK = 1 << 16  # bytes read at the start, middle and end of a file to confirm a remembered hash
WHOLE_FILE = 1 << 20  # files up to this size are always hashed whole
_TEMP_TAG = "curate"  # in the name of every temp file curate writes


def cache_root() -> Path:
    root = os.environ.get("CURATE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "curate"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    if path not in _SWEPT:
        _SWEPT.add(path)
        for folder in [path, *(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())]:
            sweep_temps(folder)
    return path


def caching_enabled() -> bool:
    return os.environ.get(_NO_CACHE) != "1"


@contextmanager
def caching(enabled: bool) -> Iterator[None]:
    """With `enabled` false, no cached result of any kind is read in this process or its workers: the
    switch is an environment variable they inherit, and a node-local answer-verdict store named by
    CURATE_VERDICTS is set aside too (a run's cache folder, the other place verdicts live, is not handed
    to the filters then)."""
    saved = {name: os.environ.get(name) for name in (_NO_CACHE, _VERDICTS)}
    if not enabled:
        os.environ[_NO_CACHE] = "1"
        os.environ.pop(_VERDICTS, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def digest(*parts: Any) -> str:
    """A stable hash of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def damaged(path: Path, why: str) -> None:
    """Drop a cache entry that failed its check, saying so: the caller recomputes it."""
    log.warning("cache entry %s is damaged (%s): recomputing it", path, why)
    for victim in (path, *_companions(path)):
        with suppress(OSError):
            victim.unlink(missing_ok=True)


def _companions(path: Path) -> list[Path]:
    return [path.with_suffix(".json")] if path.suffix == ".parquet" else []


# ------------------------------------------------------------------------------------------ file hashes


def file_hash(path: Path) -> str:
    """xxh3-128 of a file's bytes. Large sources are hashed once: the hash is remembered with the file's
    identity (size, modification and change times, inode) and reused only while that identity and a hash
    of three sampled blocks (start, middle, end) still agree, so a file edited in place, even with its
    size and modification time put back, is hashed again (the change time cannot be put back)."""
    path = Path(path)
    stat = path.stat()
    if stat.st_size <= WHOLE_FILE:
        return _hash_whole(path)
    identity = {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "inode": [stat.st_dev, stat.st_ino],
    }
    memo = cache_root() / "filehash" / f"{digest(identity['path'])}.json"
    probe = _probe(path, stat.st_size)
    if caching_enabled():
        remembered = _read_memo(memo, identity, probe)
        if remembered is not None:
            return remembered
    value = _hash_whole(path)
    record = {**identity, "probe": probe, "xxh3_128": value}
    atomic_write_text(memo, json.dumps({**record, "check": digest(record)}))
    return value


def _read_memo(memo: Path, identity: dict[str, Any], probe: str) -> str | None:
    try:
        text = memo.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        damaged(memo, f"unreadable: {exc}")
        return None
    try:
        record = json.loads(text)
        check = record.pop("check")
        value = record["xxh3_128"]
        valid = digest(record) == check and isinstance(value, str) and len(value) == 32
    except (ValueError, KeyError, TypeError, AttributeError):
        valid = False
    if not valid:
        damaged(memo, "not a file-hash record")
        return None
    same = all(record.get(k) == v for k, v in identity.items()) and record.get("probe") == probe
    return value if same else None


def _probe(path: Path, size: int) -> str:
    hasher = xxhash.xxh3_64()
    with path.open("rb") as handle:
        for offset in (0, max(0, size // 2 - PROBE_BLOCK // 2), max(0, size - PROBE_BLOCK)):
            handle.seek(offset)
            hasher.update(handle.read(PROBE_BLOCK))
    return hasher.hexdigest()


def _hash_whole(path: Path) -> str:
    hasher = xxhash.xxh3_128()
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            hasher.update(block)
    return hasher.hexdigest()


def seal(path: Path) -> None:
    """Record the hash of a file just produced into the cache, for `is_sealed` to check on later reads."""
    atomic_write_text(_seal_path(path), json.dumps({"xxh3_128": file_hash(path)}))


def is_sealed(path: Path) -> bool:
    """True when `path` exists and still has the bytes `seal` saw; a damaged file and its seal are removed
    (with a warning) so the caller produces it again. Always false with caching off."""
    seal_path = _seal_path(path)
    if not path.is_file() or not seal_path.is_file() or not caching_enabled():
        return False
    try:
        expected = json.loads(seal_path.read_text(encoding="utf-8"))["xxh3_128"]
    except (OSError, ValueError, KeyError, TypeError):
        expected = None
    if expected is None or file_hash(path) != expected:
        damaged(path, "its bytes differ from those it was written with")
        seal_path.unlink(missing_ok=True)
        return False
    return True


def _seal_path(path: Path) -> Path:
    return path.with_name(path.name + ".xxh3")


# ---------------------------------------------------------------------------------------- step results


def store_entry(folder: str, key: str, write: Callable[[Path], None], meta: dict[str, Any]) -> None:
    """Cache a file under `key`: `write` fills a temp path, which is renamed into place, then a record
    naming the key and the file's hash is written beside it (the record last: no record, no entry)."""
    path = cache_root() / folder / f"{key}.parquet"
    tmp = temp_path_for(path)
    try:
        write(tmp)
        record = {"key": key, "bytes": tmp.stat().st_size, "xxh3_128": _hash_whole(tmp), "meta": meta}
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic_write_text(path.with_suffix(".json"), json.dumps(record))


def load_entry(folder: str, key: str) -> tuple[Path, dict[str, Any]] | None:
    """The file and metadata cached under `key`, or None. An entry that is not whole, not parquet, or was
    written for another key (e.g. files swapped or copied between entries) is never returned: it is
    dropped with a warning, to be recomputed. The file is hashed as a stream, never held in memory."""
    import pyarrow.parquet as pq

    if not caching_enabled():
        return None
    base = cache_root() / folder
    path, record_path = base / f"{key}.parquet", base / f"{key}.json"
    if not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        size, digest_ = path.stat().st_size, _hash_whole(path)
    except (OSError, ValueError) as exc:
        damaged(path, f"unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return None
    if not isinstance(record, dict) or record.get("key") != key:
        damaged(path, "it holds the result of another step")
        return None
    if record.get("bytes") != size or record.get("xxh3_128") != digest_:
        damaged(path, "its bytes differ from those it was written with")
        return None
    try:
        pq.ParquetFile(path).close()
    except Exception as exc:  # pyarrow raises several types for bytes that are not parquet
        damaged(path, f"not parquet: {type(exc).__name__}")
        return None
    meta = record.get("meta")
    return path, meta if isinstance(meta, dict) else {}


# --------------------------------------------------------------------------------------------- writing


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = temp_path_for(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def temp_path_for(path: Path) -> Path:
    """A temp file beside `path`, for writers that take a path; rename it to `path` when done. Its name
    carries this machine and process, so a later run can tell a dead writer's leftover from live work."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_TEMP_TAG}@{_HOST}@{os.getpid()}@", suffix=".tmp"
    )
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are meant to be shared
    return Path(tmp)


def is_temp(name: str) -> bool:
    """A name `temp_path_for` makes."""
    return name.startswith(".") and name.endswith(".tmp") and f".{_TEMP_TAG}@" in name


def sweep_temps(folder: Path, *, everything: bool = False) -> int:
    """Remove temp files that writers in `folder` left when they were killed: those of dead processes of
    this machine, those older than a week, or (`everything`, for a folder this process holds the lock of)
    all of them. Only names `temp_path_for` makes are touched. Returns how many were removed."""
    removed = 0
    try:
        names = [n for n in os.listdir(folder) if is_temp(n)]
    except OSError:
        return 0
    for name in names:
        host, _, rest = name.rpartition(f".{_TEMP_TAG}@")[2].partition("@")
        pid = rest.partition("@")[0]
        path = folder / name
        try:
            age = time.time() - path.lstat().st_mtime
            dead = host == _HOST and pid.isdigit() and not pid_alive(int(pid))
            if everything or dead or age > STALE_TEMP_SECONDS:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine with that id runs."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
