"""`decontaminate`: drop rows whose problem is a benchmark problem, however it was typed, cut, embedded or
reworded, and (as their own tier) benchmark problems re-issued with other numbers.

Every benchmark wording (canonical and variant copies of the bundled sets, plus the user's files) and every
row go through the same normalisation (`curate.textnorm`), so formatting never matters, and then have their
numbers masked (`#`), so that the words a copy shares with its problem and the numbers it shares with it are
judged apart. Three detectors compare a row with the indexed wordings:

- `exact`: the row's normalised (or number-masked) text equals a wording's (catches every short problem too);
- `ngram`: word n-grams (`ngram` tokens, default 8, as open-r1), numbers masked, so they find template copies;
- `fuzzy`: character 5-grams, numbers kept (they make a short problem's grams distinctive), which survive a
  few substituted or inserted words where every n-gram around the change is lost.

Grams are taken after `textnorm.without_grouping`, so `1/2`, `(1)/(2)` and `\\frac{1}{2}` agree. A problem
with answer choices is indexed a second time without them.

Containment is measured both ways. `score` is the share of the wording found in the row (an embedded copy, a
copy with an added instruction or answer choices scores high); `row_share` is the share of the row found in
the wording (a copy cut short, with its answer choices dropped or its last sentence missing scores high
there). A row is a copy when `score` reaches the detector's threshold, or when `row_share` reaches
`containment_threshold` and `score` reaches `partial_threshold` (most of the row is the problem, and it
holds a good part of the problem).

Safeguards against false drops. Shares count grams as sets. A gram found in `STOCK_GROUPS` or more different
benchmark problems ("find the remainder when # is divided by #", "relatively prime positive integers") is
stock phrasing: `score` is the smaller of the share of the wording's *distinctive* (non-stock) grams and the
share of all its grams found in the row, and `row_share` counts the row's distinctive grams only, so
boilerplate never reaches a threshold, and neither do the few distinctive grams of a short problem. The stock
list is computed over all bundled benchmarks (plus the user's files) whatever subset is checked, so a verdict
against AIME 2025 does not depend on which other sets are selected. The numbers must agree
(`NUMBER_AGREEMENT`): the benchmark problem's numbers in the row, or, for a partial copy, the row's numbers
in the benchmark problem, and none may stand where the other text has another (`textnorm.same_places`). A
benchmark problem shorter than `SHORT_PROBLEM_CHARS` is mostly a fragment other problems hold too: a row
copies it only when the row's statement (its answer choices aside) has no other numbers. The same words with
other numbers is another problem, and the second tier:

- `template_copy`: the wording matches both ways (`score` and `row_share` at least `template_threshold`) but
  the numbers do not agree: a benchmark problem re-issued with new numbers. Only wordings with at least
  `TEMPLATE_MIN_GRAMS` distinctive word n-grams qualify, so a short textbook statement ("Compute
  $\\dbinom{31}{28}$.") is not a template of every problem written the same way. The recipe decides what happens
  to template copies (`template_copies`): `drop` (default, reason `template_copy`), `report` (kept, and
  listed in the report and the card), or `keep` (not looked for).

The drop names the best match: contamination before template, highest score, then exact > ngram > fuzzy,
then index order (benchmarks as listed, canonical wording before variants).

Matching is vectorised per block of rows: gram hashes of the block at once (`curate.minhash.shingle_hashes`),
a bit-filter and one `searchsorted` against the sorted distinctive grams, a (rows x wordings) tally with
`np.bincount`, and exact set arithmetic only for the few pairs whose tally reaches the lowest threshold.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from curate import benchmarks, minhash, textnorm
from curate.benchmarks import Item
from curate.cache import digest, file_hash, source_code_hash
from curate.errors import CurateError
from filters import KEEP, Drop, FilterParams, Keep, Row, RowFilter, Verdict, register

CHAR_NGRAM = 5
# A gram present in this many distinct benchmark problems is stock phrasing, not evidence of a copy.
STOCK_GROUPS = 3
DETECTORS = ("exact", "ngram", "fuzzy")
TIERS = ("contaminated", "template_copy")
# A match also needs this share of the benchmark problem's numbers in the row (or, for a partial copy, of the
# row's numbers in the problem): same words, other numbers is another problem ("What is the remainder when
# 2003 is divided by 11?").
NUMBER_AGREEMENT = 0.9
# A benchmark problem this short (characters of its normalised text: "evaluate \\log _ 2 64 .") is mostly a
# fragment ("\\log _ 2 64") that longer, different problems hold too: a row copies it only when the row's
# numbers are the problem's numbers as well ("compute \\log _ 2 486 - \\log _ 2 243 + 11 \\log _ 2 64" is not
# a copy of it, "here is a quick one : evaluate \\log _ 2 64 . show all work ." is).
SHORT_PROBLEM_CHARS = 50
# Fewest distinctive (non-stock) word n-grams of a wording that can have template copies.
TEMPLATE_MIN_GRAMS = 6
_FILTER_BITS = 24
# Rows matched per step, and the most (rows x wordings) tally cells a step may use (32 MB).
_MATCH_ROWS = 1024
_TALLY_CELLS = 1 << 22


@dataclass(frozen=True)
class Thresholds:
    """When a (row, wording) pair is a copy: see the module docstring."""

    containment: float = 0.8
    partial: float = 0.35
    template: float = 0.8


@dataclass(frozen=True)
class Match:
    item: Item
    score: float  # share of the wording found in the row
    detector: str
    rank: int  # the wording's position in the index: the last tie-break
    row_share: float = 1.0  # share of the row found in the wording
    tier: str = "contaminated"

    def detail(self) -> str:
        where = (
            "" if self.item.wording == f"{self.item.benchmark}.jsonl" else f", wording {self.item.wording}"
        )
        shares = f"{self.detector} score {self.score:.2f}, row share {self.row_share:.2f}{where}"
        if self.tier == "template_copy":
            return f"template copy of {self.item.benchmark} item {self.item.id}: same wording, other numbers ({shares})"
        return f"matches {self.item.benchmark} item {self.item.id} ({shares})"

    def info(self) -> dict[str, Any]:
        return {
            "benchmark": self.item.benchmark,
            "item_id": self.item.id,
            "score": round(self.score, 4),
            "row_share": round(self.row_share, 4),
            "detector": self.detector,
            "wording": self.item.wording,
            "tier": self.tier,
        }

    def beats(self, other: Match | None) -> bool:
        if other is None:
            return True
        mine = (TIERS.index(self.tier), -self.score, DETECTORS.index(self.detector), self.rank)
        return mine < (TIERS.index(other.tier), -other.score, DETECTORS.index(other.detector), other.rank)


@dataclass(frozen=True)
class _RowNumbers:
    numbers: Counter[str]  # every number of the row
    places: dict[str, frozenset[str]]  # where they stand (`textnorm.number_places`)
    statement: Counter[str]  # the numbers of the row without its answer choices


def number_share(part: Counter[str], whole: Counter[str]) -> float:
    """Share of `part`'s numbers (with multiplicity) found in `whole`; 1.0 when `part` has none."""
    total = sum(part.values())
    return 1.0 if total == 0 else sum((part & whole).values()) / total


class _GramIndex:
    """One kind of gram (word n-grams or char 5-grams) over the indexed wordings.

    `keys`/`starts`/`postings`: the sorted distinctive (non-stock) gram hashes and, per hash, the wordings
    holding it, to tally in bulk how many of a wording's distinctive grams each row holds. `distinct` and
    `grams`: each wording's distinctive and full gram sets, to score the few pairs whose tally is high enough.
    """

    def __init__(self, texts: list[str], size: int, unit: minhash.Unit, stock: np.ndarray) -> None:
        self.size, self.unit = size, unit
        self.stock = frozenset(stock.tolist())
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
    ) -> list[tuple[int, int, float, float]]:
        """(row, wording, score, row share) for every pair whose score reaches `threshold`.

        The score is the smaller of two shares of the wording found in the row: of its distinctive grams, and
        of all its grams. The first ignores boilerplate; the second keeps a wording with few distinctive grams
        (a short problem) from matching on those few alone. The row share is the share of the row's
        distinctive grams found in the wording.
        """
        out = []
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = self.tallies(hashes, offsets) / self.sizes
        rows: dict[int, tuple[frozenset[int], int]] = {}  # a row's grams and distinctive count, built once
        for row, wording in zip(*np.nonzero(bound >= threshold)):
            row, wording = int(row), int(wording)
            if row not in rows:
                mine = frozenset(hashes[offsets[row] : offsets[row + 1]].tolist())
                rows[row] = (mine, len(mine - self.stock))
            mine, own = rows[row]
            distinct, grams = self.distinct[wording], self.grams[wording]
            found = len(distinct & mine)
            score = min(found / len(distinct), len(grams & mine) / len(grams))
            if score >= threshold:
                out.append((row, wording, score, found / own if own else 0.0))
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
        thresholds: Thresholds = Thresholds(),
        templates: bool = True,
        ngram_detector: bool = True,
        fuzzy_detector: bool = True,
    ) -> None:
        self.items = list(items)
        self.thresholds = thresholds
        self.templates = templates
        texts = textnorm.normalize_many(item.problem for item in self.items)
        # A problem with answer choices is also indexed without them: a copy that drops the choices holds
        # all of the statement but little of the whole.
        for item, text in list(zip(self.items, texts)):
            stem = _without_choices(text)
            if stem:
                self.items.append(replace(item, wording=f"{item.wording} without its choices"))
                texts.append(stem)
        masked = [textnorm.mask_numbers(text) for text in texts]
        grams = [textnorm.without_grouping(text) for text in texts]
        self.exact: dict[str, int] = {}
        self.masked: dict[str, list[int]] = defaultdict(list)
        for index, (text, mask) in enumerate(zip(texts, masked)):
            self.exact.setdefault(text, index)
            self.masked[mask].append(index)
        self.numbers = [Counter(textnorm.numbers(text)) for text in texts]
        self.places = [textnorm.number_places(text) for text in grams]
        self.short = [len(text) < SHORT_PROBLEM_CHARS for text in grams]
        ref_texts = [textnorm.without_grouping(t) for t in textnorm.normalize_many(i.problem for i in reference)]
        ref_masked = [textnorm.mask_numbers(t) for t in ref_texts]
        groups = _group_ids(reference)
        # (name, index, threshold, on masked text): word n-grams see the wording with its numbers masked, so
        # they find template copies too; character grams keep the numbers, which make the short grams of a
        # short problem distinctive.
        self.detectors: list[tuple[str, _GramIndex, float, bool]] = []
        # Template copies need enough distinctive wording, counted in word n-grams whether or not the ngram
        # detector runs.
        word_index = _GramIndex(
            [textnorm.mask_numbers(t) for t in grams], ngram, "word", _stock(ref_masked, groups, ngram, "word")
        )
        self.template_ok = word_index.sizes >= TEMPLATE_MIN_GRAMS
        if ngram_detector:
            self.detectors.append(("ngram", word_index, ngram_threshold, True))
        if fuzzy_detector:
            stock = _stock(ref_texts, groups, CHAR_NGRAM, "char")
            self.detectors.append(("fuzzy", _GramIndex(grams, CHAR_NGRAM, "char", stock), fuzzy_threshold, False))

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
        """The best match of each problem, or None where no detector finds a copy."""
        texts = textnorm.normalize_many(problems)
        step = max(16, min(_MATCH_ROWS, _TALLY_CELLS // max(len(self.items), 1)))
        best: list[Match | None] = []
        for lo in range(0, len(texts), step):
            best.extend(self._match_block(texts[lo : lo + step]))
        return best

    def _match_block(self, texts: list[str]) -> list[Match | None]:
        best: list[Match | None] = [None] * len(texts)
        masked = [textnorm.mask_numbers(text) for text in texts]
        grams = [textnorm.without_grouping(text) for text in texts]
        masked_grams = [textnorm.mask_numbers(text) for text in grams]
        numbers: dict[int, _RowNumbers] = {}

        def row_numbers(row: int) -> _RowNumbers:
            if row not in numbers:
                stem = _without_choices(texts[row]) or texts[row]
                numbers[row] = _RowNumbers(
                    Counter(textnorm.numbers(texts[row])),
                    textnorm.number_places(grams[row]),
                    Counter(textnorm.numbers(stem)),
                )
            return numbers[row]

        for row, text in enumerate(texts):
            if not text:
                continue
            index = self.exact.get(text)
            if index is not None:
                best[row] = Match(self.items[index], 1.0, "exact", index)
                continue
            for index in self.masked.get(masked[row], ()):
                found = self._judge(row_numbers(row), index, "exact", 1.0, 1.0, 1.0)
                if found is not None and found.beats(best[row]):
                    best[row] = found
        low = min(self.thresholds.partial, self.thresholds.template)
        for name, index, threshold, on_masked in self.detectors:
            hashes, offsets = minhash.shingle_hashes(masked_grams if on_masked else grams, index.size, index.unit)
            for row, wording, score, share in index.candidates(hashes, offsets, min(low, threshold)):
                found = self._judge(row_numbers(row), wording, name, threshold, score, share)
                if found is not None and found.beats(best[row]):
                    best[row] = found
        return best

    def _judge(
        self, row: _RowNumbers, wording: int, detector: str, threshold: float, score: float, share: float
    ) -> Match | None:
        """What a (row, wording) pair with these shares is: a copy, a template copy, or nothing. The numbers
        agree when enough of them are shared and none stands where the other text has another one
        (`textnorm.same_places`: the same numbers permuted make another problem)."""
        numbers, places = row.numbers, row.places
        item_numbers = self.numbers[wording]
        partial = share >= self.thresholds.containment and score >= self.thresholds.partial
        agree = (
            number_share(item_numbers, numbers) >= NUMBER_AGREEMENT
            or (partial and number_share(numbers, item_numbers) >= NUMBER_AGREEMENT)
        ) and textnorm.same_places(self.places[wording], places)
        if self.short[wording]:  # the row's statement (answer choices aside) has the problem's numbers only
            agree = agree and number_share(row.statement, item_numbers) >= NUMBER_AGREEMENT
        if (score >= threshold or partial) and agree:
            return Match(self.items[wording], score, detector, wording, share)
        template = self.thresholds.template
        if (
            detector != "fuzzy"
            and self.templates
            and self.template_ok[wording]
            and score >= template
            and share >= template
            and not agree
        ):
            return Match(self.items[wording], score, detector, wording, share, "template_copy")
        return None


# `( a ) line ( b ) circle ...`, not a fraction `( a ) / ( b )` (normalisation writes fractions that way).
_CHOICES = re.compile(r"(?<!/ )(?:^| )\( a \) (?![/^_])(?=.*?(?<!/ )\( b \) (?![/^_]).*?(?<!/ )\( c \) (?![/^_]))")


def _without_choices(normalized: str) -> str | None:
    """The statement of a problem that ends with answer choices `(A) ... (B) ... (C) ...`, without them."""
    found = _CHOICES.search(normalized)
    stem = normalized[: found.start()].strip() if found else ""
    return stem if len(stem.split()) >= 4 else None


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
    ngram_threshold: float = Field(
        0.6, gt=0.0, le=1.0, description="share of a problem's n-grams in the row that flags it"
    )
    fuzzy_threshold: float = Field(
        0.6, gt=0.0, le=1.0, description="share of a problem's char 5-grams in the row that flags it"
    )
    containment_threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="share of the row found in a problem that makes it a partial copy"
    )
    partial_threshold: float = Field(
        0.35, gt=0.0, le=1.0, description="share of the problem a partial copy must hold"
    )
    template_copies: Literal["drop", "report", "keep"] = Field(
        "drop", description="benchmark problems with other numbers: drop, keep but report, or keep"
    )
    template_threshold: float = Field(
        0.8, gt=0.0, le=1.0, description="share both ways that makes a template copy"
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
class Decontaminate(RowFilter):
    """Drop rows whose problem is a copy of a benchmark problem (reason `contaminated`), and benchmark
    problems with other numbers (reason `template_copy`, or kept and reported: `template_copies`)."""

    Params = DecontaminateParams
    columns = ("problem",)
    parallel = True

    @property
    def _params(self) -> DecontaminateParams:
        return self.params  # type: ignore[return-value]

    def _files(self) -> list[Path]:
        base = Path(self.context.recipe_dir or ".")
        return [Path(f) if Path(f).is_absolute() else base / f for f in self._params.files]

    def check(self) -> None:
        params = self._params
        if not params.benchmarks and not params.files:
            raise CurateError("decontaminate: nothing to check against", hint="list `benchmarks` or `files`")
        for path in self._files():
            benchmarks.check_file(path)

    def setup(self) -> None:
        params = self._params
        self.check()
        self.index = ContaminationIndex.build(
            params.benchmarks,
            dict(zip(params.files, self._files())),
            ngram=params.ngram,
            ngram_threshold=params.ngram_threshold,
            fuzzy_threshold=params.fuzzy_threshold,
            thresholds=Thresholds(params.containment_threshold, params.partial_threshold, params.template_threshold),
            templates=params.template_copies != "keep",
            ngram_detector=params.ngram_detector,
            fuzzy_detector=params.fuzzy_detector,
        )

    def fingerprint_extra(self) -> str:
        return digest(
            [file_hash(path) for path in self._files()],
            [file_hash(path) for path in benchmarks.data_files()],
            source_code_hash(textnorm, minhash, benchmarks),
            CHAR_NGRAM,
            STOCK_GROUPS,
            NUMBER_AGREEMENT,
            TEMPLATE_MIN_GRAMS,
            SHORT_PROBLEM_CHARS,
        )

    def filter(self, row: Row) -> Verdict:
        return self.filter_batch([row])[0]

    def filter_batch(self, rows: Sequence[Row]) -> list[Verdict]:
        verdicts: list[Verdict] = []
        for match in self.index.match([row.data.get("problem") for row in rows]):
            if match is None:
                verdicts.append(KEEP)
                continue
            drop = Drop(match.tier, match.detail(), match.info())
            if match.tier == "template_copy" and self._params.template_copies == "report":
                verdicts.append(Keep(note=drop))
            else:
                verdicts.append(drop)
        return verdicts

    def report(self, drops: Sequence[tuple[str, Drop]]) -> dict[str, Any]:
        """Every benchmark item found in the source with the uuids of the rows that copy it, per benchmark;
        template copies in a section of their own (dropped, or kept under `template_copies: report`)."""
        params = self._params
        canonical: dict[tuple[str, str], Item] = {}
        for item in self.index.items:
            if item.wording == f"{item.benchmark}.jsonl" or item.benchmark not in benchmarks.NAMES:
                canonical.setdefault((item.benchmark, item.id), item)
        found: dict[str, dict[tuple[str, str], list[tuple[str, dict[str, Any]]]]] = {
            tier: defaultdict(list) for tier in TIERS
        }
        for uuid, drop in drops:
            info = drop.info or {}
            tier = info.get("tier", drop.reason)
            found[tier if tier in found else "contaminated"][(info.get("benchmark", ""), info.get("item_id", ""))].append(
                (uuid, info)
            )

        def per_benchmark(tier: str) -> dict[str, Any]:
            out: dict[str, Any] = {}
            hits_of = found[tier]
            for name in [*params.benchmarks, *params.files]:
                keys = [key for key in canonical if key[0] == name]
                hits = [key for key in keys if key in hits_of]
                out[name] = {
                    "items": len(keys),
                    "items_found": len(hits),
                    "rows": sum(len(hits_of[key]) for key in hits),
                    "found": [
                        {
                            "item_id": key[1],
                            "problem": canonical[key].problem[:300],
                            "answer": canonical[key].answer,
                            "uuids": sorted(uuid for uuid, _ in hits_of[key]),
                            "best_score": max(info["score"] for _, info in hits_of[key]),
                            "detectors": sorted({info["detector"] for _, info in hits_of[key]}),
                            "wordings": sorted({info["wording"] for _, info in hits_of[key]}),
                        }
                        for key in hits
                    ],
                }
            return out

        contaminated = per_benchmark("contaminated")
        templates = per_benchmark("template_copy")
        return {
            "benchmarks": params.benchmarks,
            "files": params.files,
            "settings": params.model_dump(mode="json", exclude={"benchmarks", "files"}),
            "rows_dropped": sum(len(v) for v in found["contaminated"].values())
            + (sum(len(v) for v in found["template_copy"].values()) if params.template_copies == "drop" else 0),
            "items_found": sum(b["items_found"] for b in contaminated.values()),
            "per_benchmark": contaminated,
            "template_copies": {
                "action": params.template_copies,
                "rows": sum(b["rows"] for b in templates.values()),
                "items_found": sum(b["items_found"] for b in templates.values()),
                "per_benchmark": templates,
            },
        }
