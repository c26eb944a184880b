"""`language_mix` on real traces: none of the 64 real traces is dropped (Greek variables included), script
switches planted into them are, and a problem's own script may be reasoned in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.filters import KEEP, Drop, FilterContext, Trace
from curate.filters.language_mix import LanguageMix, LanguageMixParams, measure
from curate.recipe import load_recipe

DATA = Path(__file__).resolve().parents[1] / "data"
CHINESE_SENTENCE = "因此，答案是这个值。"
CYRILLIC = "Итак, нам нужно проверить это ещё раз, а затем подставим значение в исходное уравнение."
CHINESE_PROBLEM = "已知数列满足递推关系，求这个数列的通项公式。"


def real_traces() -> list[tuple[str, str]]:
    out = []
    for line in (DATA / "openr1_r1_traces.jsonl").read_text(encoding="utf-8").splitlines():
        messages = json.loads(line)["messages"]
        out.append((messages[0]["content"], messages[-1]["content"]))
    for line in (DATA / "openr1_problems_with_regenerations.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        out.append((record["user_prompt"], record["regenerated_content"]))
    return out


def check(text: str, problem: str = "Find x.", **params: object) -> Drop | None:
    f = LanguageMix(LanguageMixParams(**params), FilterContext())
    [verdict] = f.apply([Trace(row_id=0, uuid="u", problem=problem, answer="1", index=0, text=text)])
    return None if verdict == KEEP else verdict  # type: ignore[return-value]


def insert(trace: str, extra: str) -> str:
    """`extra` as a paragraph in the middle of the reasoning."""
    at = trace.index("\n\n", len(trace.split("</think>")[0]) // 2)
    return trace[:at] + "\n\n" + extra + trace[at:]


def test_no_real_trace_is_dropped() -> None:
    traces = real_traces()
    assert len(traces) == 64
    greek = [t for _, t in traces if any("\u0370" <= c <= "\u03ff" for c in t)]
    assert len(greek) >= 10  # real traces use θ, π, α, Δ as math
    assert [i for i, (p, t) in enumerate(traces) if check(t, p) is not None] == []


@pytest.mark.parametrize(
    ("extra", "script"),
    [
        (CHINESE_SENTENCE, "Han"),
        (CYRILLIC, "Cyrillic"),
        ("그러므로 답은 이 값입니다.", "Hangul"),
        ("したがって、答えはこの値になります。", "Hiragana"),
        ("Επομένως πρέπει να ελέγξουμε ξανά αυτόν τον υπολογισμό.", "Greek"),
    ],
)
def test_planted_switch_is_dropped(extra: str, script: str) -> None:
    _, trace = real_traces()[2]
    drop = check(insert(trace, extra))
    assert drop is not None and drop.reason == "script_switch"
    assert drop.info is not None and drop.info["run_script"] == script
    assert f"{script} words in a row" in drop.detail and extra[:4] in drop.detail


def test_sprinkled_words_count_as_a_share() -> None:
    _, trace = real_traces()[0]
    parts = trace.split("\n\n")
    mixed = "\n\n".join(("所以，" + p) if i % 3 == 1 else p for i, p in enumerate(parts))
    drop = check(mixed)
    assert drop is not None and drop.reason == "script_share"
    assert drop.info is not None and drop.info["scripts"] == {
        "Han": 2 * sum(1 for i in range(len(parts)) if i % 3 == 1)
    }


@pytest.mark.parametrize(
    "text",
    [
        "Let α and β be the roots, so αβ = 6 and α + β = 5; θ = π/3, Δ = b² − 4ac.",
        "The speed is $24 \\text{千米每小时}$ and $\\text{速度} = v$, so v = 24.",
        "Run it:\n```python\nprint('答案是 5')  # 打印答案\n```\nand `变量名称` holds it.",
        "By the aleph א and ∑ and 𝑥, nothing changes.",
        "Ivan (Иван) and Petr (Пётр) meet.",
    ],
)
def test_math_code_and_names_are_not_language(text: str) -> None:
    assert check(f"<think>\n{text}\n</think>\n\n\\boxed{{1}}") is None


def test_problem_in_chinese_may_be_reasoned_in_chinese() -> None:
    _, trace = real_traces()[3]
    text = insert(trace, "让我们重新整理一下思路。首先，我们已经知道这个数列的前几项。")
    assert check(text, CHINESE_PROBLEM) is None
    drop = check(text, CHINESE_PROBLEM, allow_problem_scripts=False)
    assert drop is not None and drop.reason == "script_switch"
    assert check(text, allowed_scripts=["Han"]) is None
    assert check(insert(trace, CYRILLIC), CHINESE_PROBLEM) is not None  # Chinese allows Chinese only


def test_runs_are_broken_by_latin_words_not_by_variables() -> None:
    mix = measure("设x为正数，则 we get 结果。")
    assert (mix.run, mix.run_script, mix.foreign) == (5, "Han", 7)
    assert measure("abc").foreign == 0


def test_thresholds() -> None:
    text = "<think>\nSo 因此答 is the value.\n</think>\n\n\\boxed{1}"  # a run of 3
    assert check(text, max_share=1.0) is None
    assert check(text, max_run=2, max_share=1.0) is not None


def test_unknown_script_is_refused_at_validation(tmp_path: Path) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: r\nsource: {sample: true}\noutput: {dir: out}\nfilters:\n"
        "  - language_mix: {allowed_scripts: [Chinese]}\n",
        encoding="utf-8",
    )
    with pytest.raises(CurateError, match="unknown script 'Chinese'") as err:
        load_recipe(recipe)
    assert "r.yaml:5" in str(err.value)
