"""The cache checks what it returns: remembered file hashes, step results, produced files, temp files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import xxhash

from curate.cache import (
    cache_root,
    caching,
    digest,
    file_hash,
    is_sealed,
    load_entry,
    seal,
    store_entry,
    sweep_temps,
    temp_path_for,
)


def _big(path: Path, fill: bytes = b"a") -> Path:
    path.write_bytes(os.urandom(3 << 20) + fill * 100 + os.urandom(3 << 20))
    return path


def _memo(path: Path) -> Path:
    return cache_root() / "filehash" / f"{digest(str(path.resolve()))}.json"


def _lie(path: Path) -> None:
    """Rewrite the memo of `path` with a wrong hash but a valid check: only identity can expose it."""
    memo = _memo(path)
    record = json.loads(memo.read_text())
    record.pop("check")
    record["xxh3_128"] = "f" * 32
    memo.write_text(json.dumps({**record, "check": digest(record)}))


def test_the_memo_is_used_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = _big(tmp_path / "big.bin")
    truth = xxhash.xxh3_128_hexdigest(path.read_bytes())
    assert file_hash(path) == truth
    _lie(path)
    assert file_hash(path) == "f" * 32  # the memo answered: the file was not read again
    with caching(False):
        assert file_hash(path) == truth  # --no-cache reads no memo


def test_an_edit_in_place_with_the_old_size_and_mtime_is_hashed_again(tmp_path: Path) -> None:
    path = _big(tmp_path / "big.bin")
    file_hash(path)
    _lie(path)
    stat = path.stat()
    data = bytearray(path.read_bytes())
    middle = data.index(b"a" * 100)
    data[middle : middle + 3] = b"bcd"
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_hash(path) == xxhash.xxh3_128_hexdigest(bytes(data))


@pytest.mark.parametrize("garbage", [b"", b"\xff\xfe", b"[1, 2]", b'{"xxh3_128": "0"}'])
def test_a_garbage_memo_is_dropped_with_a_warning(
    tmp_path: Path, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = _big(tmp_path / "big.bin")
    file_hash(path)
    _memo(path).write_bytes(garbage)
    assert file_hash(path) == xxhash.xxh3_128_hexdigest(path.read_bytes())
    assert "is damaged" in caplog.text


def test_small_files_are_always_hashed_whole(tmp_path: Path) -> None:
    path = tmp_path / "small.txt"
    path.write_text("hello")
    assert file_hash(path) == xxhash.xxh3_128_hexdigest(b"hello")
    assert not (cache_root() / "filehash").exists() or not list((cache_root() / "filehash").iterdir())


def _store(key: str, frame: pl.DataFrame, meta: dict) -> None:
    store_entry("steps-test", key, frame.write_parquet, meta)


def _load(key: str) -> tuple[pl.DataFrame, dict] | None:
    hit = load_entry("steps-test", key)
    return (pl.read_parquet(hit[0]), hit[1]) if hit is not None else None


def test_step_entries_answer_only_for_their_own_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    a = pl.DataFrame({"row_id": [1, 2], "reason": ["x", "y"]})
    b = pl.DataFrame({"row_id": [3], "reason": ["z"]})
    _store("key-a", a, {"n": 2})
    _store("key-b", b, {"n": 1})
    frame, meta = _load("key-a")
    assert frame.equals(a) and meta == {"n": 2}
    folder = cache_root() / "steps-test"
    for suffix in (".parquet", ".json"):
        (folder / f"key-a{suffix}").write_bytes((folder / f"key-b{suffix}").read_bytes())
    assert _load("key-a") is None
    assert "another step" in caplog.text
    assert not (folder / "key-a.parquet").exists()  # dropped, to be recomputed
    with caching(False):
        assert _load("key-b") is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "record"])
def test_damaged_step_entries_are_dropped(tmp_path: Path, damage: str) -> None:
    _store("k", pl.DataFrame({"row_id": list(range(100))}), {})
    folder = cache_root() / "steps-test"
    data = (folder / "k.parquet").read_bytes()
    if damage == "truncate":
        (folder / "k.parquet").write_bytes(data[:-10])
    elif damage == "flip":
        (folder / "k.parquet").write_bytes(data[:50] + bytes([data[50] ^ 1]) + data[51:])
    else:
        (folder / "k.json").write_text("{")
    assert _load("k") is None


def test_a_failed_writer_leaves_no_entry(tmp_path: Path) -> None:
    def write(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError):
        store_entry("steps-test", "dead", write, {})
    folder = cache_root() / "steps-test"
    assert _load("dead") is None and not list(folder.glob("*dead*")) and not list(folder.glob(".*tmp"))


def test_a_sealed_file_is_checked_on_reuse(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "made.parquet"
    path.write_bytes(b"made by curate")
    assert not is_sealed(path)
    seal(path)
    assert is_sealed(path)
    path.write_bytes(b"made by curatE")
    assert not is_sealed(path) and not path.exists()
    assert "is damaged" in caplog.text


def test_temp_files_of_dead_writers_are_swept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    mine = temp_path_for(tmp_path / "x.parquet")
    theirs = Path(str(mine).replace(f"@{os.getpid()}@", f"@{int(dead.stdout)}@"))
    theirs.write_bytes(b"left by a killed run")
    users = tmp_path / ".x.parquet.1234.tmp"  # a name curate does not make
    users.write_bytes(b"not curate's")
    assert sweep_temps(tmp_path) == 1
    assert mine.exists() and not theirs.exists() and users.exists()
    assert sweep_temps(tmp_path, everything=True) == 1 and not mine.exists() and users.exists()
