"""Content-addressed cache for step results, source conversions and file hashes.

Keys are hashes of everything a result depends on (input fingerprint, parameters, code version), so a
stale entry is never reused; entries are written to a temp name and renamed, so a killed run leaves no
half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import xxhash

_UMASK = os.umask(0)
os.umask(_UMASK)


def cache_root() -> Path:
    root = os.environ.get("CURATE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "curate"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*parts: Any) -> str:
    """A stable hash of JSON-serialisable parts."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def file_hash(path: Path) -> str:
    """xxh3-128 of a file's bytes, remembered by (path, size, mtime) so large sources are hashed once."""
    stat = path.stat()
    memo_dir = cache_root() / "filehash"
    memo_dir.mkdir(exist_ok=True)
    memo = memo_dir / digest(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo.exists():
        return memo.read_text()
    hasher = xxhash.xxh3_128()
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            hasher.update(block)
    value = hasher.hexdigest()
    atomic_write_text(memo, value)
    return value


def source_code_hash(*modules: Any) -> str:
    """Hash of the source files of the given modules: a filter's code version."""
    hasher = hashlib.sha256()
    for module in modules:
        hasher.update(Path(module.__file__).read_bytes())
    return hasher.hexdigest()[:16]


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
    """A temp file beside `path`, for writers that take a path; rename it to `path` when done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are meant to be shared
    return Path(tmp)
