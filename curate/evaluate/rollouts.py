"""The resumable rollouts file: one JSON line per finished problem, appended, flushed and fsynced.

A killed run loses at most the problems in flight. On restart the settings stored in `run.json` must match
(otherwise one file would mix two experiments), a torn last line is cut off, and only missing problems are
generated. When every problem is done the file is rewritten in suite order, so equal runs give equal files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from curate.cache import atomic_write_text, temp_path_for
from curate.errors import CurateError

ROLLOUTS = "rollouts.jsonl"
RUN_CONFIG = "run.json"


def record_key(record: dict[str, Any]) -> str:
    return f"{record['dataset']}/{record['id']}"


def check_settings(out_dir: Path, settings: dict[str, Any]) -> bool:
    """Store the settings of a new run, or check them against the run already in `out_dir`.

    Returns True when resuming an earlier run."""
    config_path = out_dir / RUN_CONFIG
    if not config_path.exists():
        if (out_dir / ROLLOUTS).exists():
            raise CurateError(
                f"{ROLLOUTS} is here but {RUN_CONFIG} is not, so its settings are unknown",
                where=str(out_dir),
                hint="pass a new --out, or score the file with `curate eval score`",
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            config_path, json.dumps({"settings": settings}, indent=2, ensure_ascii=False) + "\n"
        )
        return False
    try:
        stored = json.loads(config_path.read_text(encoding="utf-8"))["settings"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise CurateError("not a curate eval run.json", where=str(config_path)) from None
    changed = [
        f"{key}: {stored.get(key)!r} -> {settings.get(key)!r}"
        for key in sorted(set(stored) | set(settings))
        if stored.get(key) != settings.get(key)
    ]
    if changed:
        raise CurateError(
            f"this folder holds a run with other settings ({'; '.join(changed)})",
            where=str(out_dir),
            hint="resume with the same settings, or pass a new --out",
        )
    return True


class RolloutLog:
    """Append-only writer over `rollouts.jsonl` that knows which problems are already done."""

    def __init__(self, path: Path, rollouts: int, keys: list[str]) -> None:
        self.path = path
        self.rollouts = rollouts
        self.order = {key: index for index, key in enumerate(keys)}
        self.done: dict[str, dict[str, Any]] = {}
        self._load()
        self._handle: BinaryIO = path.open("ab")

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good = 0  # bytes up to the end of the last complete line
        lines = data.split(b"\n")
        for number, line in enumerate(lines, 1):
            last = number == len(lines)
            if not line.strip():
                good += len(line) + (0 if last else 1)
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                if last:
                    break  # torn write from an interrupted run: drop it
                raise CurateError(
                    "line is not valid JSON (the file was edited or corrupted)",
                    where=f"{self.path}:{number}",
                    hint="remove the line to regenerate that problem",
                ) from None
            self._accept(record, f"{self.path}:{number}")
            good += len(line) + (0 if last else 1)
        if good < len(data) or (data and not data.endswith(b"\n")):
            with self.path.open("r+b") as handle:
                handle.truncate(good)
                if good and not data[:good].endswith(b"\n"):
                    handle.seek(good)
                    handle.write(b"\n")
                handle.flush()
                os.fsync(handle.fileno())

    def _accept(self, record: Any, where: str) -> None:
        if not isinstance(record, dict) or "dataset" not in record or "id" not in record:
            raise CurateError("not a rollout record (needs dataset and id)", where=where)
        key = record_key(record)
        if key not in self.order:
            raise CurateError(f"problem {key} is not in this suite", where=where, hint="pass a new --out")
        if key in self.done:
            raise CurateError(f"problem {key} appears twice", where=where, hint="remove one of the lines")
        completions = record.get("completions")
        if not isinstance(completions, list) or len(completions) != self.rollouts:
            raise CurateError(
                f"problem {key} has {len(completions) if isinstance(completions, list) else 'no'} completions, "
                f"not {self.rollouts}",
                where=where,
                hint="remove the line to regenerate that problem",
            )
        self.done[key] = record

    def append(self, record: dict[str, Any]) -> None:
        """Make one finished problem durable before going on."""
        self._accept(record, str(self.path))
        self._handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def complete(self) -> bool:
        return len(self.done) == len(self.order)

    def close(self) -> None:
        self._handle.close()

    def finalize(self) -> None:
        """Rewrite the finished file in suite order (generation order depends on timing)."""
        self.close()
        tmp = temp_path_for(self.path)
        try:
            with tmp.open("wb") as handle:
                for key in sorted(self.done, key=self.order.__getitem__):
                    handle.write((json.dumps(self.done[key], ensure_ascii=False) + "\n").encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
