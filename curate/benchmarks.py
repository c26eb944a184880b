"""The bundled benchmark sets, and evaluation sets a user brings as files.

`curate/data/benchmarks/` is a byte-for-byte copy of `shared/benchmarks/` (its PROVENANCE.md says where each
file comes from): one canonical file per benchmark, and under `variants/` other published wordings of the
same problems. Decontamination indexes every wording, and reports a match under the canonical item it is a
wording of, so a hit on the MathArena text of AIME 2025 I-2 reads as `aime2025 2025-I-2` whichever copy it
matched. Variant rows are tied to their canonical item once, when loaded: same normalised text if there is
one, else the canonical item with the same answer and the most word 3-grams in common (else the most word
3-grams in common overall).

The evaluator's T0 suite (README, "Evaluate: `curate eval`") is `T0`'s canonical problems (AIME 2025, AIME
2026 and AMC 2023) with their ids and answers (`curate.evaluate.suites`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.jsonl import iter_jsonl
from curate.textnorm import normalize

NAMES: tuple[str, ...] = ("aime2024", "aime2025", "aime2026", "amc22", "amc23", "amc24", "math500")
T0: tuple[str, ...] = ("aime2025", "aime2026", "amc23")
DATA_DIR = Path(__file__).parent / "data" / "benchmarks"


@dataclass(frozen=True)
class Item:
    """One wording of one benchmark problem.

    `benchmark` and `id` name the canonical problem (for a user file: the file's name and its `id` column,
    or the line number); `wording` is the file the text comes from and `wording_id` its id there.
    """

    benchmark: str
    id: str
    problem: str
    answer: str | None
    wording: str
    wording_id: str


def data_files() -> list[Path]:
    """Every bundled file (data and provenance), in a stable order: what a decontamination result depends on."""
    return sorted(p for p in DATA_DIR.rglob("*") if p.is_file())


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    for where, number, record in iter_jsonl(
        path, hint="each line must be one JSON object with a `problem` field"
    ):
        if not isinstance(record, dict):
            raise CurateError("line is not a JSON object", where=where)
        record["_line"] = number
        records.append(record)
    return records


def _answer_key(answer: Any) -> str:
    """Answers compared across copies: normalised, and integers without zero padding ("025" = "25")."""
    text = normalize(str(answer)) if answer is not None else ""
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def _trigrams(text: str) -> set[str]:
    words = text.split(" ")
    return {" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


@cache
def canonical(name: str) -> tuple[Item, ...]:
    """The canonical items of a bundled benchmark (no variants)."""
    if name not in NAMES:
        raise CurateError(f"unknown benchmark {name!r}", hint=f"bundled benchmarks: {', '.join(NAMES)}")
    return tuple(
        Item(name, str(r["id"]), r["problem"], _text(r.get("answer")), f"{name}.jsonl", str(r["id"]))
        for r in _read_jsonl(DATA_DIR / f"{name}.jsonl")
    )


@cache
def variants(name: str) -> tuple[Item, ...]:
    """The other published wordings of a bundled benchmark, each tied to its canonical item."""
    base = canonical(name)
    normalised = {normalize(item.problem): item for item in base}
    grams = [_trigrams(normalize(item.problem)) for item in base]
    answers = [_answer_key(item.answer) for item in base]
    out = []
    for path in sorted((DATA_DIR / "variants").glob(f"{name}_*.jsonl")):
        wording = f"variants/{path.name}"
        for record in _read_jsonl(path):
            text = normalize(record["problem"])
            match = normalised.get(text)
            if match is None:
                mine = _trigrams(text)
                scores = [len(mine & g) / len(mine | g) for g in grams]
                key = _answer_key(record.get("answer"))
                same = [i for i, a in enumerate(answers) if a == key] or range(len(base))
                match = base[max(same, key=lambda i: (scores[i], -i))]
            out.append(Item(name, match.id, record["problem"], match.answer, wording, str(record["id"])))
    return tuple(out)


def load(name: str, *, with_variants: bool = True) -> list[Item]:
    """A bundled benchmark by name: its canonical items, then (by default) every variant wording."""
    items = list(canonical(name))
    if with_variants:
        items.extend(variants(name))
    return items


def load_file(path: Path, label: str | None = None) -> list[Item]:
    """A user's evaluation set: jsonl or parquet with a `problem` column (`id` and `answer` optional).

    Items are named `label` (default: the file name) and their `id` column, else their line (jsonl) or row
    (parquet) number.
    """
    label = label or path.name
    check_file(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        records = _read_jsonl(path)
        for record in records:
            if not isinstance(record.get("problem"), str):
                raise CurateError(
                    "no `problem` string on this line",
                    where=f"{path}:{record['_line']}",
                    hint="add a `problem` field",
                )
        rows = [(r.get("id", r["_line"]), r["problem"], r.get("answer")) for r in records]
    elif suffix == ".parquet":
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CurateError(f"not a readable parquet file ({exc})", where=str(path)) from None
        if "problem" not in table.column_names:
            raise CurateError(
                f"no `problem` column; columns: {', '.join(table.column_names)}",
                where=str(path),
                hint="rename the column holding the problem text to `problem`",
            )
        data = table.to_pydict()
        ids = data.get("id") or list(range(1, table.num_rows + 1))
        answers = data.get("answer") or [None] * table.num_rows
        rows = list(zip(ids, data["problem"], answers))
        for number, (_, problem, _) in enumerate(rows, 1):
            if not isinstance(problem, str):
                raise CurateError(
                    "empty `problem`", where=f"{path} row {number}", hint="fill or remove the row"
                )
    return [Item(label, str(i), problem, _text(answer), label, str(i)) for i, problem, answer in rows]


def check_file(path: Path) -> None:
    """What `load_file` refuses without reading: a missing file or one that is not jsonl or parquet."""
    if not path.is_file():
        what = "not a regular file" if path.exists() else "file not found"
        raise CurateError(what, where=str(path), hint="paths are relative to the recipe's folder")
    if path.suffix.lower() not in (".jsonl", ".json", ".parquet"):
        raise CurateError(
            f"unsupported file type {path.suffix or '(none)'}", where=str(path), hint="use .jsonl or .parquet"
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
