"""DeepSeek-R1-shaped generations: `<think>\\n...\\n</think>\\n\\n<solution with \\boxed{...}>`.

A trace is assembled from paragraphs: an opening that restates the task, the row's own derivation (its
steps and checks, with the problem's numbers), and R1's habits in between ("Wait,", "Hmm,", re-checks,
second methods), until the drawn length is reached; then a conclusion, `**Final Answer**` with the boxed
answer, `</think>`, and a shorter written solution. The row's pieces are built once and drawn for each
generation with indices drawn in bulk, so no two traces of a row are alike.

A trace does not repeat itself, as the `repetition` filter would see it: the row's own material is used at
most twice per trace, never twice in a row, and a long trace goes on with trial computations on fresh numbers
(`TRIALS`); the habits are walked without repeats, none sharing a sentence with the three before it
(`HABIT_WALKS`). Loops are planted on purpose only (`looping`).

`render` also produces the defective shapes the sample plants (truncated, two think blocks, empty reasoning,
no boxed answer, a final box that contradicts the reasoning, digit-dense overlong reasoning, a loop, a
paragraph in another script).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from operator import itemgetter
from random import Random

import numpy as np

OPENERS = (
    "Okay, so I need to find {gist}. Let me start by reading the problem again carefully.",
    "Alright, let's tackle this problem step by step. The question asks for {gist}.",
    "Okay, let's see. I need to figure out {gist}. Hmm, where do I start?",
    "Okay, so I have this problem here, and I need to find {gist}. Let me try to understand what's given first.",
    "Hmm, let me try to work through this problem. We need {gist}.",
    "Okay, let me try to figure this out. The problem is asking for {gist}, so let me first write down what we know.",
    "Alright, so I need to determine {gist}. Let me think about how to approach this.",
    "Okay, so the problem is about {gist}. Let me parse it carefully.",
    "Okay, let's try to solve this. We're asked for {gist}, and I want to be careful with the details.",
)
RESTATE = (
    'The problem says: "{quote}"',
    "Let me restate it: {quote}",
    'So, the problem statement is: "{quote}" Got it.',
    "First, the given information: {quote}",
)
CLOSERS = (
    "So, after checking it several ways, the answer is {ans}.",
    "Therefore, {gist} is {ans}.",
    "I think that's solid. The answer should be {ans}.",
    "Everything is consistent, so I'm confident the answer is {ans}.",
    "So the final answer is {ans}. Let me just make sure there are no other cases... No, that covers it.",
    "Okay, that seems to be it. {gist_cap} is {ans}.",
)
FINALS = (
    "**Final Answer**\n\\boxed{{{box}}}",
    "**Final Answer**\nThe answer is \\boxed{{{box}}}.",
    "**Final Answer**\n\\boxed{{{box}}}",
    "**Final Answer**\n{gist_cap} is \\boxed{{{box}}}.",
)
LEADS = (
    "So ",
    "Then ",
    "Now, ",
    "Okay, so ",
    "Right, ",
    "Let me compute: ",
    "Next, ",
    "So, ",
    "First, ",
    "Hmm, so ",
    "Alright, ",
    "That means ",
    "Which gives: ",
    "Let's see, ",
    "Continuing, ",
)
RECHECK_LEADS = (
    "Wait, let me double-check that. ",
    "Let me verify this again. ",
    "Hold on, let me recompute. ",
    "Hmm, let me make sure. ",
    "Let me check once more: ",
    "Wait, is that right? ",
    "Just to be thorough: ",
    "Let me re-derive this step. ",
    "Hmm, maybe I made an arithmetic slip somewhere. ",
    "Double-checking the earlier step: ",
)
ANSWER_NOTES = (
    "So far I get {ans} for {gist}.",
    "If {gist} is {ans}, then everything I computed above should be consistent with it.",
    "Let me plug {ans} back into the conditions to check. It works.",
    "So the candidate answer is {ans}. Let me see if anything contradicts it.",
    "I keep getting {ans}, which is reassuring.",
    "Hmm, {ans}. Does that make sense in context? I think so.",
)
HESITATE = (
    "Hmm.",
    "Wait.",
    "Hmm, let me think.",
    "Wait a second.",
    "Hold on.",
    "Hmm, okay.",
    "Let me see.",
    "Hmm, that's interesting.",
    "Wait, hold on.",
    "Okay.",
    "Hmm, wait.",
    "Let me think again.",
)
REFLECT = (
    "Let me make sure I didn't make a mistake here.",
    "Maybe I should double-check that step.",
    "That seems right, but let me verify it another way.",
    "I need to be careful with the arithmetic here.",
    "Let me go through this again more slowly.",
    "Is there another way to approach this?",
    "Maybe I'm overcomplicating this.",
    "Let me re-read the problem statement to be sure.",
    "I should check whether I've used all the given information.",
    "Let me write this out more carefully.",
    "Maybe drawing a small table would help organize the numbers.",
    "The key is setting this up correctly.",
    "Are there hidden conditions I'm missing?",
    "Let me name the quantities explicitly.",
    "Let me think about whether the answer should be an integer.",
    "Let me look at the wording again.",
)
CONFIRM = (
    "Yes, that checks out.",
    "Okay, that's consistent.",
    "So that part is correct.",
    "Good, that matches.",
    "Alright, so that seems solid.",
    "That makes sense.",
    "So that works.",
    "Okay, no contradiction there.",
    "Yes, same result.",
    "Great, so the computation holds.",
    "Perfect, that lines up with what I had before.",
    "So this confirms the earlier result.",
)
DOUBT = (
    "But wait, is that really the case?",
    "Hmm, but what if I misread the problem?",
    "Wait, maybe there's a catch here.",
    "But hold on, does the problem say anything else?",
    "Wait, but maybe I should consider the other case as well.",
    "Hmm, but could there be an edge case that breaks this?",
    "But is this the only possibility?",
    "Wait, does the order matter here?",
    "Hmm, but what if the numbers were chosen to trick me?",
    "Wait, am I sure about the units?",
)
PLAN = (
    "Let me try to set up the equations.",
    "First: what is given, and what is asked?",
    "Maybe it's easier to work backwards from what we need.",
    "Let me write down what we know.",
    "Let me try some small cases.",
    "Maybe I can simplify the expression before computing anything.",
    "Let me define variables for the unknowns.",
    "A cleaner approach: the standard formula.",
    "Let me break this into smaller steps.",
    "Perhaps I should check the boundary cases first.",
    "Let me organize the computation step by step.",
    "Let me estimate the answer first.",
)
ALTERNATIVE = (
    "Alternatively, I could approach this differently.",
    "Another way: back to the definitions.",
    "Let me try a different method to confirm.",
    "Alternatively, maybe there's a symmetry argument.",
    "Another approach: compute everything directly instead of using the shortcut.",
    "Let me try a second method, just to be safe.",
)
STEP_TITLES = (
    "Set up the problem",
    "Identify the given quantities",
    "Apply the key relation",
    "Compute",
    "Simplify",
    "Solve the equation",
    "Use the formula",
    "Evaluate",
    "Combine the results",
)
SOLUTION_INTROS = (
    "To find {gist}, we proceed step by step.",
    "We are asked for {gist}.",
    "Given the conditions of the problem, we determine {gist} as follows.",
    "To solve the problem, we analyze the given information.",
    "Let us compute {gist}.",
)
# Paragraphs in another script, as a reasoning model drifts into mid-trace (the planted `mixed_script` rows).
FOREIGN = (
    "所以我们需要重新检查这个计算。首先，把两边同时乘以二，然后把所有的项移到左边，最后合并同类项，"
    "这样就可以得到一个更简单的方程。",
    "等一下，这里好像有问题。让我再仔细看看题目的条件，确认每一个数字都用对了，然后重新计算一遍。",
    "嗯，我觉得这个方法是对的，但是为了保险起见，我再用另一种方法验证一下结果是否一致。",
    "Подождите, давайте ещё раз проверим это вычисление: перенесём все члены в левую часть и упростим.",
)
_DOLLARS = re.compile(r"\$([^$]+)\$")
_MATH = re.compile(r"(\$([^$]{12,})\$|\\\( (.{12,}?) \\\))")


def _generic_bank(seed: int = 20250210, size: int = 6000) -> tuple[str, ...]:
    """Number-free R1 paragraphs, combined once per process from the habits above (deterministic)."""
    r = Random(seed)
    patterns = (
        (HESITATE, REFLECT),
        (HESITATE, DOUBT),
        (DOUBT, PLAN),
        (REFLECT,),
        (CONFIRM,),
        (CONFIRM, PLAN),
        (HESITATE, ALTERNATIVE),
        (DOUBT, REFLECT, CONFIRM),
        (PLAN,),
        (HESITATE, REFLECT, PLAN),
        (ALTERNATIVE,),
        (CONFIRM, DOUBT),
        (HESITATE,),
    )

    def habit() -> str:
        return " ".join(r.choice(part) for part in r.choice(patterns))

    bank = sorted({" ".join(habit() for _ in range(r.randint(1, 2))) for _ in range(size)})
    r.shuffle(bank)  # neighbours in sorted order share their first sentence; a walk through it must not
    return tuple(bank)


OWN_SHARE = 0.6  # share of the middle pieces taken from the row's own derivation (the rest: R1's habits)
SOLUTION_SHARE = 0.12  # the written solution's share of a generation (the think block is about 88%)
PARAGRAPH_BREAK = 0.4  # chance that a piece ends its paragraph (otherwise the next one continues it)


GENERIC = _generic_bank()
# each habit twice: continuing its paragraph, then ending it (index i + len(GENERIC) * ends_paragraph)
GENERIC_PIECES = tuple(p + " " for p in GENERIC) + tuple(p + "\n\n" for p in GENERIC)
_SENTENCE = re.compile(r"(?<=[.?])\s+")


def _habit_walks(count: int = 8, recent: int = 3) -> tuple[np.ndarray, ...]:
    """Orders to draw the bank's habits in, one per stride coprime with its size, each visiting a habit at
    most once and leaving out any that shares a sentence with one of the `recent` habits before it: habits
    drawn close together never repeat a sentence, which reads as a loop. Deterministic, built at import."""
    sentences = [frozenset(_SENTENCE.split(h)) for h in GENERIC]
    n = len(GENERIC)
    strides = itertools.islice((k for k in range(n // 3, n) if math.gcd(k, n) == 1), count)
    walks = []
    for stride in strides:
        order: list[int] = []
        for i in range(n):
            index = i * stride % n
            if not any(sentences[index] & sentences[j] for j in order[-recent:]):
                order.append(index)
        walks.append(np.asarray(order, dtype=np.int64))
    return tuple(walks)


HABIT_WALKS = _habit_walks()
GENERIC_LEN = np.fromiter(map(len, GENERIC_PIECES), dtype=np.int64, count=len(GENERIC_PIECES))


# (lead-in, whether the unit after it starts lower-case), reactions after a unit, and piece endings
OWN_LEADS: tuple[tuple[str, bool], ...] = (
    *((lead, True) for lead in LEADS),
    *((lead, False) for lead in RECHECK_LEADS),
    *((h + " ", False) for h in HESITATE),
    *(("", False),) * 12,
)
OWN_POOL_MAX = 96  # most own pieces of a row (each unit at most twice)
TRIAL_CHARS = 120  # about the length of one trial computation
FRESH_HABITS = 0.6  # share of the own slots past the row's own pieces that take a habit, not a trial
OWN_TAILS = (*(" " + c for c in CONFIRM), *("",) * 20)
SEPARATORS = (" ", " ", " ", "\n\n", "\n\n")  # about PARAGRAPH_BREAK of the pieces end a paragraph
# Trial computations (`RowTraces._trials`): each starts and ends with a number and has fewer than 12 fixed
# words between two numbers, so no two trials share a 12-word sequence (the `repetition` filter's n-gram).
TRIALS = (
    "{a} against {b}: {a} * {b} = {ab}, plus {c} gives {abc}, so {verdict} for {a}.",
    "{a} squared is {a2}, and over {b} that is about {q}; {verdict} ({c}).",
    "n = {n}: n^2 + {c} = {n2}; n = {m}: {m2}. {verdict} at {n}.",
    "{a}/{b} is roughly {q}, so the scale is right; {verdict} for {c}.",
    "{b} + {c} = {bc}, and {bc} times {a} is {bca}: {verdict}, {bc}.",
    "{a} - {b} = {d}, and {a} + {b} + {c} = {s3}; {verdict}, {s3}.",
    "{b} groups of {a} make {ab}, and with {c} more, {abc}; {verdict}, {b}.",
)
VERDICTS = (
    "that does not fit",
    "not what we need",
    "close, but no",
    "consistent with the setup",
    "that rules this case out",
    "that case fails",
    "it matches so far",
)
STEP_REMARKS = (
    "",
    "",
    "",
    "This follows directly from the conditions.",
    "All quantities here are as given.",
    "This is the key relation.",
    "Substituting the values gives the result.",
    "We keep exact values throughout.",
)


def pick(r: Random, options: tuple[str, ...] | list[str]) -> str:
    """`r.choice` without its rejection loop: several times faster, and enough for picking phrasings."""
    return options[int(r.random() * len(options))]


@dataclass(frozen=True)
class TraceContext:
    """What a trace needs to know about its row."""

    problem: str
    gist: str
    steps: tuple[str, ...]
    checks: tuple[str, ...]
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class GenSpec:
    """One generation to write. `box` is the answer boxed at the end of the reasoning, `final` the one boxed
    in the written solution (they differ only for the planted contradictory traces)."""

    length: int
    box: str
    final: str
    mode: str = "complete"  # complete | truncated | double | empty | unboxed | digits | proof | loop | mixed
    answer_note: str = ""


def prose(answer: str) -> str:
    """How R1 mentions an answer in running text: bare when simple, in `\\( \\)` when it is LaTeX."""
    return answer if re.fullmatch(r"-?[\w.,]+", answer) else f"\\( {answer} \\)"


_LABEL = re.compile(
    r"^(?:#+ *)?(?:(?:Problem|Task|Example)\s+(?:[A-Z]-)?[\d.]+\.?|[\d.]+[A-Z]?\.)\s*(?:\(\d+ points\)\s*)?"
)
_CONNECTIVE = ("So ", "Then ", "Thus ", "Hence ", "That ", "Therefore ")


def _first_sentence(problem: str) -> str:
    """The opening of the problem as a solver quotes it, without its contest numbering."""
    text = _LABEL.sub("", " ".join(problem.split()))
    end = text.find(". ", 40)
    return text[: end + 1] if 0 < end < 260 else text[:260].rsplit(" ", 1)[0] + "..."


def numbers_in(problem: str, limit: int = 6) -> tuple[str, ...]:
    seen: list[str] = []
    for match in re.finditer(r"(?<![\w^_{])\d+(?:\.\d+)?", problem):
        if match.group() not in seen:
            seen.append(match.group())
        if len(seen) == limit:
            break
    return tuple(seen)


def generic_steps(problem: str, answer: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Steps for rows without a family derivation (real and benchmark problems): built from the numbers
    the problem states, so the reasoning still talks about this problem."""
    nums = numbers_in(problem)
    ints = [int(n) for n in nums if n.isdigit() and len(n) < 7]
    steps: list[str] = []
    if nums:
        steps.append(
            f"The numbers given are {', '.join(nums[:-1]) + ' and ' + nums[-1] if len(nums) > 1 else nums[0]}."
        )
    for a, b in itertools.pairwise(ints):
        steps.append(
            f"Let me see how {a} and {b} relate: {a} + {b} = {a + b}, {b} - {a} = {b - a}, and "
            f"{a} times {b} is {a * b}."
        )
        if b and a % b == 0:
            steps.append(f"Interesting, {a} is divisible by {b}: {a}/{b} = {a // b}.")
    steps.append("Let me set up the main relation from the conditions and solve it carefully.")
    steps.append(f"Working through the cases, the value that satisfies every condition is {prose(answer)}.")
    checks = (
        f"Let me substitute back: with {prose(answer)} all the stated conditions hold.",
        "I also checked the edge cases, and none of them gives a different value.",
    )
    return tuple(steps), checks


def number_facts(numbers: tuple[str, ...]) -> list[str]:
    """Small true facts about the problem's integers, as R1 notes them while exploring."""
    ints = [int(n) for n in numbers if (n.isdigit() and 1 < len(n) < 7) or (n.isdigit() and 1 < int(n) < 10)]
    facts: list[str] = []
    for a in ints[:3]:
        facts.append(f"{a} is {'even' if a % 2 == 0 else 'odd'}, and {a} squared is {a * a}.")
        factors = [d for d in (2, 3, 5, 7, 11, 13) if a % d == 0 and d < a]
        if factors:
            facts.append(f"{a} is divisible by {factors[0]}: {a} = {factors[0]} * {a // factors[0]}.")
        facts.append(f"Twice {a} is {2 * a}, and half of {a} is {a / 2:g}.")
    for a, b in itertools.pairwise(ints[:4]):
        facts.append(f"Note {a} + {b} = {a + b} and {a} * {b} = {a * b}.")
        facts.append(f"The difference between {max(a, b)} and {min(a, b)} is {abs(a - b)}.")
    return facts


class RowTraces:
    """A row's reasoning material (its derivation steps, checks and facts about its numbers), combined with
    R1's lead-ins and reactions freshly for each generation, so the traces of a row differ."""

    def __init__(self, r: Random, rng: np.random.Generator, ctx: TraceContext) -> None:
        self.ctx = ctx
        self.rng = rng
        self.latex_parens = r.random() < 0.5
        self.steps = tuple(self._math(s) for s in ctx.steps)
        self.checks = tuple(self._math(c) for c in ctx.checks)
        units = [*dict.fromkeys([*self.steps, *self.checks, *number_facts(ctx.numbers)])]
        self.units = tuple(units)
        self.verifications = tuple(f"**Verification**: {c}" for c in self.checks)
        self.extras = tuple(
            f"**Check**: {u}" for u in units[len(dict.fromkeys([*self.steps, *self.checks])) :]
        )
        # after "So " or "Then " a unit continues in lower case; one that opens with a connective itself
        # keeps its own opening instead of taking the lead-in
        low = [u if u.startswith(_CONNECTIVE) else u[0].lower() + u[1:] for u in units]
        bare = [u.startswith(_CONNECTIVE) for u in units]
        # the row's own pieces: each unit at most twice, each time with its own lead-in and reaction. The
        # first pass is a fresh order with the checks and facts first (the trace has just written the steps
        # out); the second is the first rotated by half, so a unit comes back half a pass later, never twice
        # in a row
        steps = len(dict.fromkeys(self.steps))  # the steps open `units`
        order = (steps + rng.permutation(len(units) - steps)).tolist() + rng.permutation(steps).tolist()
        self.fresh_units = len(units) - steps
        half = len(order) // 2
        unit = (order + order[half:] + order[:half] if len(units) >= 6 else order)[:OWN_POOL_MAX]
        size = len(unit)
        lead, tail, sep = (
            rng.integers(0, 1 << 30, (3, size))
            % np.array([[len(OWN_LEADS)], [len(OWN_TAILS)], [len(SEPARATORS)]])
        ).tolist()
        leads, tails = OWN_LEADS, OWN_TAILS
        own = tuple(
            [
                f"{'' if bare[u] and leads[le][1] else leads[le][0]}{low[u] if leads[le][1] else units[u]}"
                f"{tails[t]}{SEPARATORS[b]}"
                for u, le, t, b in zip(unit, lead, tail, sep)
            ]
        )
        self.n_own = len(own)
        self.pieces = own + GENERIC_PIECES
        self.piece_len = np.concatenate(
            [np.fromiter(map(len, own), dtype=np.int64, count=len(own)), GENERIC_LEN]
        )
        self.quote = _first_sentence(ctx.problem)
        self.ints = [int(n) for n in ctx.numbers if n.isdigit() and 0 < int(n) < 100_000]

    def _trials(self, count: int) -> list[str]:
        """Trial computations with fresh numbers, as R1 tries cases and estimates once its derivation is
        written out: what a long trace adds instead of copying its own steps again. Drawn in bulk."""
        rng, ints = self.rng, self.ints
        draws = rng.integers(0, 1 << 30, (6, count))
        a = (
            np.asarray(ints, dtype=np.int64)[draws[0] % len(ints)] + draws[1] % 40
            if ints
            else 2 + draws[0] % 997
        )
        b, c = 2 + draws[1] % 98, 1 + draws[2] % 60
        n2, m2 = b * b + c, (b + 1) * (b + 1) + c
        out = []
        for ai, bi, ci, n2i, m2i, t, v, sep in zip(
            a.tolist(),
            b.tolist(),
            c.tolist(),
            n2.tolist(),
            m2.tolist(),
            (draws[3] % len(TRIALS)).tolist(),
            (draws[4] % len(VERDICTS)).tolist(),
            (draws[5] % len(SEPARATORS)).tolist(),
        ):
            out.append(
                TRIALS[t].format(
                    a=ai,
                    b=bi,
                    c=ci,
                    ab=ai * bi,
                    abc=ai * bi + ci,
                    a2=ai * ai,
                    q=f"{ai / bi:.3f}",
                    n=bi,
                    n2=n2i,
                    m=bi + 1,
                    m2=m2i,
                    d=abs(ai - bi),
                    bc=bi + ci,
                    bca=(bi + ci) * ai,
                    s3=ai + bi + ci,
                    verdict=VERDICTS[v],
                )
                + SEPARATORS[sep]
            )
        return out

    def _math(self, text: str) -> str:
        return _DOLLARS.sub(r"\\( \1 \\)", text) if self.latex_parens else text

    def _middle(self, r: Random, target: int, answer: str) -> list[str]:
        """Text of about `target` characters: the derivation in order first, then R1's re-checks and
        detours, drawn in bulk from the row's own pieces and the generic habits, with an answer note now
        and then."""
        pieces = [
            (
                pick(r, LEADS) + s[0].lower() + s[1:]
                if r.random() < 0.5 and not s.startswith(_CONNECTIVE)
                else s
            )
            + "\n\n"
            for s in self.steps
        ]
        total = sum(len(p) for p in pieces)
        rng, n_own, n_gen = self.rng, self.n_own, len(GENERIC)
        # the own pieces are walked in order from a random start (the steps were just written: start past
        # them); once they are used up, the row's own slots get fresh trial computations
        start, used = int(rng.integers(0, max(1, min(n_own, self.fresh_units - 2)))), 0
        # the habits likewise, with a stride through the bank: none comes back within a generation
        walk_of = HABIT_WALKS[int(rng.integers(0, len(HABIT_WALKS)))]
        first, habits = int(rng.integers(0, walk_of.size)), 0
        while total < target:
            k = int((target - total) / 110) + 8
            u = rng.random((3, k))
            own = u[0] < OWN_SHARE
            walk = used + np.cumsum(own) - 1
            # past the row's own pieces, a slot takes a trial or (number-free, like most of a trace) a habit
            as_habit = ~own | ((walk >= n_own) & (u[1] < FRESH_HABITS))
            habit = habits + np.cumsum(as_habit) - 1
            idx = np.where(
                as_habit,
                n_own + walk_of[(first + habit) % walk_of.size] + (u[2] < PARAGRAPH_BREAK) * n_gen,
                np.where(walk < n_own, (start + walk) % n_own, -1),
            )
            fresh = idx < 0
            lengths = np.where(fresh, TRIAL_CHARS, self.piece_len[np.maximum(idx, 0)])
            cum = np.cumsum(lengths)
            m = min(k, int(np.searchsorted(cum, target - total)) + 1)
            used += int(own[:m].sum())
            habits += int(as_habit[:m].sum())
            if fresh[:m].any():
                trials = iter(self._trials(int(fresh[:m].sum())))
                chosen = [self.pieces[i] if i >= 0 else next(trials) for i in idx[:m].tolist()]
            else:
                picked = itemgetter(*idx[:m].tolist())(self.pieces)
                chosen = list(picked) if m > 1 else [picked]
            pieces.extend(chosen)
            total += sum(map(len, chosen)) if fresh[:m].any() else int(cum[m - 1])
        notes = r.sample(ANSWER_NOTES, min(len(ANSWER_NOTES), 1 + len(pieces) // 60))
        for note in notes:
            at = r.randrange(len(self.steps), len(pieces) + 1)
            pieces.insert(at, note.format(ans=prose(answer), gist=self.ctx.gist) + " ")
        pieces[-1] = pieces[-1].rstrip()
        return pieces

    def think(self, r: Random, target: int, box: str, boxed: bool = True) -> str:
        """The reasoning, ending with the `**Final Answer**` block (unboxed when `boxed` is false)."""
        return "".join(self.think_parts(r, target, box, boxed))

    def think_parts(self, r: Random, target: int, box: str, boxed: bool = True) -> list[str]:
        """`think` as pieces, so a generation is joined once."""
        gist = self.ctx.gist
        opener = pick(r, OPENERS).format(gist=gist) + " " + pick(r, RESTATE).format(quote=self.quote)
        closer = pick(r, CLOSERS).format(ans=prose(box), gist=gist, gist_cap=gist[0].upper() + gist[1:])
        final = (
            pick(r, FINALS).format(box=box, gist_cap=gist[0].upper() + gist[1:])
            if boxed
            else f"**Final Answer**\nThe answer is {prose(box)}."
        )
        budget = target - len(opener) - len(closer) - len(final) - 8
        return [opener, "\n\n", *self._middle(r, budget, box), "\n\n", closer, "\n\n", final]

    def solution(self, r: Random, target: int, box: str, boxed: bool = True) -> str:
        """The written answer after `</think>`, about `target` characters when the row has material for
        it: what is given, numbered steps with their equations displayed, verification, a second check,
        and the boxed result."""
        gist = self.ctx.gist
        parts = [pick(r, SOLUTION_INTROS).format(gist=gist)]
        if r.random() < 0.5:
            parts.append(f"We are told: {self.quote}")
        if self.ctx.numbers and r.random() < 0.6:
            parts.append("Given: " + ", ".join(self.ctx.numbers) + ".")
        first = int(r.random() * max(1, len(STEP_TITLES) - len(self.steps)))
        titles = STEP_TITLES[first:]
        headed = r.random() < 0.5
        for i, (title, step) in enumerate(zip(titles, self.steps), 1):
            text = f"### Step {i}: {title}\n\n{step}" if headed else f"{i}. **{title}**: {step}"
            math = [(a or b, whole) for whole, a, b in _MATH.findall(step)]
            if math and r.random() < 0.7:  # the longest formula displayed in place of its inline form
                formula, inline = max(math, key=lambda m: len(m[0]))
                text = text.replace(inline, f"\n\n\\[\n{formula}\n\\]\n\n", 1).rstrip()
            parts.append(f"{text} {pick(r, STEP_REMARKS)}".rstrip())
        total = sum(len(p) + 2 for p in parts)
        start = int(r.random() * len(self.extras))
        for extra in (*self.verifications, *self.extras[start:], *self.extras[:start]):
            if total >= target - 120:
                break
            parts.append(extra)
            total += len(extra) + 2
        if total < target - 120:  # the row's material is used up: spot checks with fresh numbers
            for trial in self._trials(min(40, (target - total) // TRIAL_CHARS)):
                parts.append(f"**Check**: {trial.rstrip()}")
                total += len(parts[-1]) + 2
                if total >= target - 120:
                    break
        if boxed:
            parts.append(
                f"Thus, {gist} is \\(\\boxed{{{box}}}\\)."
                if r.random() < 0.6
                else f"---\n\n### Final Answer\n\n$$\n\\boxed{{{box}}}\n$$"
            )
        else:
            parts.append(f"Thus, {gist} is {prose(box)}.")
        return "\n\n".join(parts)


def digit_paragraphs(r: Random, digits: int) -> list[str]:
    """Long decimal expansions, as R1 writes when it hunts for a period: about one Qwen token per digit."""
    out, total = [], 0
    while total < digits:
        q = r.choice((97, 193, 389, 577, 769, 1153, 1297, 1409))
        p = r.randint(1, q - 1)
        n = r.randint(700, 1500)
        expansion = str(p * 10**n // q).zfill(n)
        out.append(f"Let me write out the decimal expansion of {p}/{q} to look for the period: 0.{expansion}")
        total += n
    return out


def render(r: Random, rows: RowTraces, spec: GenSpec) -> str:
    """One generation in the requested shape, close to `spec.length` characters: the written solution
    is made first (about 12% of the length, as in R1's outputs), the reasoning fills the rest."""
    if spec.mode == "empty":
        return "<think>\n\n</think>\n\n" + rows.solution(r, spec.length, spec.final)
    if spec.mode == "truncated":
        body = rows.think(r, spec.length + 400, spec.box)
        cut = body.rfind(" ", 0, spec.length - 8)
        return "<think>\n" + body[: cut if cut > 0 else spec.length - 8]
    boxed = spec.mode not in ("unboxed", "proof")
    share = SOLUTION_SHARE * (0.6 + 0.8 * r.random())
    solution = rows.solution(r, max(300, min(6000, int(spec.length * share))), spec.final, boxed=boxed)
    if spec.mode == "proof":
        solution += "\n\nThis completes the proof. $\\blacksquare$"
    if spec.answer_note:
        solution += "\n\n" + spec.answer_note
    think_len = max(200, spec.length - len(solution) - 22)
    if spec.mode == "double":
        first = rows.think(r, think_len // 2, spec.box)
        second = rows.think(r, think_len - think_len // 2, spec.box)
        return f"<think>\n{first}\n</think>\n\n<think>\n{second}\n</think>\n\n{solution}"
    if spec.mode == "digits":
        extra = digit_paragraphs(r, int(think_len * 0.45))
        head, tail = rows.think(r, think_len - sum(len(p) + 2 for p in extra), spec.box).split("\n\n", 1)
        return "<think>\n" + "\n\n".join((head, *extra, tail)) + f"\n</think>\n\n{solution}"
    parts = rows.think_parts(r, think_len, spec.box, boxed=boxed)
    if spec.mode == "loop":
        parts = looping(r, rows, parts)
    elif spec.mode == "mixed":
        parts.insert(2 + (len(parts) - 6) // 3, pick(r, FOREIGN) + "\n\n")
    if spec.mode == "proof":
        parts[-1] = "Hence the statement is proved."
    return "".join(("<think>\n", *parts, "\n</think>\n\n", solution))


def looping(r: Random, rows: RowTraces, parts: list[str]) -> list[str]:
    """The reasoning with a loop planted in its middle: its longest paragraph piece written three to five
    times back to back, or a "Wait, let me recheck" cycle around one of its steps going round four to six
    times (the two shapes `repetition` is meant to catch). At least 120 characters repeat after the first
    copy, the filter's default loop length."""
    middle = range(2, max(3, len(parts) - 4))
    longest = max(middle, key=lambda i: len(parts[i]))
    if r.random() < 0.5 and len(parts[longest].strip()) >= 80:
        block = parts[longest].strip() + "\n\n"
        copies = 3 + int(r.random() * 3)
    else:
        step = rows.steps[int(r.random() * len(rows.steps))]
        block = f"Wait, let me recheck that. {step} {pick(r, RECHECK_LEADS)}Hmm, that gives the same thing again. "
        copies = 4 + int(r.random() * 3)
    at = middle[len(middle) // 2]
    return [*parts[:at], block * copies, *parts[at:]]


def last_box(text: str) -> str | None:
    """The content of the last `\\boxed{...}` of a text (brace-matched), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + 7
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[start + 7 : i - 1].strip() if depth == 0 else None


def final_box(generation: str) -> str | None:
    """The answer a verifier reads: the last box after `</think>` (None without `</think>` or a box)."""
    _, sep, tail = generation.rpartition("</think>")
    return last_box(tail) if sep else None


def rebox(text: str, answer: str) -> str:
    """The same generation with every boxed answer replaced by `answer`."""
    out, start = [], 0
    while (i := text.find("\\boxed{", start)) >= 0:
        depth, j = 1, i + 7
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        out.append(text[start:i] + "\\boxed{" + answer + "}")
        start = j
    out.append(text[start:])
    return "".join(out)
