"""Measure the `repetition` and `language_mix` filters on real traces and on defects planted into them.

Real text, none of it written for this: the 10 complete DeepSeek-R1 traces of OpenR1-Math-220k
(`tests/data/openr1_r1_traces.jsonl`) and the 54 real OpenR1 problems with another model's long-think traces,
42 of them truncated (`tests/data/openr1_problems_with_regenerations.jsonl`; provenance in
`tests/data/PROVENANCE.md`).

Planted defects are inserted into those real traces, never into made-up text. The traces are split in two
halves by position (even: tune, odd: report); the defaults were chosen on the tune half, and the report half
is the held-out measurement. Every planted case is seeded, so the numbers are reproducible.

`repetition`, planted loops (each built from the trace's own text):
- `paragraph_x2`, `paragraph_x3`: a paragraph of the reasoning written 2 / 3 times back to back;
- `recheck_cycle`: 1-3 of the trace's sentences wrapped as "Wait, let me recheck. ..." and repeated 3-8 times;
- `recheck_cycle_varied`: the same, each round with a different number and opening phrase;
- `tail_loop`: the reasoning cut at a paragraph boundary, then one of its sentences repeated until the
  generation is 4,000-12,000 characters longer, cut mid-sentence (no `</think>`: the token cap);
- `equation_x5`, `equation_x20`: an equation line of the trace repeated 5 / 20 times;
- `distant_copy`: a paragraph of 400+ characters pasted again two or more paragraphs later.
Compared with the zlib compression ratio of the reasoning, at the highest threshold that keeps every complete
real trace.

`language_mix`, planted switches: a CJK sentence, a CJK paragraph, a Cyrillic paragraph, a Korean sentence
(each a real translation of a sentence of R1-style reasoning), inserted at a paragraph boundary; plus Greek
letters used as math (`α + β`) and a problem in Chinese reasoned about in Chinese, which must pass.

Run: `python scripts/measure_trace_quality.py` (add `--json out.json` for every number and drop detail).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curate.filters import KEEP, FilterContext, Trace
from curate.filters.language_mix import LanguageMix
from curate.filters.repetition import Repetition, measure

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
CLOSE = "</think>"


def real_traces() -> list[tuple[str, str, str]]:
    """(name, problem, generation) of every real trace: R1 first, then the other model's."""
    out = []
    with (DATA / "openr1_r1_traces.jsonl").open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            messages = json.loads(line)["messages"]
            out.append((f"r1-{i}", messages[0]["content"], messages[-1]["content"]))
    with (DATA / "openr1_problems_with_regenerations.jsonl").open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            record = json.loads(line)
            out.append((f"other-{i}", record["user_prompt"], record["regenerated_content"]))
    return out


def split_reasoning(text: str) -> tuple[str, str]:
    cut = text.rfind(CLOSE)
    return (text, "") if cut < 0 else (text[:cut], text[cut:])


def paragraphs(reasoning: str, low: int, high: int) -> list[tuple[int, int]]:
    """(start, end) of the paragraphs (blank-line separated) of `low` to `high` characters."""
    out, at = [], 0
    for piece in reasoning.split("\n\n"):
        if low <= len(piece.strip()) <= high and "<think>" not in piece:
            out.append((at, at + len(piece)))
        at += len(piece) + 2
    return out


def sentences(reasoning: str, low: int, high: int) -> list[str]:
    found = [s.strip() for s in re.split(r"(?<=[.?!])\s+", reasoning)]
    return [s for s in found if low <= len(s) <= high and "<think>" not in s]


def _insert_after(text: str, reasoning_end: int, at: int, extra: str) -> str:
    assert at <= reasoning_end
    return text[:at] + extra + text[at:]


def plant_paragraph(text: str, rng: random.Random, copies: int) -> str | None:
    reasoning, _ = split_reasoning(text)
    found = paragraphs(reasoning, 150, 1500)
    if not found:
        return None
    start, end = rng.choice(found)
    block = text[start:end]
    return text[:end] + ("\n\n" + block) * (copies - 1) + text[end:]


def _cycle(rng: random.Random, reasoning: str, varied: bool) -> str | None:
    found = sentences(reasoning, 40, 300)
    if len(found) < 3:
        return None
    k = rng.randrange(len(found) - 2)
    chunk = " ".join(found[k : k + rng.randint(1, 3)])
    openers = [
        "Wait, let me recheck.",
        "Hmm, let me check that again.",
        "Wait, let me verify this once more.",
    ]
    rounds = []
    for r in range(rng.randint(3, 8)):
        opener = openers[r % len(openers)] if varied else openers[0]
        body = re.sub(r"\d+", lambda m, r=r: str(int(m.group()) + r), chunk, count=1) if varied else chunk
        rounds.append(f"{opener} {body}")
    return "\n\n".join(rounds)


def plant_cycle(text: str, rng: random.Random, varied: bool) -> str | None:
    reasoning, _ = split_reasoning(text)
    cycle = _cycle(rng, reasoning, varied)
    bounds = paragraphs(reasoning, 1, 10**9)
    if cycle is None or not bounds:
        return None
    _, end = rng.choice(bounds)
    return text[:end] + "\n\n" + cycle + text[end:]


def plant_tail(text: str, rng: random.Random) -> str | None:
    reasoning, _ = split_reasoning(text)
    bounds = [
        end for _, end in paragraphs(reasoning, 1, 10**9) if 0.3 * len(reasoning) < end < 0.9 * len(reasoning)
    ]
    if not bounds:
        return None
    cut = rng.choice(bounds)
    unit = rng.choice(sentences(reasoning[:cut], 30, 300) or [None])  # type: ignore[list-item]
    if unit is None:
        return None
    extra = rng.randint(4000, 12000)
    loop = (" " + unit) * (extra // (len(unit) + 1) + 2)
    return text[:cut] + "\n\n" + loop[:extra]


def plant_equation(text: str, rng: random.Random, copies: int) -> str | None:
    reasoning, _ = split_reasoning(text)
    lines = [m for m in re.finditer(r"[^\n]+", reasoning) if "=" in m.group() and 15 <= len(m.group()) <= 120]
    if not lines:
        return None
    line = rng.choice(lines)
    return text[: line.end()] + ("\n" + line.group()) * (copies - 1) + text[line.end() :]


def plant_distant(text: str, rng: random.Random) -> str | None:
    reasoning, _ = split_reasoning(text)
    bounds = paragraphs(reasoning, 1, 10**9)
    long = [i for i, (s, e) in enumerate(bounds) if e - s >= 400 and i + 2 < len(bounds)]
    if not long:
        return None
    i = rng.choice(long)
    start, end = bounds[i]
    _, at = bounds[rng.randrange(i + 2, len(bounds))]
    return text[:at] + "\n\n" + text[start:end] + text[at:]


LOOPS: dict[str, Callable[[str, random.Random], str | None]] = {
    "paragraph_x2": lambda t, r: plant_paragraph(t, r, 2),
    "paragraph_x3": lambda t, r: plant_paragraph(t, r, 3),
    "recheck_cycle": lambda t, r: plant_cycle(t, r, varied=False),
    "recheck_cycle_varied": lambda t, r: plant_cycle(t, r, varied=True),
    "tail_loop": plant_tail,
    "equation_x5": lambda t, r: plant_equation(t, r, 5),
    "equation_x20": lambda t, r: plant_equation(t, r, 20),
    "distant_copy": plant_distant,
}


def verdict_of(f: Any, problem: str, text: str) -> Any:
    [verdict] = f.apply([Trace(row_id=0, uuid="u", problem=problem, answer="", index=0, text=text)])
    return verdict


def zlib_ratio(text: str) -> float:
    data = split_reasoning(text)[0].encode("utf-8")
    return len(zlib.compress(data, 6)) / max(1, len(data))


def measure_repetition(traces: list[tuple[str, str, str]], seeds: int) -> dict[str, Any]:
    f = Repetition(context=FilterContext())
    halves = {"tune": traces[0::2], "report": traces[1::2]}
    out: dict[str, Any] = {"clean": {}, "planted": {}, "real_drops": [], "zlib": {}}
    clean_ratios = [zlib_ratio(t) for _, _, t in traces if t.startswith("<think>") and CLOSE in t]
    # Drop below it: the highest threshold that keeps every complete real trace.
    zlib_threshold = min(clean_ratios) - 1e-9
    out["zlib"]["threshold"] = round(zlib_threshold, 4)
    for family in ("r1", "other"):
        stats = [
            measure(part)[0]
            for n, _, t in traces
            if n.startswith(family)
            for part in split_reasoning(t)
            if part
        ]
        out.setdefault("clean_max", {})[family] = {
            "loop_chars": max(s.loop_chars for s in stats),
            "span_chars": max(s.span_chars for s in stats),
            "window_share": round(max(s.window_share for s in stats), 3),
            "share": round(max(s.share for s in stats), 3),
            "zlib_ratio_min": round(min(zlib_ratio(t) for n, _, t in traces if n.startswith(family)), 3),
        }
    for half, items in halves.items():
        for family in ("r1", "other"):
            group = [(n, p, t) for n, p, t in items if n.startswith(family)]
            drops = [(n, verdict_of(f, p, t)) for n, p, t in group]
            dropped = [(n, v) for n, v in drops if v is not KEEP]
            out["clean"][f"{half}/{family}"] = {"traces": len(group), "dropped": len(dropped)}
            out["real_drops"] += [{"trace": n, "reason": v.reason, "detail": v.detail} for n, v in dropped]
        for kind, plant in LOOPS.items():
            caught = made = 0
            reasons: Counter = Counter()
            zlib_caught = 0
            for seed in range(seeds):
                for name, problem, text in items:
                    rng = random.Random(f"{kind}/{name}/{seed}")
                    planted = plant(text, rng)
                    if planted is None:
                        continue
                    made += 1
                    verdict = verdict_of(f, problem, planted)
                    if verdict is not KEEP:
                        caught += 1
                        reasons[verdict.reason] += 1
                    zlib_caught += zlib_ratio(planted) < zlib_threshold
            out["planted"][f"{half}/{kind}"] = {
                "planted": made,
                "caught": caught,
                "reasons": dict(reasons),
                "zlib_caught": zlib_caught,
            }
    return out


# Foreign text to plant. These sentences were written for this measurement (translations of R1-style
# reasoning phrases); the filter reads scripts, not words, so their exact wording matters little.
CJK_SENTENCES = [
    "因此，答案是这个值。",
    "我们需要再检查一下这个计算。",
    "所以这个方程的解是正确的。",
    "等一下，让我重新考虑这个问题。",
]
CJK_PARAGRAPH = (
    "让我们重新整理一下思路。首先，我们已经知道这个数列的前几项，然后我们可以推出一般的规律。"
    "接下来，我们需要验证这个结论对所有的正整数都成立。"
)
CYRILLIC_PARAGRAPH = (
    "Итак, нам нужно проверить это ещё раз. Сначала найдём значение выражения, а затем подставим его в "
    "исходное уравнение, чтобы убедиться, что ответ правильный."
)
KOREAN_SENTENCES = ["그러므로 답은 이 값입니다.", "다시 한 번 계산을 확인해 봅시다."]
JAPANESE_SENTENCES = ["したがって、答えはこの値になります。", "もう一度計算を確認しましょう。"]
GREEK_MATH = (
    "Let α and β be the roots, so αβ = 6 and α + β = 5; with θ = π/3 and Δ = b² − 4ac, Σ stays finite."
)
CHINESE_PROBLEM = "已知数列满足递推关系，求这个数列的通项公式。"


def _at_paragraph(text: str, rng: random.Random, extra: str) -> str | None:
    reasoning, _ = split_reasoning(text)
    bounds = paragraphs(reasoning, 1, 10**9)
    if not bounds:
        return None
    _, end = rng.choice(bounds)
    return text[:end] + "\n\n" + extra + text[end:]


def _sprinkled(text: str, rng: random.Random, word: str, times: int) -> str | None:
    reasoning, _ = split_reasoning(text)
    starts = [m.start() for m in re.finditer(r"(?<=\n\n)[A-Z]", reasoning)]
    if len(starts) < times:
        return None
    for at in sorted(rng.sample(starts, times), reverse=True):
        text = text[:at] + word + "，" + text[at:]
    return text


SWITCHES: dict[str, Callable[[str, random.Random], str | None]] = {
    "cjk_sentence": lambda t, r: _at_paragraph(t, r, r.choice(CJK_SENTENCES)),
    "cjk_paragraph": lambda t, r: _at_paragraph(t, r, CJK_PARAGRAPH),
    "cyrillic_paragraph": lambda t, r: _at_paragraph(t, r, CYRILLIC_PARAGRAPH),
    "korean_sentence": lambda t, r: _at_paragraph(t, r, r.choice(KOREAN_SENTENCES)),
    "japanese_sentence": lambda t, r: _at_paragraph(t, r, r.choice(JAPANESE_SENTENCES)),
    "cjk_word_x8": lambda t, r: _sprinkled(t, r, "所以", 8),
}


def measure_language(traces: list[tuple[str, str, str]], seeds: int) -> dict[str, Any]:
    f = LanguageMix(context=FilterContext())
    strict = LanguageMix(LanguageMix.Params(allow_problem_scripts=False), FilterContext())
    out: dict[str, Any] = {"clean": {}, "planted": {}, "must_pass": {}}
    for family in ("r1", "other"):
        group = [(n, p, t) for n, p, t in traces if n.startswith(family)]
        dropped = [n for n, p, t in group if verdict_of(f, p, t) is not KEEP]
        with_greek = sum(1 for _, _, t in group if re.search(r"[\u0370-\u03ff]", t))
        out["clean"][family] = {"traces": len(group), "with_greek_letters": with_greek, "dropped": dropped}
    for half, items in (("tune", traces[0::2]), ("report", traces[1::2])):
        for kind, plant in SWITCHES.items():
            made = caught = 0
            reasons: Counter = Counter()
            for seed in range(seeds):
                for name, problem, text in items:
                    planted = plant(text, random.Random(f"{kind}/{name}/{seed}"))
                    if planted is None:
                        continue
                    made += 1
                    verdict = verdict_of(f, problem, planted)
                    if verdict is not KEEP:
                        caught += 1
                        reasons[verdict.reason] += 1
            out["planted"][f"{half}/{kind}"] = {"planted": made, "caught": caught, "reasons": dict(reasons)}
    greek = [_at_paragraph(t, random.Random(n), GREEK_MATH) for n, _, t in traces]
    out["must_pass"]["greek_math"] = {
        "planted": sum(g is not None for g in greek),
        "dropped": sum(g is not None and verdict_of(f, "", g) is not KEEP for g in greek),
    }
    chinese = [_at_paragraph(t, random.Random(n), CJK_PARAGRAPH) for n, _, t in traces]
    out["must_pass"]["chinese_problem_chinese_reasoning"] = {
        "planted": sum(c is not None for c in chinese),
        "dropped": sum(c is not None and verdict_of(f, CHINESE_PROBLEM, c) is not KEEP for c in chinese),
        "dropped_with_allow_problem_scripts_false": sum(
            c is not None and verdict_of(strict, CHINESE_PROBLEM, c) is not KEEP for c in chinese
        ),
    }
    return out


def throughput(traces: list[tuple[str, str, str]], rounds: int = 5) -> dict[str, float]:
    texts = [t for _, _, t in traces]
    size = sum(len(t.encode("utf-8")) for t in texts) * rounds
    f = Repetition(context=FilterContext())
    g = LanguageMix(context=FilterContext())
    result = {}
    for label, run in (
        ("repetition", lambda: [verdict_of(f, "", t) for t in texts]),
        ("repetition.measure", lambda: [measure(t) for t in texts]),
        ("language_mix", lambda: [verdict_of(g, "", t) for t in texts]),
        ("zlib level 6", lambda: [zlib.compress(t.encode("utf-8"), 6) for t in texts]),
    ):
        start = time.perf_counter()
        for _ in range(rounds):
            run()
        result[label] = round(size / (time.perf_counter() - start) / 1e6, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="planted cases per trace and kind")
    parser.add_argument("--json", type=Path, help="write every number and drop detail here")
    args = parser.parse_args()
    traces = real_traces()
    report = {
        "repetition": measure_repetition(traces, args.seeds),
        "language_mix": measure_language(traces, args.seeds),
        "throughput_MB_per_s": throughput(traces),
    }
    rep = report["repetition"]
    print("repetition: clean real traces dropped")
    for key, value in rep["clean"].items():
        print(f"  {key:14s} {value['dropped']}/{value['traces']}")
    print(f"repetition: largest statistics of the real traces: {rep['clean_max']}")
    print("repetition: what it finds in the real traces")
    for drop in rep["real_drops"]:
        print(f"  {drop['trace']}: {drop['reason']}: {drop['detail']}")
    print(f"repetition: planted loops caught (and by a zlib ratio below {rep['zlib']['threshold']})")
    for key, value in rep["planted"].items():
        print(
            f"  {key:28s} {value['caught']}/{value['planted']}  zlib {value['zlib_caught']}/{value['planted']}"
            f"  {value['reasons']}"
        )
    lang = report["language_mix"]
    print(f"language_mix: clean real traces: {lang['clean']}")
    print("language_mix: planted switches caught")
    for key, value in lang["planted"].items():
        print(f"  {key:28s} {value['caught']}/{value['planted']}  {value['reasons']}")
    print(f"language_mix: must pass: {lang['must_pass']}")
    print(f"throughput, MB/s of generation text, one core: {report['throughput_MB_per_s']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
