"""Measure near-duplicate detection on short problems, old scheme beside new, and its speed on 225K rows.

Quality (`quality`, the default). Near-duplicate pairs: every canonical benchmark problem of 20 to 60 words,
and every real OpenR1 problem of `tests/data` of that length, copied once per near-duplicate family of the
taxonomy in `perturb_heldout.py` (`DEDUP_FAMILIES`: typesetting, labels, instructions, sentence order, one to
three words replaced, a combination), by both generators (`perturb_tuning.py`, the one the threshold was
chosen with, and `perturb_heldout.py`); and, as real pairs nobody generated, each benchmark problem of that
length with each other publisher's wording of it (`curate/data/benchmarks/variants/`). Distinct problems:
every canonical benchmark problem, the real OpenR1 problems, and a few thousand competition-style problems
from `measure_decontam.py`'s templates, many of them the same sentence with other numbers. Renumbered copies
(`numbers_changed`) are distinct problems that must not merge unless the recipe asks (`numbers: ignore`).

Term swaps (`tests/data/term_swap_pairs.jsonl`, written by hand without reading the detector: see its
PROVENANCE): 300 real benchmark and OpenR1 problems, each with one copy edited in one to three words, half so
that the mathematics changes ("wins" -> "loses", "square" -> "cube", "with" -> "without replacement": must stay
apart) and half so that it does not (synonyms, typos, fillers: must merge). The term lists of `curate.terms`
were extended from the misses of the even lines (the tuning half); the odd lines are reported as held out.

Everything goes through one `minhash_dedup` run per scheme (the filter's own `filter_all`): recall is the
share of copies in their original's cluster; a false merge is a distinct problem sharing a cluster with
another distinct problem. Benchmark problems are split by position into the tuning half (even) and the
held-out half (odd); the verified scheme's threshold was chosen on the tuning half with the tuning generator
(`--sweep`), the held-out half is reported with both generators.

Speed (`speed`): each dedup scheme alone on the `curate bench` corpus (`--rows`, default 225,000; generated
once into the curate cache), as `curate bench` times a filter (`python -m curate.bench.child filter`),
alternating old and new `--repeat` times in one run. `--chain COMMIT` also runs `decontaminate` alone and the
whole 45K recipe on the corpus with the code (and recipe) of COMMIT, checked out into a temporary git
worktree, and with this tree, alternating, so both come from the same minutes of the same machine. Wall time
and the CPU time of the process tree are printed: on a machine others share, CPU time moves far less.

Run: `python scripts/measure_dedup.py quality [--show] [--sweep]`,
`python scripts/measure_dedup.py speed [--rows 225000] [--repeat 2] [--chain BASE_COMMIT]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure_decontam
import perturb_heldout
import perturb_tuning

from curate import benchmarks
from curate.filters import Drop, FilterContext
from curate.filters.dedup import MinHashDedup, MinHashDedupParams
from curate.textnorm import mask_numbers, normalize

ROOT = Path(__file__).resolve().parents[1]
GENERATORS = {"tuning": perturb_tuning, "heldout": perturb_heldout}
HALVES = ("tuning", "held-out")
SCHEMES = {
    "minhash (old)": {"scheme": "minhash"},
    "verified": {"scheme": "verified"},
    "verified, numbers: ignore": {"scheme": "verified", "numbers": "ignore"},
    "verified, terms: ignore": {"scheme": "verified", "terms": "ignore"},
}
TERM_SWAPS = ROOT / "tests" / "data" / "term_swap_pairs.jsonl"
SHORT = (20, 60)
# A copy cut to 70-80% of its words: a truncation, not a small edit; reported on its own line.
CUT = "combined, cut short"
NOT_NEAR = ("numbers_changed", "other published wording", CUT)


def short(text: str) -> bool:
    return SHORT[0] <= len(text.split()) <= SHORT[1]


def build_cases(seed: int, generators: Sequence[str] = ("tuning", "heldout")) -> dict[str, Any]:
    """Rows (problem texts) with what each is: a distinct original, or a copy of one (family, generator)."""
    rows: list[str] = []
    kind: list[dict[str, Any]] = []
    seen: set[str] = set()

    def original(text: str, group: str, half: str) -> int | None:
        key = normalize(text)
        if not key or key in seen:
            return None
        seen.add(key)
        rows.append(text)
        kind.append({"original": True, "group": group, "half": half})
        return len(rows) - 1

    def copy(text: str, of: int, family: str, generator: str, group: str, half: str) -> None:
        rows.append(text)
        kind.append({"original": False, "of": of, "family": family, "generator": generator, "group": group, "half": half})

    sources: list[tuple[int, str, str, str]] = []  # (row, text, group, half)
    for name in benchmarks.NAMES:
        for half, items in measure_decontam.halves(benchmarks.canonical(name)).items():
            for item in items:
                row = original(item.problem, "benchmarks", half)
                if row is not None and short(item.problem):
                    sources.append((row, item.problem, "benchmarks", half))
                    for wording in benchmarks.variants(name):
                        if wording.id == item.id and normalize(wording.problem) != normalize(item.problem):
                            copy(wording.problem, row, "other published wording", "real", "benchmarks", half)
    for half, problems in measure_decontam.halves(measure_decontam.realdata_problems()).items():
        for problem in problems:
            row = original(problem, "real OpenR1", half)
            if row is not None and short(problem):
                sources.append((row, problem, "real OpenR1", half))
    for half, problems in measure_decontam.halves(measure_decontam.clean_problems(3000, seed)).items():
        for problem in problems:
            original(problem, "stock-phrase templates", half)
    for generator in generators:
        module = GENERATORS[generator]
        rng = random.Random(f"{seed}/dedup/{generator}")
        for row, text, group, half in sources:
            for family in (*perturb_heldout.DEDUP_FAMILIES, "numbers_changed"):
                if perturb_heldout.applies(family, text):
                    made = module.copy(family, text, rng)
                    renumbered_figure_only = family == "numbers_changed" and normalize(made) == normalize(text)
                    if made != text and not renumbered_figure_only:  # numbers of figure code are not read
                        copy(made, row, family, generator, group, half)
    return {"rows": rows, "kind": kind}


def run_scheme(rows: list[str], params: dict[str, Any], workers: int = 1) -> np.ndarray:
    """Cluster representative of every row under `minhash_dedup` with these parameters."""
    frame = pl.DataFrame(
        {
            "row_id": np.arange(len(rows), dtype=np.int64),
            "uuid": [f"r{i:07d}" for i in range(len(rows))],
            "problem": rows,
        }
    )
    f = MinHashDedup(MinHashDedupParams(prefer_correct=False, **params), FilterContext(workers=workers))
    verdicts = f.filter_all(frame)
    uuids = frame["uuid"].to_list()
    rep = [v.info["survivor"] if isinstance(v, Drop) else u for v, u in zip(verdicts, uuids)]
    return np.array([int(r[1:]) for r in rep])


def score(cases: dict[str, Any], rep: np.ndarray) -> dict[str, Any]:
    """Recall per (half, generator, family), renumbered copies merged, and false merges per (half, group)."""
    kind = cases["kind"]
    recall: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    merged_examples: list[str] = []
    for i, k in enumerate(kind):
        if k["original"]:
            continue
        together = rep[i] == rep[k["of"]]
        group = k["generator"] if k["group"] == "benchmarks" else f"{k['generator']} ({k['group']})"
        family = k["family"]
        if family == "combined" and measure_decontam.content_share(cases["rows"][i], cases["rows"][k["of"]]) < 0.9:
            family = CUT  # perturb_heldout's `combined` cuts the statement short half the time
        cell = recall[(k["half"], group, family)]
        cell[0] += together
        cell[1] += 1
        if together != (k["family"] != "numbers_changed"):
            merged_examples.append(f"{k['family']} {'merged' if together else 'missed'}: {cases['rows'][i][:150]!r}")
    clusters: dict[int, list[int]] = defaultdict(list)
    for i, k in enumerate(kind):
        if k["original"]:
            clusters[int(rep[i])].append(i)
    false: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    examples = []
    for members in clusters.values():
        masked = [mask_numbers(normalize(cases["rows"][i])) for i in members]
        for i, mine in zip(members, masked):
            cell = false[(kind[i]["half"], kind[i]["group"])]
            cell[0] += len(members) > 1
            cell[1] += 1
            cell[2] += masked.count(mine) > 1  # merged with a problem that differs only in its numbers
        if len(members) > 1:
            examples.append(" || ".join(repr(cases["rows"][i][:90]) for i in members[:3]))
    return {"recall": dict(recall), "false": dict(false), "examples": examples, "misses": merged_examples}


def quality(seed: int = 0, schemes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    cases = build_cases(seed)
    return {name: score(cases, run_scheme(cases["rows"], params)) for name, params in (schemes or SCHEMES).items()}


def term_swaps(params: dict[str, Any]) -> dict[tuple[str, str], list[int]]:
    """[pairs merged, pairs] per (label, half) of the hand-written term-swap pairs under these parameters."""
    pairs = [json.loads(line) for line in TERM_SWAPS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rep = run_scheme([text for pair in pairs for text in (pair["original"], pair["copy"])], params)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for k, pair in enumerate(pairs):
        cell = cells[(pair["label"], HALVES[k % 2])]
        cell[0] += int(rep[2 * k] == rep[2 * k + 1])
        cell[1] += 1
    return dict(cells)


def print_term_swaps() -> None:
    print(f"\n== hand-written term swaps ({TERM_SWAPS.relative_to(ROOT)}): share of pairs merged")
    print(f"{'scheme':<28}" + "".join(f"{f'{label}, {half}':>24}" for label in ("same", "distinct") for half in HALVES))
    for name, params in SCHEMES.items():
        cells = term_swaps(params)
        print(f"{name:<28}" + "".join(
            f"{f'{cells[(label, half)][0]}/{cells[(label, half)][1]} {cells[(label, half)][0] / cells[(label, half)][1]:.1%}':>24}"
            for label in ("same", "distinct") for half in HALVES
        ))


COLUMNS = {  # column: (generator groups it sums)
    "held-out generator": ("heldout",),
    "tuning generator": ("tuning",),
    "real OpenR1, copied": ("heldout (real OpenR1)", "tuning (real OpenR1)"),
    "real other wordings": ("real",),
}


def _cell(recall: dict[tuple[str, str, str], list[int]], half: str, groups: tuple[str, ...], family: str) -> str:
    hit = sum(recall.get((half, g, family), (0, 0))[0] for g in groups)
    total = sum(recall.get((half, g, family), (0, 0))[1] for g in groups)
    return f"{hit}/{total} {hit / total:.1%}" if total else "-"


def print_quality(results: dict[str, Any], show: bool = False) -> None:
    families = [*perturb_heldout.DEDUP_FAMILIES, CUT, "other published wording", "numbers_changed"]
    for name, result in results.items():
        recall = result["recall"]
        for half in HALVES:
            print(f"\n== {name}, {half} half: share of copies merged with their original")
            print(f"{'family':<26}" + "".join(f"{c:>24}" for c in COLUMNS))
            for family in families:
                cells = [_cell(recall, half, groups, family) for groups in COLUMNS.values()]
                if any(c != "-" for c in cells):
                    print(f"{family:<26}" + "".join(f"{c:>24}" for c in cells))
            near = [v for (h, _, f), v in recall.items() if h == half and f not in NOT_NEAR]
            hit, total = sum(v[0] for v in near), sum(v[1] for v in near)
            real = [v for (h, g), v in result["false"].items() if h == half and g != "stock-phrase templates"]
            flagged, distinct = sum(v[0] for v in real), sum(v[1] for v in real)
            tmpl = result["false"].get((half, "stock-phrase templates"), [0, 0, 0])
            print(
                f"{half} half: near-duplicate recall {hit}/{total} {hit / total:.2%}; real distinct problems "
                f"merged {flagged}/{distinct} {flagged / distinct:.2%}; template problems merged {tmpl[0]}/{tmpl[1]} "
                f"{tmpl[0] / max(tmpl[1], 1):.2%}, of them with one differing only in its numbers: {tmpl[2]}"
            )
        if show:
            for line in result["misses"][:200]:
                print("  ", line)
            for line in result["examples"][:50]:
                print("   merged:", line)


def sweep(seed: int) -> None:
    """The verified scheme's threshold, on the tuning half with the tuning generator only."""
    cases = build_cases(seed, generators=("tuning",))
    for threshold in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8):
        result = score(cases, run_scheme(cases["rows"], {"scheme": "verified", "threshold": threshold}))
        tuned = {f: v for (h, g, f), v in result["recall"].items() if h == "tuning" and g == "tuning"}
        near = [v for f, v in tuned.items() if f not in NOT_NEAR]
        worst = min((v[0] / v[1], f) for f, v in tuned.items() if f not in NOT_NEAR)
        hit, total = sum(v[0] for v in near), sum(v[1] for v in near)
        real = [v for (h, g), v in result["false"].items() if h == "tuning" and g != "stock-phrase templates"]
        tmpl = result["false"].get(("tuning", "stock-phrase templates"), [0, 0, 0])
        print(
            f"threshold {threshold}: recall {hit / total:.2%} (worst {worst[1]} {worst[0]:.1%}), real distinct "
            f"merged {sum(v[0] for v in real)}/{sum(v[1] for v in real)}, templates merged {tmpl[0]}/{tmpl[1]} "
            f"(numbers only: {tmpl[2]})"
        )


# --------------------------------------------------------------------------------------------------- speed


def _recipe(path: Path, filters: str) -> Path:
    path.write_text(f"name: dedup-speed\nsource: {{sample: true}}\nfilters:\n{filters}output: {{dir: unused}}\n")
    return path


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the children it waited for) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _alone(recipe: Path, index: int, source: Path, workers: int, cwd: Path) -> tuple[float, float, float]:
    """One step of a recipe alone over every row (`curate bench`'s per-filter mode), in the code of `cwd`:
    (step seconds as the child reports them, wall seconds and CPU seconds of the child process tree)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {**os.environ, "PYTHONPATH": str(cwd)}
        command = [sys.executable, "-m", "curate.bench.child", "filter", str(recipe), str(index), str(source),
                   str(workers), out.name]
        wall, cpu = _timed(command, cwd, env)
        return float(json.loads(Path(out.name).read_text())["seconds"]), wall, cpu


def _report(label: str, runs: list[tuple[float, ...]]) -> None:
    columns = list(zip(*runs))
    cells = ", ".join(f"{name} best {min(values):.1f} s ({' / '.join(f'{v:.1f}' for v in values)})"
                      for name, values in zip(("step", "wall", "CPU"), columns) if values)
    print(f"{label}: {cells}")


def speed(rows: int, repeat: int, workers: int, chain: str | None) -> None:
    """Old and new side by side, alternating, in one run: the two dedup schemes alone; with `chain`, the
    decontamination step alone and the whole 45K recipe, in the code of `chain` and in this tree."""
    from curate.bench.corpus import ensure_corpus

    corpus = ensure_corpus(rows, 0, workers)
    print(f"corpus: {corpus.path} ({corpus.rows:,} rows), {workers} workers, {repeat} alternating repeats")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        old = _recipe(tmp / "old.yaml", "  - minhash_dedup: {scheme: minhash, threshold: 0.8, ngram: 5}\n")
        new = _recipe(tmp / "new.yaml", "  - minhash_dedup: {scheme: verified, threshold: 0.6, ngram: 3}\n")
        times: dict[str, list[tuple[float, ...]]] = defaultdict(list)
        for _ in range(repeat):
            times["minhash_dedup, scheme minhash (old)"].append(_alone(old, 0, corpus.path, workers, ROOT))
            times["minhash_dedup, scheme verified"].append(_alone(new, 0, corpus.path, workers, ROOT))
        for label, runs in times.items():
            _report(label, runs)
        if not chain:
            return
        worktree = tmp / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), chain], check=True, cwd=ROOT,
                       capture_output=True)
        try:
            trees = ((f"base {chain[:10]}", worktree), ("this tree", ROOT))
            step = _recipe(tmp / "decontam.yaml", "  - decontaminate: {}\n")
            times.clear()
            for _ in range(repeat):
                for label, cwd in trees:
                    times[f"decontaminate, {label}"].append(_alone(step, 0, corpus.path, workers, cwd))
            for label, runs in times.items():
                _report(label, runs)
            times.clear()
            for k in range(repeat):
                for label, cwd in trees:
                    run = f"{k}-{label.split()[0]}"
                    out = tmp / f"out-{run}"
                    # a fresh cache for every run: no step result or verdict carries over
                    env = {**os.environ, "PYTHONPATH": str(cwd), "CURATE_CACHE": str(tmp / f"cache-{run}"),
                           "CURATE_PROGRESS": "0"}
                    command = [sys.executable, "-m", "curate.cli", "run", str(cwd / "recipes" / "openr1-math-45k.yaml"),
                               "--source", str(corpus.path), "--out", str(out), "--no-cache", "--allow-smaller",
                               "--workers", str(workers)]
                    wall, cpu = _timed(command, cwd, env)
                    times[f"45K recipe, {label}"].append((wall, cpu))
                    stats = json.loads((out / "stats.json").read_text())
                    steps = {s["filter"]: s.get("seconds") for s in stats["funnel"]}
                    print(f"45K recipe, {label}: wall {wall:.1f} s, CPU {cpu:.1f} s (minhash_dedup "
                          f"{steps.get('minhash_dedup')} s, decontaminate {steps.get('decontaminate')} s, "
                          f"train {stats['rows']['train']:,}, pool {stats['rows']['pool']:,})")
            for label, runs in times.items():
                walls, cpus = zip(*runs)
                print(f"{label}: wall best {min(walls):.1f} s ({' / '.join(f'{v:.1f}' for v in walls)}), "
                      f"CPU best {min(cpus):.1f} s ({' / '.join(f'{v:.1f}' for v in cpus)})")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["quality", "speed"], nargs="?", default="quality")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", action="store_true", help="list misses and merged distinct problems")
    parser.add_argument("--sweep", action="store_true", help="try thresholds on the tuning half")
    parser.add_argument("--rows", type=int, default=225_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chain", help="also time the 45K recipe end to end at this commit and on this tree")
    args = parser.parse_args(argv)
    if args.what == "speed":
        speed(args.rows, args.repeat, args.workers, args.chain)
    elif args.sweep:
        sweep(args.seed)
    else:
        print_quality(quality(args.seed), args.show)
        print_term_swaps()
    return 0


if __name__ == "__main__":
    sys.exit(main())
