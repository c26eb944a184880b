"""`answer_verify` on planted generations whose right verdict is known, alone and from a recipe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.recipe import load_recipe
from filters import KEEP, Drop, FilterContext, Keep, Trace
from filters.verify import AnswerVerify, AnswerVerifyParams, dataset_label
from tests import openr1_rows as rows
from tests import scripts

TOWER = "2^{2^{2^{2^{2^{2}}}}}"


def gen(answer_tex: str | None, reasoning: str = "Compute carefully.") -> str:
    tail = f"The answer is $\\boxed{{{answer_tex}}}$." if answer_tex is not None else "I give up."
    return f"<think>\n{reasoning}\n</think>\n\n{tail}"


def trace(
    text: str,
    answer: str,
    *,
    mv: bool | None = None,
    llama: bool | None = None,
    index: int = 0,
    uuid: str = "u",
) -> Trace:
    return Trace(
        row_id=0,
        uuid=uuid,
        problem="Find it.",
        answer=answer,
        index=index,
        text=text,
        is_reasoning_complete=True,
        finish_reason="stop",
        correctness_math_verify=mv,
        correctness_llama=llama,
    )


def verdicts(f: AnswerVerify, traces: list[Trace]) -> list[str]:
    """ "keep" or the drop reason of each trace."""
    return ["keep" if isinstance(v, Keep) else v.reason for v in f.apply(traces)]


@pytest.fixture
def make(tmp_path: Path) -> Iterator:
    made: list[AnswerVerify] = []

    def build(**params: object) -> AnswerVerify:
        f = AnswerVerify(AnswerVerifyParams(**params), FilterContext(cache_dir=str(tmp_path), workers=2))
        f.setup()
        made.append(f)
        return f

    yield build
    for f in made:
        f.close()


def test_reverify_judges_the_boxed_answer_not_the_labels(make) -> None:
    f = make()
    planted = [
        (trace(gen("0.5"), "\\frac{1}{2}", mv=False), "keep"),  # the label is wrong: equivalent form
        (trace(gen("\\frac{1}{3}"), "\\frac{1}{2}", mv=True), "wrong_answer"),  # the label is wrong again
        (trace(gen("25"), "025"), "keep"),
        (trace(gen(None), "7", mv=True), "no_boxed"),
        (trace("<think>\nso \\boxed{7}\n</think>\n\nSeven.", "7"), "no_boxed"),  # boxed only while thinking
        (trace("<think>\nso \\boxed{7} and on and on", "7", mv=True), "no_boxed"),  # truncated
        (trace(gen("6} \\quad \\text{and} \\quad \\boxed{5"), "6", mv=True), "wrong_answer"),  # two boxes
        (trace(gen("D"), "10", llama=True), "wrong_answer"),  # an option letter against a full answer
        (trace(gen("\\textbf{(C)}\\ 12"), "12"), "keep"),
        (trace(gen("B"), "\\text{(B)}"), "keep"),
        (trace(gen("x"), ""), "gold_unparsable"),
        (trace(gen(""), "4"), "pred_unparsable"),
    ]
    assert verdicts(f, [t for t, _ in planted]) == [expected for _, expected in planted]
    assert f.stats.seen == len(planted) and f.stats.kept == 4


def test_drop_detail_names_both_answers(make) -> None:
    f = make()
    long_gold = "1+" * 80 + "1"
    [drop] = f.apply([trace(gen("42"), long_gold, index=3)])
    assert isinstance(drop, Drop) and drop.reason == "wrong_answer"
    assert drop.detail.startswith("generation 3: boxed '42' vs answer '1+1+")
    assert "…" in drop.detail and len(drop.detail) < 200
    assert drop.info == {"generation": 3, "extracted": "42", "gold": long_gold, "status": "wrong"}


def test_timeout_is_a_reason_not_a_stuck_run(make) -> None:
    f = make(timeout=1.0)
    assert verdicts(f, [trace(gen(TOWER), "3"), trace(gen("3"), "3")]) == ["verify_timeout", "keep"]


def test_trust_labels_reads_no_text(make) -> None:
    f = make(mode="trust_labels")
    planted = [
        (trace(gen(None), "1", mv=True), "keep"),  # not even an answer: the label decides
        (trace(gen("1"), "1", mv=False, llama=True), "keep"),  # the Llama judge recovered it
        (trace(gen("1"), "1", mv=False, llama=False), "label_false"),
        (trace(gen("1"), "1", mv=False), "label_false"),  # the judge never ran on this row
        (trace(gen("1"), "1"), "label_missing"),
    ]
    assert verdicts(f, [t for t, _ in planted]) == [expected for _, expected in planted]
    assert f._verifier is None  # no worker processes for a label lookup


def test_trust_labels_without_llama_fallback(make) -> None:
    f = make(mode="trust_labels", llama_fallback=False)
    assert verdicts(f, [trace(gen("1"), "1", mv=False, llama=True), trace(gen("1"), "1", mv=True)]) == [
        "label_false",
        "keep",
    ]


def test_dataset_label() -> None:
    assert dataset_label(trace("", "1", mv=True, llama=False)) is True
    assert dataset_label(trace("", "1", mv=False, llama=True)) is True
    assert dataset_label(trace("", "1", mv=False, llama=True), llama_fallback=False) is False
    assert dataset_label(trace("", "1", mv=None, llama=None)) is None


def test_agree_keeps_only_what_both_accept(make) -> None:
    planted = [
        (trace(gen("\\frac{2}{4}"), "\\frac{1}{2}", mv=True), "keep"),
        (trace(gen("\\frac{2}{4}"), "\\frac{1}{2}", mv=False), "label_disagrees"),
        (trace(gen("\\frac{2}{4}"), "\\frac{1}{2}"), "label_disagrees"),  # no label to agree with
        (trace(gen("D"), "10", mv=False, llama=True), "label_disagrees"),  # SPEC 1: letter judged correct
        (trace(gen("9"), "10", mv=False), "wrong_answer"),  # both say wrong
        (trace(gen(None), "10", mv=True), "no_boxed"),
        (trace(gen(TOWER), "3", mv=True), "verify_timeout"),
    ]
    f = make(mode="agree", timeout=1.0)
    assert verdicts(f, [t for t, _ in planted]) == [expected for _, expected in planted]
    [drop] = f.apply([planted[3][0]])
    assert (
        isinstance(drop, Drop)
        and "math-verify says wrong" in drop.detail
        and "label is correct" in drop.detail
    )
    assert drop.info is not None and drop.info["label"] is True


def test_report_counts_and_examples(make) -> None:
    f = make()
    traces = [trace(gen(str(k)), "3", uuid=f"u{k:02d}") for k in range(10)] + [
        trace(gen(None), "3", uuid="x")
    ]
    decided = f.apply(traces)
    drops = [(t.uuid, v) for t, v in zip(traces, decided) if isinstance(v, Drop)]
    f.close()  # the engine reports after closing the filters
    report = f.report(drops)
    assert report is not None
    assert report["dropped"] == {"no_boxed": 1, "wrong_answer": 9}
    assert [e["uuid"] for e in report["examples"]["wrong_answer"]] == ["u00", "u01", "u02", "u04", "u05"]
    assert report["examples"]["wrong_answer"][0]["extracted"] == "0"
    assert f.counters()["items"] == 10 and f.counters()["identical"] == 1 and f.counters()["computed"] == 9
    assert "verifier" not in report  # run-dependent counts go to stats.json, not the deterministic report
    assert report["mode"] == "reverify" and report["judge"].startswith("judge")


def test_results_come_from_the_cache_on_a_second_filter(make) -> None:
    traces = [trace(gen(f"{k}+0"), "5") for k in range(20)]  # not verbatim: each needs math-verify
    first = make()
    expected = first.apply(traces)
    first.close()
    second = make()
    assert second.apply(traces) == expected
    assert second._verifier is not None and second._verifier.stats["cached"] == 20


def test_curate_verdicts_moves_the_verdict_store_off_the_cache_folder(
    make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "node-local" / "verdicts.sqlite"
    local.parent.mkdir()
    monkeypatch.setenv("CURATE_VERDICTS", str(local))
    traces = [trace(gen(f"{k}+0"), "5") for k in range(5)]
    make().apply(traces)
    assert local.exists() and not (tmp_path / "mathcheck.sqlite").exists()
    second = make()
    second.apply(traces)
    assert second._verifier is not None and second._verifier.stats["cached"] == 5


def test_filter_matches_filter_batch(make) -> None:
    f = make()
    assert f.filter(trace(gen("5"), "5")) == KEEP


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        AnswerVerifyParams(mode="vibes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AnswerVerifyParams(timeout=0)
    with pytest.raises(ValueError):
        AnswerVerifyParams(workers=0)


RECIPE = """\
name: verify-test
source: {{path: {source}}}
seed: 3
filters:
  - think_format: {{}}
  - answer_verify: {params}
select: shortest
sample: {{test_size: 0}}
output: {{dir: {out}}}
"""


def _recipe(tmp_path: Path, params: str) -> Path:
    good = rows.trace("We solve it, x = 7.", "7")
    equivalent = rows.trace("Half of it.", "\\dfrac{1}{2}")
    wrong_short, right_long = rows.trace("x = 8", "8"), rows.trace("Careful: x = 7, not 8.", "7")
    data = [
        rows.row("good", "Find x.", "7", [good, good]),
        rows.row("equivalent", "Find half.", "0.5", [equivalent]),
        rows.row("second-try", "Find x again.", "7", [wrong_short, right_long], labels=[False, True]),
        rows.row("all-wrong", "Find y.", "7", [wrong_short, rows.trace("y is 9", "9")]),
        rows.row("letter", "Pick one.", "12", [rows.trace("Option D.", "D")], question_type="MCQ"),
    ]
    source = rows.write(tmp_path / "src.parquet", data)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.format(source=source, params=params, out=tmp_path / "out"))
    return recipe


def test_from_a_recipe_with_a_funnel(tmp_path: Path) -> None:
    result = run_recipe(load_recipe(_recipe(tmp_path, "{mode: reverify, timeout: 5}")))
    funnel = {entry["filter"]: entry for entry in result.stats["funnel"]}
    assert funnel["answer_verify"]["rows_in"] == 5 and funnel["answer_verify"]["rows_out"] == 3
    assert funnel["answer_verify"]["dropped"] == {"wrong_answer": 2}
    train = pl.read_parquet(result.out_dir / "train.parquet")
    picked = dict(zip(train["uuid"].to_list(), train["generation_index"].to_list()))
    assert picked == {"good": 0, "equivalent": 0, "second-try": 1}  # the shortest *verified* generation
    report = json.loads((result.out_dir / "answer_verify_report.json").read_text())
    assert report["dropped"] == {"wrong_answer": 2}
    assert {e["uuid"] for e in report["examples"]["wrong_answer"]} == {"all-wrong", "letter"}


def test_a_bad_mode_is_a_recipe_error(tmp_path: Path) -> None:
    with pytest.raises(CurateError, match="mode"):
        load_recipe(_recipe(tmp_path, "{mode: vibes}"))


def test_peer_suites_through_answer_verify() -> None:
    """math-verify's and open-r1's own test cases (tests/data/peer_verify_cases.jsonl) through the filter:
    wherever the verdict differs from the suite's expectation, the difference is one of the documented
    intentional ones (README, "answer_verify"), in both views of the predictions."""
    peer = scripts.load("measure_peer_suites")
    cases = peer.load_cases()
    assert len(cases) >= 260 and {c["repo"] for c in cases} == {"huggingface/Math-Verify", "huggingface/open-r1"}
    peer_now = [peer.peer_verdict(case) for case in cases]
    for view in (lambda p: p, peer.boxed_view):
        predictions = [view(case["prediction"]) for case in cases]
        statuses = peer.through_answer_verify(cases, predictions)
        reasons = [
            peer.difference(case, now, pred, status == "correct")
            for case, now, pred, status in zip(cases, peer_now, predictions, statuses)
        ]
        unexplained = [(c["path"], c["line"]) for c, r in zip(cases, reasons) if r not in (None, *peer.REASONS)]
        assert unexplained == []
        agree = sum(r is None for r in reasons)
        assert agree >= 120  # as given: about half the predictions box nothing
    boxed = [peer.boxed_view(c["prediction"]) for c in cases]
    statuses = peer.through_answer_verify(cases, boxed)
    open_r1 = [s for c, s in zip(cases, statuses) if c["repo"] == "huggingface/open-r1"]
    assert open_r1 == ["correct" if c["expected"] else "wrong_answer" for c in cases if c["repo"] == "huggingface/open-r1"]
    judged = [(c, s) for c, s in zip(cases, statuses) if s in ("correct", "wrong_answer")]
    assert sum((s == "correct") == c["expected"] for c, s in judged) / len(judged) > 0.95
