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

Everything goes through one `minhash_dedup` run per scheme (the filter's own `filter_all`): recall is the
share of copies in their original's cluster; a false merge is a distinct problem sharing a cluster with
another distinct problem. Benchmark problems are split by position into the tuning half (even) and the
held-out half (odd); the verified scheme's threshold was chosen on the tuning half with the tuning generator
(`--sweep`), the held-out half is reported with both generators.

Speed (`speed`): each dedup scheme alone on the `curate bench` corpus (`--rows`, default 225,000; generated
once into the curate cache), as `curate bench` times a filter (`python -m curate.bench.child filter`),
alternating old and new `--repeat` times in one run. `--chain COMMIT` also runs the whole 45K recipe on the
corpus with the code of COMMIT (checked out into a temporary git worktree) and with this tree, alternating,
so the two end-to-end times come from the same minutes of the same machine.

Run: `python scripts/measure_dedup.py quality [--show] [--sweep]`,
`python scripts/measure_dedup.py speed [--rows 225000] [--repeat 2] [--chain BASE_COMMIT]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from curate.textnorm import mask_numbers, normalize
from filters import Drop, FilterContext
from filters.dedup import MinHashDedup, MinHashDedupParams

ROOT = Path(__file__).resolve().parents[1]
GENERATORS = {"tuning": perturb_tuning, "heldout": perturb_heldout}
HALVES = ("tuning", "held-out")
SCHEMES = {
    "minhash (old)": {"scheme": "minhash"},
    "verified": {"scheme": "verified"},
    "verified, numbers: ignore": {"scheme": "verified", "numbers": "ignore"},
}
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


def print_quality(results: dict[str, Any], show: bool = False) -> None:
    for name, result in results.items():
        print(f"\n== {name}")
        groups = sorted({g for (_, g, _) in result["recall"]})
        families = [*perturb_heldout.DEDUP_FAMILIES, CUT, "other published wording", "numbers_changed"]
        print(f"{'family':<26}" + "".join(f"{h + ' / ' + g:>30}" for h in HALVES for g in groups))
        for family in families:
            cells = []
            for half in HALVES:
                for group in groups:
                    hit, total = result["recall"].get((half, group, family), (0, 0))
                    cells.append(f"{hit}/{total} {hit / total:.1%}" if total else "-")
            if any(c != "-" for c in cells):
                print(f"{family:<26}" + "".join(f"{c:>30}" for c in cells))
        for half in HALVES:
            near = [v for (h, _, f), v in result["recall"].items() if h == half and f not in NOT_NEAR]
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


def _child(recipe: Path, index: int, source: Path, workers: int, cwd: Path, python: str) -> float:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {**os.environ, "PYTHONPATH": str(cwd)}
        subprocess.run(
            [python, "-m", "curate.bench.child", "filter", str(recipe), str(index), str(source), str(workers), out.name],
            check=True,
            cwd=cwd,
            env=env,
        )
        return float(json.loads(Path(out.name).read_text())["seconds"])


def speed(rows: int, repeat: int, workers: int, chain: str | None) -> None:
    from curate.bench.corpus import ensure_corpus

    corpus = ensure_corpus(rows, 0, workers)
    print(f"corpus: {corpus.path} ({corpus.rows:,} rows)")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        recipes = {
            "minhash (old)": _recipe(tmp / "old.yaml", "  - minhash_dedup: {scheme: minhash, threshold: 0.8}\n"),
            "verified": _recipe(tmp / "new.yaml", "  - minhash_dedup: {}\n"),
        }
        times: dict[str, list[float]] = defaultdict(list)
        for _ in range(repeat):
            for name, recipe in recipes.items():
                times[name].append(_child(recipe, 0, corpus.path, workers, ROOT, sys.executable))
        for name, values in times.items():
            print(f"minhash_dedup {name}: best {min(values):.2f} s of {', '.join(f'{v:.2f}' for v in values)}")
        if chain:
            worktree = tmp / "base"
            subprocess.run(["git", "worktree", "add", "--detach", str(worktree), chain], check=True, cwd=ROOT,
                           capture_output=True)
            try:
                chain_times: dict[str, list[float]] = defaultdict(list)
                for _ in range(repeat):
                    for label, cwd in ((f"base {chain[:10]}", worktree), ("this tree", ROOT)):
                        out = tmp / f"out-{len(chain_times[label])}-{label.split()[0]}"
                        env = {**os.environ, "PYTHONPATH": str(cwd), "CURATE_CACHE": str(tmp / "cache"),
                               "CURATE_PROGRESS": "0"}
                        started = time.perf_counter()
                        subprocess.run(
                            [sys.executable, "-m", "curate.cli", "run", str(ROOT / "recipes" / "openr1-math-45k.yaml"),
                             "--source", str(corpus.path), "--out", str(out), "--no-cache", "--allow-smaller",
                             "--workers", str(workers)],
                            check=True, cwd=cwd, env=env, capture_output=True,
                        )
                        chain_times[label].append(time.perf_counter() - started)
                        stats = json.loads((out / "stats.json").read_text())
                        steps = {s["filter"]: s.get("seconds") for s in stats["funnel"]}
                        print(f"45K recipe, {label}: {chain_times[label][-1]:.1f} s "
                              f"(minhash_dedup {steps.get('minhash_dedup')} s, decontaminate {steps.get('decontaminate')} s, "
                              f"train {stats['rows']['train']})")
                for label, values in chain_times.items():
                    print(f"45K recipe {label}: best {min(values):.1f} s of {', '.join(f'{v:.1f}' for v in values)}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
