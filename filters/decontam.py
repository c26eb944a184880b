"""`decontaminate`: drop rows whose problem is a benchmark problem, however it was typed, embedded or reworded.

Every benchmark wording (canonical and variant copies of the bundled sets, plus the user's files) and every
row go through the same normalisation (`curate.textnorm`), so formatting never matters. Three detectors then
compare a row with the indexed wordings:

- `exact`: the row's normalised text equals a wording's (catches every short problem too);
- `ngram`: the share of a wording's word n-grams (`ngram` tokens, default 8, as open-r1) found in the row;
- `fuzzy`: the share of a wording's character 5-grams found in the row, which survives a few substituted or
  inserted words where every n-gram around the change is lost.

Shares count grams as sets. A gram found in `STOCK_GROUPS` or more different benchmark problems ("find the
remainder when n is divided by 1000", "relatively prime positive integers") is stock phrasing: a detector's
score is the smaller of the share of the wording's *distinctive* (non-stock) grams and the share of all its
grams found in the row, so boilerplate alone never reaches a threshold, and neither do the few distinctive
grams of a short problem. The stock list is computed over all bundled benchmarks (plus the user's files)
whatever subset is checked, so a verdict against AIME 2025 does not depend on which other sets are selected.
A match also needs the benchmark problem's numbers in the row (`NUMBER_AGREEMENT`): the same sentence with
other numbers is another problem. The drop names the best match: highest score, then exact > ngram > fuzzy,
then index order (benchmarks as listed, canonical wording before variants).

Matching is vectorised per block of rows: gram hashes of the block at once (`curate.minhash.shingle_hashes`),
a bit-filter and one `searchsorted` against the sorted distinctive grams, a (rows x wordings) tally with
`np.bincount`, and exact set arithmetic only for the few pairs whose tally reaches the threshold.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from curate import benchmarks, minhash, textnorm
from curate.benchmarks import Item
from curate.cache import digest, file_hash
from curate.errors import CurateError
from curate.filters import CONTAMINATION, KEEP, Drop, FilterParams, Row, RowFilter, Verdict, register

CHAR_NGRAM = 5
# A gram present in this many distinct benchmark problems is stock phrasing, not evidence of a copy.
STOCK_GROUPS = 3
DETECTORS = ("exact", "ngram", "fuzzy")
# A match also needs this share of the benchmark problem's numbers in the row: same words, other numbers is
# another problem ("What is the remainder when 2003 is divided by 11?").
NUMBER_AGREEMENT = 0.9
_FILTER_BITS = 24
# Rows matched per step, and the most (rows x wordings) tally cells a step may use (32 MB).
_MATCH_ROWS = 1024
_TALLY_CELLS = 1 << 22
_NUMBER = re.compile(r"\b\d+\b")


@dataclass(frozen=True)
class Match:
    item: Item
    score: float
    detector: str
    rank: int  # the wording's position in the index: the last tie-break

    def detail(self) -> str:
        where = (
            "" if self.item.wording == f"{self.item.benchmark}.jsonl" else f", wording {self.item.wording}"
        )
        return f"matches {self.item.benchmark} item {self.item.id} ({self.detector} score {self.score:.2f}{where})"

    def info(self) -> dict[str, Any]:
        return {
            "benchmark": self.item.benchmark,
            "item_id": self.item.id,
            "score": round(self.score, 4),
            "detector": self.detector,
            "wording": self.item.wording,
        }

    def beats(self, other: Match | None) -> bool:
        if other is None:
            return True
        mine = (-self.score, DETECTORS.index(self.detector), self.rank)
        return mine < (-other.score, DETECTORS.index(other.detector), other.rank)


class _GramIndex:
    """One kind of gram (word n-grams or char 5-grams) over the indexed wordings.

    `keys`/`starts`/`postings`: the sorted distinctive (non-stock) gram hashes and, per hash, the wordings
    holding it, to tally in bulk how many of a wording's distinctive grams each row holds. `distinct` and
    `grams`: each wording's distinctive and full gram sets, to score the few pairs whose tally is high enough.
    """

    def __init__(self, texts: list[str], size: int, unit: minhash.Unit, stock: np.ndarray) -> None:
        self.size, self.unit = size, unit
        hashes, offsets = minhash.shingle_hashes(texts, size, unit)
        per_item = [np.unique(hashes[offsets[i] : offsets[i + 1]]) for i in range(len(texts))]
        self.grams = [frozenset(h.tolist()) for h in per_item]
        distinct = [h[~np.isin(h, stock)] for h in per_item]
        self.distinct = [frozenset(h.tolist()) for h in distinct]
        self.sizes = np.array([h.size for h in distinct], dtype=np.int64)
        items = np.repeat(np.arange(len(distinct)), self.sizes)
        flat = np.concatenate(distinct) if distinct else np.empty(0, dtype=np.uint64)
        order = np.argsort(flat, kind="stable")
        flat, self.postings = flat[order], items[order]
        self.keys, first = np.unique(flat, return_index=True)
        self.starts = np.append(first, flat.size).astype(np.int64)
        # One bit per value of a hash's top bits: most grams of a row are no key, and a bit test rejects them
        # before any binary search.
        self.filter_bits = np.zeros(1 << (_FILTER_BITS - 3), dtype=np.uint8)
        slots = self.keys >> np.uint64(64 - _FILTER_BITS)
        bits = np.left_shift(1, slots & np.uint64(7)).astype(np.uint8)
        np.bitwise_or.at(self.filter_bits, slots >> np.uint64(3), bits)

    def tallies(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(rows, wordings) counts of the row's grams that are distinctive grams of the wording.

        A gram repeated in a row counts each time, so a tally is an upper bound of the distinct count:
        `candidates` uses it only to pick the pairs worth an exact count.
        """
        rows = offsets.size - 1
        tally = np.zeros((rows, self.sizes.size), dtype=np.int64)
        if self.keys.size == 0 or hashes.size == 0:
            return tally
        owner = np.repeat(np.arange(rows), np.diff(offsets))
        slots = hashes >> np.uint64(64 - _FILTER_BITS)
        maybe = (self.filter_bits[slots >> np.uint64(3)] >> (slots & np.uint64(7)).astype(np.uint8)) & 1 == 1
        owner, hashes = owner[maybe], hashes[maybe]
        pos = np.minimum(np.searchsorted(self.keys, hashes), self.keys.size - 1)
        hit = self.keys[pos] == hashes
        owner, pos = owner[hit], pos[hit]
        counts = self.starts[pos + 1] - self.starts[pos]
        ends = np.cumsum(counts)
        within = np.arange(ends[-1] if ends.size else 0) - np.repeat(ends - counts, counts)
        wordings = self.postings[np.repeat(self.starts[pos], counts) + within]
        width = self.sizes.size
        flat = np.bincount(np.repeat(owner, counts) * width + wordings, minlength=rows * width)
        return flat.reshape(rows, width)

    def candidates(
        self, hashes: np.ndarray, offsets: np.ndarray, threshold: float
    ) -> list[tuple[int, int, float]]:
        """(row, wording, score) for every pair whose score reaches `threshold`.

        The score is the smaller of two shares of the wording found in the row: of its distinctive grams, and
        of all its grams. The first ignores boilerplate; the second keeps a wording with few distinctive grams
        (a short problem) from matching on those few alone.
        """
        out = []
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = self.tallies(hashes, offsets) / self.sizes
        for row, wording in zip(*np.nonzero(bound >= threshold)):
            row, wording = int(row), int(wording)
            mine = set(hashes[offsets[row] : offsets[row + 1]].tolist())
            distinct, grams = self.distinct[wording], self.grams[wording]
            score = min(len(distinct & mine) / len(distinct), len(grams & mine) / len(grams))
            if score >= threshold:
                out.append((row, wording, score))
        return out


class ContaminationIndex:
    """The indexed wordings and their detectors; `match` is a pure function of the problems it is given."""

    def __init__(
        self,
        items: Sequence[Item],
        reference: Sequence[Item],
        *,
        ngram: int = 8,
        ngram_threshold: float = 0.6,
        fuzzy_threshold: float = 0.6,
        ngram_detector: bool = True,
        fuzzy_detector: bool = True,
    ) -> None:
        self.items = list(items)
        texts = textnorm.normalize_many(item.problem for item in self.items)
        self.exact: dict[str, int] = {}
        for index, text in enumerate(texts):
            self.exact.setdefault(text, index)
        self.numbers = [Counter(_NUMBER.findall(text)) for text in texts]
        ref_texts = textnorm.normalize_many(item.problem for item in reference)
        groups = _group_ids(reference)
        self.detectors: list[tuple[str, _GramIndex, float]] = []
        if ngram_detector:
            stock = _stock(ref_texts, groups, ngram, "word")
            self.detectors.append(("ngram", _GramIndex(texts, ngram, "word", stock), ngram_threshold))
        if fuzzy_detector:
            stock = _stock(ref_texts, groups, CHAR_NGRAM, "char")
            self.detectors.append(("fuzzy", _GramIndex(texts, CHAR_NGRAM, "char", stock), fuzzy_threshold))

    @classmethod
    def build(
        cls, names: Sequence[str], files: Mapping[str, Path] | None = None, **options: Any
    ) -> ContaminationIndex:
        """An index over the named bundled benchmarks (all wordings) and user files (label -> path)."""
        extra = [item for label, path in (files or {}).items() for item in benchmarks.load_file(path, label)]
        items = [item for name in names for item in benchmarks.load(name)] + extra
        reference = [item for name in benchmarks.NAMES for item in benchmarks.load(name)] + extra
        return cls(items, reference, **options)

    def match(self, problems: Sequence[str | None]) -> list[Match | None]:
        """The best match of each problem, or None where no detector reaches its threshold."""
        texts = textnorm.normalize_many(problems)
        step = max(16, min(_MATCH_ROWS, _TALLY_CELLS // max(len(self.items), 1)))
        best: list[Match | None] = []
        for lo in range(0, len(texts), step):
            best.extend(self._match_block(texts[lo : lo + step]))
        return best

    def _match_block(self, texts: list[str]) -> list[Match | None]:
        best: list[Match | None] = [None] * len(texts)
        for row, text in enumerate(texts):
            index = self.exact.get(text) if text else None
            if index is not None:
                best[row] = Match(self.items[index], 1.0, "exact", index)
        for name, detector, threshold in self.detectors:
            hashes, offsets = minhash.shingle_hashes(texts, detector.size, detector.unit)
            for row, wording, score in detector.candidates(hashes, offsets, threshold):
                candidate = Match(self.items[wording], score, name, wording)
                if candidate.beats(best[row]) and _numbers_agree(self.numbers[wording], texts[row]):
                    best[row] = candidate
        return best


def _numbers_agree(item: Counter[str], text: str) -> bool:
    """Whether the row holds at least `NUMBER_AGREEMENT` of the item's numbers (with multiplicity)."""
    total = sum(item.values())
    return total == 0 or sum((item & Counter(_NUMBER.findall(text))).values()) >= NUMBER_AGREEMENT * total


def _group_ids(reference: Sequence[Item]) -> np.ndarray:
    names: dict[tuple[str, str], int] = {}
    return np.array([names.setdefault((i.benchmark, i.id), len(names)) for i in reference], dtype=np.int64)


def _stock(texts: list[str], groups: np.ndarray, size: int, unit: minhash.Unit) -> np.ndarray:
    """Gram hashes found in at least `STOCK_GROUPS` distinct benchmark problems."""
    hashes, offsets = minhash.shingle_hashes(texts, size, unit)
    owner = np.repeat(groups, np.diff(offsets))
    pairs = np.unique(np.stack([hashes, owner.astype(np.uint64)]), axis=1)
    grams, counts = np.unique(pairs[0], return_counts=True)
    return grams[counts >= STOCK_GROUPS]


class DecontaminateParams(FilterParams):
    benchmarks: list[str] = Field(
        default_factory=lambda: list(benchmarks.NAMES), description="bundled benchmark sets to check against"
    )
    files: list[str] = Field(
        default_factory=list, description="your own eval sets: jsonl/parquet with a `problem` column"
    )
    ngram: int = Field(8, ge=3, le=64, description="word n-gram length of the ngram detector")
    ngram_threshold: float = Field(0.6, gt=0.0, le=1.0, description="share of a problem's n-grams to flag")
    fuzzy_threshold: float = Field(
        0.6, gt=0.0, le=1.0, description="share of a problem's char 5-grams to flag"
    )
    ngram_detector: bool = True
    fuzzy_detector: bool = True

    @field_validator("benchmarks")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in benchmarks.NAMES]
        if unknown:
            raise ValueError(f"unknown benchmark {unknown[0]!r}; bundled: {', '.join(benchmarks.NAMES)}")
        return list(dict.fromkeys(value))


@register("decontaminate")
class Decontaminate(RowFilter[DecontaminateParams]):
    """Drop rows whose problem is a copy of a benchmark problem (reason `contaminated`)."""

    columns = ("problem",)
    parallel = True
    report_kind = CONTAMINATION

    def _files(self) -> list[Path]:
        base = Path(self.context.recipe_dir or ".")
        return [Path(f) if Path(f).is_absolute() else base / f for f in self.params.files]

    def check(self) -> None:
        params = self.params
        if not params.benchmarks and not params.files:
            raise CurateError("decontaminate: nothing to check against", hint="list `benchmarks` or `files`")
        for path in self._files():
            benchmarks.check_file(path)

    def setup(self) -> None:
        params = self.params
        self.check()
        self.index = ContaminationIndex.build(
            params.benchmarks,
            dict(zip(params.files, self._files())),
            ngram=params.ngram,
            ngram_threshold=params.ngram_threshold,
            fuzzy_threshold=params.fuzzy_threshold,
            ngram_detector=params.ngram_detector,
            fuzzy_detector=params.fuzzy_detector,
        )

    def fingerprint_extra(self) -> str:
        return digest(
            [file_hash(path) for path in self._files()],
            [file_hash(path) for path in benchmarks.data_files()],
            CHAR_NGRAM,
            STOCK_GROUPS,
            NUMBER_AGREEMENT,
        )

    def filter(self, row: Row) -> Verdict:
        return self.filter_batch([row])[0]

    def filter_batch(self, rows: Sequence[Row]) -> list[Verdict]:
        matches = self.index.match([row.data.get("problem") for row in rows])
        return [KEEP if m is None else Drop("contaminated", m.detail(), m.info()) for m in matches]

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any]:
        """Every benchmark item found in the source, with the uuids of the rows that copy it, per benchmark."""
        params = self.params
        canonical: dict[tuple[str, str], Item] = {}
        for item in self.index.items:
            if item.wording == f"{item.benchmark}.jsonl" or item.benchmark not in benchmarks.NAMES:
                canonical.setdefault((item.benchmark, item.id), item)
        found: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for uuid, drop in drops:
            info = drop.info or {}
            found[(info.get("benchmark", ""), info.get("item_id", ""))].append((uuid, info))
        per_benchmark: dict[str, Any] = {}
        for name in [*params.benchmarks, *params.files]:
            keys = [key for key in canonical if key[0] == name]
            hits = [key for key in keys if key in found]
            per_benchmark[name] = {
                "items": len(keys),
                "items_found": len(hits),
                "rows": sum(len(found[key]) for key in hits),
                "found": [
                    {
                        "item_id": key[1],
                        "problem": canonical[key].problem[:300],
                        "answer": canonical[key].answer,
                        "uuids": sorted(uuid for uuid, _ in found[key]),
                        "best_score": max(info["score"] for _, info in found[key]),
                        "detectors": sorted({info["detector"] for _, info in found[key]}),
                        "wordings": sorted({info["wording"] for _, info in found[key]}),
                    }
                    for key in hits
                ],
            }
        return {
            "benchmarks": params.benchmarks,
            "files": params.files,
            "settings": params.model_dump(mode="json", exclude={"benchmarks", "files"}),
            "rows_dropped": len(drops),
            "items_found": sum(b["items_found"] for b in per_benchmark.values()),
            "per_benchmark": per_benchmark,
        }
