"""JSON-lines input read the same way everywhere: blank lines skipped, a bad line named by file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curate.errors import CurateError


def iter_jsonl(path: Path, *, hint: str | None = None) -> Iterator[tuple[str, int, Any]]:
    """(`file:line`, line number, parsed value) for every non-blank line; invalid JSON is a CurateError."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield where, number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise CurateError(f"not valid JSON ({exc.msg})", where=where, hint=hint) from None
