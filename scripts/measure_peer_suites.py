"""Run the test cases of math-verify's and open-r1's own suites through curate's two judging paths.

The cases (`tests/data/peer_verify_cases.jsonl`, made by `scripts/extract_peer_cases.py`; provenance in
`tests/data/PROVENANCE.md`) are (gold, prediction, expected) triples. Each goes through:

- `math-verify 0.9.0`: the peer's own call as its test makes it (`compare_strings` with the test's match types,
  precision, strictness and set-relation option; `verify(parse(gold), parse(pred))`; open-r1's
  `accuracy_reward` configuration), on the installed math-verify: the suites were written against their
  repository's head, so a few expectations no longer hold for the release curate pins;
- `answer_verify`: the filter, on a generation `<think>…</think>` followed by the prediction, with the case's
  gold as the row's `answer`;
- `eval score`: `curate eval score`'s judge (`judge_records`, math-verify judge) on the same completion.

curate judges the final boxed answer of a long-think generation, so a prediction with no `\\boxed{}` has no
answer for it. The "boxed" view boxes such predictions when they are a single formula (delimiters and
nothing else around it), so that what is compared is the judging, not the extraction; predictions with free
text around their formula keep no answer.

Every case where curate's verdict differs from the suite's expectation gets a reason (`difference`), one of
`REASONS`; a difference with no reason is a bug, and the test suite fails on it
(`tests/filters/test_verify.py::test_peer_suites_through_answer_verify`).

Run: `python scripts/measure_peer_suites.py [--show]` (`--show` lists every difference with its reason).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "peer_verify_cases.jsonl"
THINK = "<think>\nLet me solve it.\n</think>\n\n"

# Why curate's verdict may differ from a peer suite's expectation, intentionally.
REASONS = {
    "no_box": "the prediction boxes nothing: curate judges only a boxed final answer after </think>, math-verify "
    "extracts any formula or number from free text",
    "free_text": "the prediction is a formula inside free text: in the boxed view it is still not a final answer",
    "options": "the suite's test calls math-verify with options curate does not use (expression-only "
    "extraction, another rounding precision, non-strict variables, set-relation comparison)",
    "upstream": "math-verify 0.9.0, called exactly as the suite's test calls it, gives curate's verdict too: the "
    "suite's expectation is for its repository's later code",
    "gold_wrapping": "the gold is read as a dataset answer (wrapped in $...$, else boxed): a gold that is free "
    "text or a whole generation is not what a dataset's `answer` holds",
    "final_answer_text": "the prediction states its answer in words after its last box (\"The final answer is "
    "...\"): math-verify reads that phrase first, curate the last box",
    "single_gold_last_box": "the gold has one part and the prediction several boxes: curate judges the last box, "
    "math-verify joins them",
    "choice": "a bare option letter is never equal to a value (curate's choice rule)",
}


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------ the peer's call


def peer_verdict(case: dict[str, Any]) -> bool:
    """The case as its own test calls math-verify (on the installed math-verify)."""
    from latex2sympy2_extended import NormalizationConfig
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    options = case["options"]
    gold, pred = case["gold"], case["prediction"]
    if options["call"] == "compare_strings":
        configs: list[Any] = []
        for kind in options["match_types"]:
            configs.append(LatexExtractionConfig(boxed_match_priority=0) if kind == "latex" else ExprExtractionConfig())
        return bool(
            verify(
                parse(gold, configs),
                parse(pred, configs),
                float_rounding=options["precision"],
                strict=options["strict"],
                allow_set_relation_comp=options["allow_set_relation_comp"],
            )
        )
    if options["call"] == "accuracy_reward":
        gold_parsed = parse(gold, extraction_mode="first_match")
        config = LatexExtractionConfig(
            normalization_config=NormalizationConfig(
                nits=False, malformed_operators=False, basic_latex=True, equations=True, boxed="all", units=True
            ),
            boxed_match_priority=0,
            try_extract_without_anchor=False,
        )
        return bool(gold_parsed) and bool(verify(gold_parsed, parse(pred, [config], extraction_mode="first_match")))
    return bool(verify(parse(gold), parse(pred)))


# -------------------------------------------------------------------------------------------- curate's view

_DELIMITED = re.compile(r"^\s*(\$\$|\$|\\\(|\\\[)(.*?)(\$\$|\$|\\\)|\\\])\s*\.?\s*$", re.DOTALL)
_PAIRS = {"$$": "$$", "$": "$", "\\(": "\\)", "\\[": "\\]"}


def boxed_view(prediction: str) -> str | None:
    """The prediction with its formula boxed, when it is a single formula and boxes nothing; None when it is
    free text around a formula (nothing to box without choosing for the model)."""
    if "\\boxed" in prediction or "\\fbox" in prediction:
        return prediction
    match = _DELIMITED.match(prediction)
    if match and _PAIRS[match.group(1)] == match.group(3) and "$" not in match.group(2):
        return f"\\boxed{{{match.group(2).strip()}}}"
    if "$" in prediction or "\\(" in prediction or "\\[" in prediction or re.search(r"[A-Za-z]{3,}", prediction):
        return None
    return f"\\boxed{{{prediction.strip()}}}"


def completion(prediction: str | None) -> str:
    return THINK + (prediction if prediction is not None else "")


def through_answer_verify(cases: Sequence[dict[str, Any]], predictions: Sequence[str | None]) -> list[str]:
    """Each case's verdict from the `answer_verify` filter: "correct" or its drop reason."""
    from filters import Drop, FilterContext, Trace
    from filters.verify import AnswerVerify, AnswerVerifyParams

    traces = [
        Trace(0, f"case-{k}", "", case["gold"], 0, completion(pred), True, "stop")
        for k, (case, pred) in enumerate(zip(cases, predictions))
    ]
    with tempfile.TemporaryDirectory() as cache:
        f = AnswerVerify(AnswerVerifyParams(timeout=10), FilterContext(cache_dir=cache, workers=2))
        try:
            verdicts = f.apply(traces)
        finally:
            f.close()
    return [v.reason if isinstance(v, Drop) else "correct" for v in verdicts]


def through_eval_score(cases: Sequence[dict[str, Any]], predictions: Sequence[str | None]) -> list[str]:
    """Each case's status from `curate eval score`'s math-verify judge (`judge_records`)."""
    from curate.evaluate.scoring import judge_records

    records = [
        {"id": k, "dataset": "peer", "answer": case["gold"], "completions": [completion(pred)]}
        for k, (case, pred) in enumerate(zip(cases, predictions))
    ]
    with tempfile.TemporaryDirectory() as cache:
        import os

        previous = os.environ.get("CURATE_CACHE")
        os.environ["CURATE_CACHE"] = cache
        try:
            scored = judge_records(records, "math-verify", workers=2, timeout=10.0)
        finally:
            if previous is None:
                os.environ.pop("CURATE_CACHE")
            else:
                os.environ["CURATE_CACHE"] = previous
    return [record["judge_status"][0] for record in scored]


# ------------------------------------------------------------------------------------------------- reasons


def difference(case: dict[str, Any], peer_now: bool, prediction: str | None, correct: bool) -> str | None:
    """Why curate's verdict (`correct`) differs from the suite's expectation; None when it does not."""
    from curate.mathcheck import extract_boxed, gold_parts, parse_choice

    if correct == case["expected"]:
        return None
    if peer_now == correct:
        return "upstream"
    if prediction is None:
        return "free_text"
    if extract_boxed(completion(prediction)) is None:
        return "no_box"
    options = case["options"]
    if options.get("call") == "compare_strings" and (
        options["match_types"] != ["latex", "expr"]
        or options["precision"] != 6
        or not options["strict"]
        or options["allow_set_relation_comp"]
    ):
        return "options"
    tail = completion(prediction).split("</think>")[-1]
    if re.search(r"final answer", tail[tail.rfind("\\boxed") :], re.IGNORECASE):
        return "final_answer_text"
    if len(re.findall(r"\\boxed|\\fbox", tail)) > 1 and gold_parts(case["gold"]) < 2:
        return "single_gold_last_box"
    if parse_choice(case["gold"]) or parse_choice(extract_boxed(completion(prediction)) or ""):
        return "choice"
    gold = case["gold"]
    if re.search(r"[A-Za-z]{4,}", re.sub(r"\\[A-Za-z]+|\\text\{[^{}]*\}", "", gold)) or "\\boxed" in gold:
        return "gold_wrapping"
    return "unexplained"


def measure(cases: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Per suite and view: agreement of math-verify 0.9.0, `answer_verify` and `eval score` with the suite."""
    cases = list(cases if cases is not None else load_cases())
    peer_now = [peer_verdict(case) for case in cases]
    views = {"as given": [c["prediction"] for c in cases], "boxed": [boxed_view(c["prediction"]) for c in cases]}
    out: dict[str, Any] = {"cases": len(cases), "views": {}}
    for view, predictions in views.items():
        filtered = through_answer_verify(cases, predictions)
        scored = through_eval_score(cases, predictions)
        rows = []
        for case, now, pred, f_status, s_status in zip(cases, peer_now, predictions, filtered, scored):
            rows.append(
                {
                    "case": case,
                    "prediction": pred,
                    "math_verify": now,
                    "answer_verify": f_status,
                    "eval_score": s_status,
                    "difference": difference(case, now, pred, f_status == "correct"),
                    "paths_agree": (f_status == "correct") == (s_status == "correct"),
                }
            )
        out["views"][view] = rows
    return out


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Agreement counts per view and suite, and differences per reason."""
    table: dict[str, Any] = {}
    for view, rows in result["views"].items():
        per_suite: dict[str, Counter] = defaultdict(Counter)
        for row in rows:
            suite = row["case"]["repo"]
            counts = per_suite[suite]
            counts["cases"] += 1
            counts["math-verify 0.9.0"] += row["math_verify"] == row["case"]["expected"]
            counts["answer_verify"] += (row["answer_verify"] == "correct") == row["case"]["expected"]
            counts["eval score"] += (row["eval_score"] == "correct") == row["case"]["expected"]
            counts["paths agree"] += row["paths_agree"]
            if row["difference"]:
                counts[f"difference: {row['difference']}"] += 1
        table[view] = {suite: dict(counts) for suite, counts in per_suite.items()}
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list every difference with its reason")
    args = parser.parse_args(argv)
    result = measure()
    table = summary(result)
    for view, suites in table.items():
        print(f"\n== predictions {view}")
        for suite, counts in suites.items():
            n = counts["cases"]
            print(f"{suite}: {n} cases")
            for key in ("math-verify 0.9.0", "answer_verify", "eval score", "paths agree"):
                print(f"  {key:<22}{counts.get(key, 0):>5} / {n}  ({counts.get(key, 0) / n:.1%})")
            for key, count in sorted(counts.items()):
                if key.startswith("difference"):
                    print(f"  {key:<40}{count:>5}")
    if args.show:
        for view, rows in result["views"].items():
            for row in rows:
                if row["difference"]:
                    case = row["case"]
                    print(
                        f"[{view}] {row['difference']:<22} {case['path']}:{case['line']} expected={case['expected']} "
                        f"mv={row['math_verify']} curate={row['answer_verify']} gold={case['gold']!r} "
                        f"pred={row['prediction']!r}"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
