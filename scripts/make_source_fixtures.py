"""Write the source fixtures of `tests/data/sources/`: a few rows of each shipped source schema, in the
exact published shape of its dataset (columns, types, nesting, the way its text is laid out), built from
real text: DeepSeek-R1 traces and problems of open-r1/OpenR1-Math-220k (`tests/data/`), real human
solutions, and AIME 2025 problems (`curate/data/benchmarks/`). None of them is a row of the dataset it is
shaped like.

Each fixture plants the defects its recipe must catch, and `<schema>.expected.json` says which filter must
drop which row (by line number; a duplicate pair says that exactly one of the two is dropped). Deterministic:
running it again writes the same bytes.

    python scripts/make_source_fixtures.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
OUT = DATA / "sources"

# The real R1 traces used (index into openr1_r1_traces.jsonl): short, one clean boxed answer each.
CLEAN = (1, 4, 6, 8)
AIME = "2025-I-1"
AIME_TRACE = (
    "<think>\nOkay, so we need every base $b > 9$ with $17_b \\mid 97_b$. In base $b$, $17_b = b + 7$ and "
    "$97_b = 9b + 7$. Since $9b + 7 = 9(b + 7) - 56$, the divisibility means $b + 7$ divides $56$. The "
    "divisors of 56 above 16 are 28 and 56, so $b = 21$ or $b = 49$. Let me double-check $b = 21$: $17_{21} = "
    "28$ and $97_{21} = 196 = 7 \\cdot 28$. Good. So the sum is $21 + 49 = 70$.\n</think>\n\n"
    "Since $97_b = 9(b+7) - 56$, $b + 7$ must divide $56$, giving $b \\in \\{21, 49\\}$. The sum is "
    "$\\boxed{70}$."
)
CHINESE = (
    "所以我们需要重新检查这个计算。首先，把两边同时乘以二，然后把所有的项移到左边，最后合并同类项，"
    "这样就可以得到一个更简单的方程，我觉得这个方法是对的。"
)


def load() -> tuple[list[tuple[str, str]], list[dict[str, Any]], dict[str, Any]]:
    traces = []
    with open(DATA / "openr1_r1_traces.jsonl", encoding="utf-8") as handle:
        for line in handle:
            messages = json.loads(line)["messages"]
            traces.append((messages[0]["content"], messages[1]["content"]))
    with open(DATA / "openr1_problems_with_regenerations.jsonl", encoding="utf-8") as handle:
        problems = [json.loads(line) for line in handle]
    with open(ROOT / "curate" / "data" / "benchmarks" / "aime2025.jsonl", encoding="utf-8") as handle:
        aime = next(row for row in map(json.loads, handle) if row["id"] == AIME)
    return traces, problems, aime


def boxed(trace: str) -> str:
    from curate.mathcheck import extract_boxed

    found = extract_boxed(trace)
    assert found is not None
    return found


def split(trace: str) -> tuple[str, str]:
    """(reasoning, answer) of `<think>\\n...\\n</think>\\n\\n...`."""
    body = trace.split("<think>", 1)[1]
    reasoning, answer = body.split("</think>", 1)
    return reasoning.strip(), answer.strip()


def looping(trace: str) -> str:
    """A paragraph of the reasoning written three times back to back: a loop."""
    paragraphs = trace.split("\n\n")
    middle = len(paragraphs) // 2
    target = max(
        range(1, middle + 1), key=lambda i: len(paragraphs[i]) if "</think>" not in paragraphs[i] else 0
    )
    paragraphs[target : target + 1] = [paragraphs[target]] * 3
    return "\n\n".join(paragraphs)


def switching(trace: str) -> str:
    """A Chinese paragraph in the middle of an English trace."""
    paragraphs = trace.split("\n\n")
    paragraphs.insert(len(paragraphs) // 3, CHINESE)
    return "\n\n".join(paragraphs)


def truncated(trace: str) -> str:
    return trace[: int(len(trace) * 0.6)]


def wrong(trace: str) -> str:
    """The last box holds another answer."""
    answer = boxed(trace)
    cut = trace.rfind("\\boxed{" + answer + "}")
    return trace[:cut] + "\\boxed{" + answer + " + 1}" + trace[cut + len(answer) + 8 :]


def restated(problem: str) -> str:
    """The same problem typed differently: `$` as `\\(`, doubled spaces, a numbering prefix."""
    out, opening = [], True
    for part in problem.split("$"):
        out.append(part)
        out.append("\\(" if opening else "\\)")
        opening = not opening
    return "Problem 7.  " + "".join(out[:-1])


def reworded_trace(trace: str) -> str:
    return trace.replace("<think>\n", "<think>\nAlright, let me think this one through.\n\n", 1)


def omr(
    traces: list[tuple[str, str]], others: list[str], aime: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    def row(
        problem: str,
        solution: str,
        *,
        kind: str = "has_answer_extracted",
        rate: str = "0.375",
        model: str = "DeepSeek-R1",
        answer: str | None = None,
    ) -> dict[str, Any]:
        return {
            "expected_answer": answer if answer is not None else boxed(solution),
            "problem_type": kind,
            "problem_source": "aops_c4_high_school_math",
            "generation_model": model,
            "pass_rate_72b_tir": rate,
            "problem": problem,
            "generated_solution": solution,
            "inference_mode": "cot",
            "used_in_kaggle": False,
        }

    (p1, t1), (p4, t4), (p6, t6), (p8, t8) = (traces[i] for i in CLEAN)
    (p0, t0), (p3, t3) = traces[0], traces[3]
    rows = [
        row(p1, t1),
        row(p4, t4, rate="n/a", model="QwQ-32B"),
        row(p6, t6, rate="0.125"),
        row(p8, t8, rate="7/8"),
        row(restated(p1), reworded_trace(t1)),  # 4: the same problem as 0, another solution
        row(p3, truncated(t3), answer=boxed(t3)),  # 5: cut by the token cap
        row(p0, wrong(t0), answer=boxed(t0)),  # 6: boxes a wrong answer
        row(others[0], looping(t4)),  # 7: loops
        row(others[1], switching(t6), model="QwQ-32B"),  # 8: switches into Chinese
        row(aime["problem"], AIME_TRACE),  # 9: an AIME 2025 problem
        row(others[2], t8, kind="no_answer_extracted", rate="n/a"),  # 10: answer by majority vote only
        row(others[3], reworded_trace(t1), rate="1"),  # 11: Qwen2.5-Math-72B solves it every time
    ]
    expected = {
        "kept": [1, 2, 3],
        "dropped": {
            "5": "think_format",
            "6": "answer_verify",
            "7": "repetition",
            "8": "language_mix",
            "9": "decontaminate",
            "10": "question_type",
            "11": "pass_rate",
        },
        "one_of": [{"rows": [0, 4], "filter": "exact_dedup"}],
    }
    return rows, expected


def openthoughts(
    traces: list[tuple[str, str]], others: list[str], aime: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    def row(
        problem: str,
        answer: str,
        *,
        domain: str = "math",
        difficulty: int = 6,
        source: str = "ai2-adapt-dev/openmath-2-math",
    ) -> dict[str, Any]:
        return {
            "difficulty": difficulty,
            "source": source,
            "domain": domain,
            "conversations": [{"from": "human", "value": problem}, {"from": "gpt", "value": answer}],
        }

    (p1, t1), (p4, t4), (p6, t6), (p8, t8) = (traces[i] for i in CLEAN)
    code = (
        "Write a function that returns the number of set bits of a non-negative integer.",
        "<think>\nOkay, the simplest way is to loop over the bits.\n</think>\n\n```python\ndef bits(n):\n"
        "    return bin(n).count('1')\n```",
    )
    rows = [
        row(p1, t1),
        row(p4, t4, difficulty=3),
        row(p6, t6, difficulty=8),
        row(p8, t8, difficulty=7),
        row(restated(p4), reworded_trace(t4)),  # 4: the same problem as 1
        row(traces[3][0], truncated(traces[3][1])),  # 5: cut off
        row(others[0], looping(t8)),  # 6: loops
        row(others[1], switching(t1)),  # 7: switches into Chinese
        row(aime["problem"], AIME_TRACE),  # 8: an AIME 2025 problem
        row(*code, domain="code", source="nvidia/OpenCodeReasoning"),  # 9: not math
    ]
    expected = {
        "kept": [0, 2, 3],
        "dropped": {
            "5": "think_format",
            "6": "repetition",
            "7": "language_mix",
            "8": "decontaminate",
            "9": "column_values",
        },
        "one_of": [{"rows": [1, 4], "filter": "exact_dedup"}],
    }
    return rows, expected


def am(
    traces: list[tuple[str, str]], others: list[str], aime: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    def row(
        problem: str,
        trace: str,
        reference: str | None,
        *,
        source: str = "NuminaMath_1.5",
        test_case: str | None = None,
    ) -> dict[str, Any]:
        reasoning, answer = (
            split(trace) if "</think>" in trace else (trace.split("<think>", 1)[1].strip(), "")
        )
        user_info = {"source": source, "reference_answer": reference, "test_case": test_case}
        assistant_info = {"source": "am-0309", "think_content": reasoning, "answer_content": answer}
        content = f"<think> {reasoning}</think> <answer> {answer} </answer>"
        return {
            "messages": [
                {"role": "user", "content": problem, "info": user_info},
                {"role": "assistant", "content": content, "info": assistant_info},
            ]
        }

    (p1, t1), (p4, t4), (p6, t6), (p8, t8) = (traces[i] for i in CLEAN)
    code = (
        "Write a function that returns the number of set bits of a non-negative integer.",
        "<think>\nThe simplest way is to loop over the bits.\n</think>\n\n```python\ndef bits(n):\n"
        "    return bin(n).count('1')\n```",
    )
    (p0, t0) = traces[0]
    rows = [
        row(p1, t1, boxed(t1)),
        row(p4, t4, boxed(t4)),
        row(p6, t6, boxed(t6)),
        row(p8, t8, boxed(t8)),
        row(restated(p6), reworded_trace(t6), boxed(t6)),  # 4: the same problem as 2
        row(p0, wrong(t0), boxed(t0)),  # 5: boxes a wrong answer
        row(others[0], looping(t4), boxed(t4)),  # 6: loops
        row(others[1], switching(t8), boxed(t8)),  # 7: switches into Chinese
        row(aime["problem"], AIME_TRACE, aime["answer"]),  # 8: an AIME 2025 problem
        row(*code, None, source="codeforces_cots", test_case='{"inputs": ["5"], "outputs": ["2"]}'),  # 9
    ]
    expected = {
        "kept": [0, 1, 3],
        "dropped": {
            "5": "answer_verify",
            "6": "repetition",
            "7": "language_mix",
            "8": "decontaminate",
            "9": "column_values",
        },
        "one_of": [{"rows": [2, 4], "filter": "exact_dedup"}],
    }
    return rows, expected


def numina(
    problems: list[dict[str, Any]], aime: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    def solution_of(index: int) -> tuple[str, str]:
        text = problems[index]["original_assistant_content"]
        body, _, last = text.rpartition("\n\nThe final answer is ")
        return body.strip(), boxed("</think>" + last)

    def row(
        index: int,
        *,
        answer: str | None = None,
        problem: str | None = None,
        valid: str = "Yes",
        synthetic: bool = False,
        question: str = "math-word-problem",
    ) -> dict[str, Any]:
        solution, found = solution_of(index)
        return {
            "problem": problem or problems[index]["user_prompt"],
            "solution": solution,
            "answer": answer if answer is not None else found,
            "problem_type": "Algebra",
            "question_type": question,
            "problem_is_valid": valid,
            "solution_is_valid": "Yes",
            "source": "olympiads",
            "synthetic": synthetic,
        }

    rows = [
        row(0),
        row(11),
        row(22),
        row(32),
        row(40, problem=restated(problems[0]["user_prompt"])),  # 4: the problem of 0, another solution
        row(17, answer="proof"),  # 5: no checkable answer (though typed a word problem, as many rows are)
        row(24, valid="No"),  # 6: the dataset marks the problem invalid
        row(41, synthetic=True),  # 7: a generated problem
        {**row(43), "problem": aime["problem"]},  # 8: an AIME 2025 problem
    ]
    expected = {
        "kept": [1, 2, 3],
        "dropped": {"5": "column_values", "6": "column_values", "7": "column_values", "8": "decontaminate"},
        "one_of": [{"rows": [0, 4], "filter": "exact_dedup"}],
    }
    return rows, expected


def write(name: str, rows: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (OUT / f"{name}.expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    traces, problems, aime = load()
    # Problems of no trace above, for the defective rows: a planted defect never shares a clean row's problem.
    others = [problems[i]["user_prompt"] for i in (5, 7, 9, 10)]
    write("openmathreasoning", *omr(traces, others, aime))
    write("openthoughts3", *openthoughts(traces, others, aime))
    write("am-deepseek-r1-distilled", *am(traces, others, aime))
    write("numinamath-1.5", *numina(problems, aime))


if __name__ == "__main__":
    main()
