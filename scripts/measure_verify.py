"""Answer verification: throughput of the `Verifier` pool against math-verify in-process, and agreement of
`reverify` verdicts with known labels.

Throughput, on two workloads of distinct (gold, extracted answer) pairs:
- `short`: answers shaped like most of OpenR1's (integers, AIME-style zero padding, simple fractions and
  decimals, option letters), each gold with equivalent and wrong predictions;
- `latex`: the 500 MATH-500 answers (intervals, matrices, sets, radicals, expressions), each with the same
  kinds of predictions.
Methods, each timed in a fresh process (sympy's global cache would otherwise let a later method reuse an
earlier one's work): `mathverify` (parse the `$`-wrapped gold and the `\\boxed` prediction, then `verify`,
math-verify's own SIGALRM timeouts on: what a single-process script does), `judge` (our per-item work in
process, no worker processes, in the Verifier's gold-grouped order), `verifier-N` (the pool with N workers, no
cache). Reported: items/s of wall time (best of `--repeats` interleaved rounds); CPU ms per item (parent plus
workers, read from /proc), which a busy machine inflates far less than wall time; and "cores busy" = CPU
seconds / wall seconds. A pool whose workers never wait on the parent keeps one core busy per worker (1.00
for `verifier-1`): where `verifier-N` shows fewer than N, other processes held the cores, not the pool.

Agreement: labelled pairs built from the bundled benchmark answers (AIME, AMC, MATH-500) and the final answers
of tests/data (the real-data file), with predictions that are equivalent by construction (label correct: reformatted,
reordered sets, `\\dfrac`, decimals, zero padding, units, option letters in another wrapper...) or perturbed
(label wrong: off by one, sign, other option, extra term, swapped pair). Reported: agreement, recall on the
correct ones and specificity on the wrong ones, per construction. Also the 12 complete traces of
tests/data (the real-data file) against that repository's own grading.

    python scripts/measure_verify.py [--repeats 3] [--workers 2] [--skip-throughput] [--skip-agreement] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from curate.mathcheck import Verifier, extract_boxed

BENCHMARKS = Path(__file__).resolve().parents[1] / "curate" / "data" / "benchmarks"
REALDATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "openr1_problems_with_regenerations.jsonl"
_INT = re.compile(r"-?\d+")
_FRAC = re.compile(r"(-?)\\frac\{(\d+)\}\{(\d+)\}")
_THOUSANDS = re.compile(r"\d,(?:\\!)?\s*\d{3}(?!\d)")  # 10,\!080: one number, not a list


def benchmark_answers(name: str) -> list[str]:
    path = BENCHMARKS / f"{name}.jsonl"
    return [
        json.loads(line)["answer"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def realdata_golds(path: Path) -> list[str]:
    """The dataset-side final answers of tests/data (the real-data file) (the boxed answer its solutions end with)."""
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    golds = [extract_boxed(row["original_assistant_content"], after_think=False) for row in rows]
    return [g for g in golds if g]


# ------------------------------------------------------------------------------------ labelled predictions


def _decimal(numerator: int, denominator: int) -> str | None:
    """The exact terminating decimal of a fraction, if it has one of at most 6 places."""
    for places in range(7):
        scaled = numerator * 10**places
        if scaled % denominator == 0:
            value = scaled // denominator
            if places == 0:
                return str(value)
            sign, digits = ("-", str(-value)) if value < 0 else ("", str(value))
            digits = digits.rjust(places + 1, "0")
            return f"{sign}{digits[:-places]}.{digits[-places:]}"
    return None


def equivalents(gold: str) -> dict[str, str]:
    """Predictions equal to `gold` by construction, by the name of the construction."""
    out = {"identical": gold}
    squeezed = "".join(gold.split())
    if squeezed != gold:
        out["no_spaces"] = squeezed
    spaced = re.sub(r"\s*([=+<>])\s*", r" \1 ", gold).strip()
    if not _THOUSANDS.search(gold):
        spaced = re.sub(r"\s*,\s*", " , ", spaced)
    if spaced != gold:
        out["spaces"] = spaced
    if "\\frac" in gold:
        out["dfrac"] = gold.replace("\\frac", "\\dfrac")
    if _INT.fullmatch(gold):
        n = int(gold)
        out["trailing_zero"] = f"{n}.0"
        out["degrees"] = f"{n}^\\circ"
        out["units"] = f"{n} \\text{{ cm}}"
        out["assignment"] = f"x = {n}"
        if 0 <= n < 1000:
            out["zero_padded"] = f"{n:03d}"
        if n >= 10_000:
            out["thousands_sep"] = f"{n:,}"
    fraction = _FRAC.fullmatch(squeezed)
    if fraction:
        sign, a, b = fraction.group(1), int(fraction.group(2)), int(fraction.group(3))
        out["slash"] = f"{sign}{a}/{b}"
        decimal = _decimal(-a if sign else a, b)
        if decimal is not None:
            out["decimal"] = decimal
        out["scaled"] = f"{sign}\\frac{{{2 * a}}}{{{2 * b}}}"
    if re.fullmatch(r"[A-E]", gold):
        out["choice_paren"] = f"({gold})"
        out["choice_text"] = f"\\text{{({gold})}}"
        out["choice_textbf"] = f"\\textbf{{({gold})}}"
    if "\\sqrt{" in gold:
        simple = re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", gold)
        if simple != gold:
            out["sqrt_short"] = simple
    if gold[:1] in "([" and gold[-1:] in ")]" and "\\left" not in gold:
        out["left_right"] = f"\\left{gold[0]}{gold[1:-1]}\\right{gold[-1]}"
    interval = re.fullmatch(r"(\\left)?[(\[][^,()\[\]]+,[^,()\[\]]+(\\right)?[)\]]", squeezed)
    if interval and ("\\infty" in gold or gold[0] != gold[-1]):
        out["in_interval"] = f"x \\in {gold}"
    terms = re.fullmatch(r"([^+{}()=]+)\+([^+{}()=]+)", squeezed)
    if terms and not terms.group(2).startswith("-"):
        out["commuted_sum"] = f"{terms.group(2)}+{terms.group(1)}"
    radical = re.fullmatch(r"(\d+)\\sqrt\{(\d+)\}", squeezed)
    if radical:
        out["sqrt_absorbed"] = f"\\sqrt{{{int(radical.group(1)) ** 2 * int(radical.group(2))}}}"
    parts = [p.strip() for p in gold.split(",")]
    if (
        len(parts) > 1
        and not re.search(r"[()\[\]{}]", gold)
        and "=" not in gold
        and not _THOUSANDS.search(gold)
    ):
        out["reordered_list"] = ", ".join(reversed(parts))
    return out


def perturbations(gold: str) -> dict[str, str]:
    """Predictions different from `gold` by construction."""
    out: dict[str, str] = {}
    if _INT.fullmatch(gold):
        n = int(gold)
        out["off_by_one"] = str(n + 1)
        if n != 0:
            out["sign"] = str(-n)
        out["times_ten"] = str(n * 10)
    fraction = _FRAC.fullmatch("".join(gold.split()))
    if fraction:
        sign, a, b = fraction.group(1), int(fraction.group(2)), int(fraction.group(3))
        out["numerator"] = f"{sign}\\frac{{{a + 1}}}{{{b}}}"
        out["reciprocal"] = f"{sign}\\frac{{{b}}}{{{a}}}" if a != b else f"{sign}\\frac{{{a}}}{{{b + 1}}}"
    if re.fullmatch(r"[A-E]", gold):
        out["other_choice"] = "ABCDE"[("ABCDE".index(gold) + 1) % 5]
    if not out:
        # An element no answer here holds: sets absorb duplicates, so `1,2` plus `1` would still be `1,2`.
        out["extra_term"] = f"{gold}+1" if "=" not in gold and "," not in gold else f"{gold},7919"
    interval = re.fullmatch(r"([(\[])([^,()\[\]]+,[^,()\[\]]+[)\]])", gold)
    if interval and "\\infty" not in interval.group(2).split(",")[0]:
        out["bracket_type"] = ("[" if interval.group(1) == "(" else "(") + interval.group(2)
    pair = re.fullmatch(r"\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)", gold)
    if pair and pair.group(1) != pair.group(2):
        out["swapped_pair"] = f"({pair.group(2)}, {pair.group(1)})"
    return out


def labelled_pairs(golds: list[str]) -> list[tuple[str, str, bool, str]]:
    """(gold, prediction, label, construction), without duplicates."""
    seen: set[tuple[str, str]] = set()
    out = []
    for gold in golds:
        for label, made in ((True, equivalents(gold)), (False, perturbations(gold))):
            for kind, pred in made.items():
                if (gold, pred) not in seen:
                    seen.add((gold, pred))
                    out.append((gold, pred, label, kind))
    return out


# -------------------------------------------------------------------------------------------- throughput


def workload(name: str) -> list[tuple[str, str]]:
    if name == "short":
        golds = [
            g
            for b in ("aime2024", "aime2025", "aime2026", "amc22", "amc23", "amc24")
            for g in benchmark_answers(b)
        ]
        golds += [str(n) for n in range(1000, 1400)] + [f"\\frac{{{a}}}{{{a + 3}}}" for a in range(1, 120)]
        golds += list("ABCDE")
    else:
        golds = benchmark_answers("math500")
    pairs = [(g, p) for g, p, _, _ in labelled_pairs(list(dict.fromkeys(golds)))]
    return pairs


def throughput(repeats: int, workers: int) -> dict[str, Any]:
    """Each method timed by `curate bench`'s own child (`curate.bench.child.verify_method`), in a fresh
    process per pass, best of `repeats` interleaved rounds."""
    methods = list(dict.fromkeys(["mathverify", "judge", "verifier-1", f"verifier-{workers}"]))
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="measure-verify-") as scratch:
        for name in ("short", "latex"):
            pairs = Path(scratch) / f"{name}.json"
            pairs.write_text(json.dumps(workload(name)))
            best: dict[str, dict[str, Any]] = {}
            for _ in range(repeats):
                for method in methods:
                    result_file = Path(scratch) / f"{name}-{method}.json"
                    command = [sys.executable, "-m", "curate.bench.child", "verify", method, str(pairs), str(result_file)]
                    subprocess.run(command, check=True, capture_output=True, text=True)
                    result = json.loads(result_file.read_text())
                    if result.get("restarts"):
                        raise SystemExit(f"{method}: a worker was restarted, so the timing includes a timeout")
                    if method not in best or result["wall_s"] < best[method]["wall_s"]:
                        best[method] = result
            for result in best.values():
                result["items_per_s"] = result["items"] / result["wall_s"]
                result["cpu_ms_per_item"] = 1000 * result["cpu_s"] / result["items"]
                result["cores_busy"] = result["cpu_s"] / result["wall_s"]
            pool = best[f"verifier-{workers}"]
            out[name] = {
                "methods": best,
                "speedup_vs_mathverify": pool["items_per_s"] / best["mathverify"]["items_per_s"],
                "scaling_1_to_n_workers": pool["items_per_s"] / best["verifier-1"]["items_per_s"],
                "pool_cpu_overhead_vs_judge": best["verifier-1"]["cpu_s"] / best["judge"]["cpu_s"] - 1,
            }
    return out


# --------------------------------------------------------------------------------------------- agreement


def agreement(workers: int) -> dict[str, Any]:
    golds = [
        g
        for b in ("aime2024", "aime2025", "aime2026", "amc22", "amc23", "amc24", "math500")
        for g in benchmark_answers(b)
    ]
    golds += realdata_golds(REALDATA)
    golds = list(dict.fromkeys(golds))
    pairs = labelled_pairs(golds)
    with Verifier(workers=workers, timeout=5.0) as verifier:
        results = verifier.verify_many([(g, p) for g, p, _, _ in pairs])
    per_kind: dict[str, Counter] = defaultdict(Counter)
    misses = []
    for (gold, pred, label, kind), result in zip(pairs, results):
        agreed = result.ok == label
        per_kind[f"{'correct' if label else 'wrong'}:{kind}"]["agree" if agreed else "disagree"] += 1
        if not agreed:
            misses.append({"gold": gold, "pred": pred, "label": label, "kind": kind, "status": result.status})
    positives = [(r.ok, label) for (_, _, label, _), r in zip(pairs, results) if label]
    negatives = [(r.ok, label) for (_, _, label, _), r in zip(pairs, results) if not label]
    report: dict[str, Any] = {
        "golds": len(golds),
        "pairs": len(pairs),
        "agreement": sum(r.ok == p[2] for p, r in zip(pairs, results)) / len(pairs),
        "recall_on_equivalent": sum(ok for ok, _ in positives) / len(positives),
        "specificity_on_perturbed": sum(not ok for ok, _ in negatives) / len(negatives),
        "statuses": dict(Counter(r.status for r in results)),
        "per_construction": {k: dict(v) for k, v in sorted(per_kind.items())},
        "disagreements": misses,
    }
    if REALDATA.exists():
        rows = [
            json.loads(line) for line in REALDATA.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        complete = [r for r in rows if "</think>" in r["regenerated_content"]]
        checks = [
            (
                extract_boxed(r["original_assistant_content"], after_think=False) or "",
                extract_boxed(r["regenerated_content"]),
            )
            for r in complete
        ]
        with Verifier(workers=workers, timeout=5.0) as verifier:
            verdicts = verifier.verify_many(checks)
        report["realdata_complete_traces"] = {
            "traces": len(complete),
            "agree_with_their_grading": sum(
                v.ok == (r["evaluation_score"] == 1.0) for v, r in zip(verdicts, complete)
            ),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-agreement", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_implementation()} {platform.python_version()}",
        "load_average_before": os.getloadavg(),
    }
    if not args.skip_throughput:
        report["throughput"] = throughput(args.repeats, args.workers)
        for name, block in report["throughput"].items():
            print(f"\n{name} pairs ({block['methods']['mathverify']['items']} distinct):")
            print(f"  {'method':<14}{'items/s':>10}{'cores busy':>12}{'CPU ms/item':>14}")
            for method, result in block["methods"].items():
                print(
                    f"  {method:<14}{result['items_per_s']:>10.0f}{result['cores_busy']:>12.2f}"
                    f"{result['cpu_ms_per_item']:>14.3f}"
                )
            print(
                f"  pool vs math-verify in-process: {block['speedup_vs_mathverify']:.2f}x; "
                f"1 -> {args.workers} workers: {block['scaling_1_to_n_workers']:.2f}x; "
                f"pool CPU overhead vs in-process judge: {100 * block['pool_cpu_overhead_vs_judge']:+.1f}%"
            )
    if not args.skip_agreement:
        block = agreement(args.workers)
        report["agreement"] = block
        print(
            f"\nagreement on {block['pairs']} labelled pairs from {block['golds']} golds: {100 * block['agreement']:.2f}% "
            f"(recall on equivalent forms {100 * block['recall_on_equivalent']:.2f}%, "
            f"specificity on perturbed {100 * block['specificity_on_perturbed']:.2f}%)"
        )
        for miss in block["disagreements"]:
            print(f"  disagree: {miss}")
        if "realdata_complete_traces" in block:
            real = block["realdata_complete_traces"]
            print(
                f"realdata: {real['agree_with_their_grading']}/{real['traces']} complete traces agree with their grading"
            )
    report["load_average_after"] = os.getloadavg()
    print(f"\nload average before {report['load_average_before']}, after {report['load_average_after']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
