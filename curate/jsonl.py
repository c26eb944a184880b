"""JSON-lines input read the same way everywhere: blank lines skipped, a bad line named by file and line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curate.errors import CurateError


def iter_jsonl(path: Path, *, hint: str | None = None) -> Iterator[tuple[str, int, Any]]:
    """(`file:line`, line number, parsed value) for every non-blank line; a line that is not UTF-8 or not
    JSON is a CurateError naming it."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CurateError(f"cannot read: {exc.strerror or exc}", where=str(path)) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            where = f"{path}:{number}"
            line = decode_line(raw, where)
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CurateError(
                    f"not valid JSON ({exc.msg}, column {exc.colno})", where=where, hint=hint
                ) from None
            yield where, number, value


def decode_line(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CurateError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})",
            where=where,
            hint="save the file as UTF-8",
        ) from None
