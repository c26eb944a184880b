"""Text transforms behind the planted duplicates and benchmark copies, and the catalogue of planted kinds.

Each kind names the filters that must drop such a row under their default parameters; the sample's
`.planted.json` manifest repeats them per row so a test can check the funnel row by row.
"""

from __future__ import annotations

import re
import unicodedata
from random import Random

# kind -> (filters that drop it under default parameters, what the row looks like)
KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "exact_duplicate": (("exact_dedup",), "same problem text as an earlier row, new uuid and generations"),
    "exact_duplicate_formatted": (
        ("exact_dedup",),
        "an earlier row's problem differing only in whitespace, case, $ vs \\( delimiters, \\dfrac vs \\frac "
        "or the numbering prefix",
    ),
    "near_duplicate": (("minhash_dedup",), "an earlier row's problem with a few words changed or added"),
    "benchmark_verbatim": (
        ("decontaminate",),
        "a benchmark problem copied verbatim (base text or a variant)",
    ),
    "benchmark_formatted": (("decontaminate",), "a benchmark problem with formatting changes only"),
    "benchmark_embedded": (("decontaminate",), "a benchmark problem inside extra text"),
    "benchmark_reworded": (("decontaminate",), "a benchmark problem lightly reworded, numbers kept"),
    "wrong_answer": (("answer_verify", "correctness_count"), "every generation boxes a wrong answer"),
    "missing_boxed": (("think_format", "answer_verify"), "no generation has a \\boxed{} answer"),
    "mislabeled_correct": (
        ("answer_verify",),
        "labels say correct but each generation's final box is wrong (its reasoning boxed the gold answer "
        "earlier): reverify drops it, trust_labels keeps it",
    ),
    "mislabeled_incorrect": (
        ("correctness_count",),
        "every generation boxes the right answer but the labels say incorrect: reverify keeps it, "
        "trust_labels and correctness_count drop it",
    ),
    "truncated": (
        ("is_reasoning_complete", "finish_reason", "think_format", "answer_verify"),
        "every generation cut at the length cap: no </think>, finish_reason length",
    ),
    "double_think": (("think_format",), "every generation has two <think> blocks"),
    "empty_think": (("think_format",), "every generation has an empty <think></think> block"),
    "overlong": (
        ("think_format", "token_length"),
        "every generation over 60,000 characters and 16,384 tokens",
    ),
    "token_heavy": (
        ("token_length",),
        "every generation under 60,000 characters but over 16,384 Qwen3 tokens (digit-dense reasoning)",
    ),
    "finish_reason_missing": (("finish_reason",), "finish_reasons are null"),
    "looping": (
        ("repetition",),
        "every generation loops: a paragraph of its reasoning written three to five times back to back, or "
        "a 'Wait, let me recheck' cycle around one step going round four to six times",
    ),
    "mixed_script": (
        ("language_mix",),
        "every generation's reasoning switches into another script for a paragraph (Chinese or Russian)",
    ),
    "mcq": (("question_type",), "a multiple-choice question"),
    "proof": (("question_type", "correctness_count", "answer_verify", "think_format"), "a proof problem"),
}
ANSWER_VERIFY_MODES = {
    "mislabeled_correct": {"reverify": "drop", "trust_labels": "keep"},
    "mislabeled_incorrect": {"reverify": "keep", "trust_labels": "drop"},
    "wrong_answer": {"reverify": "drop", "trust_labels": "drop"},
}

_NUMBERING = re.compile(
    r"^\s*(?:#+\s*)?(?:(?:Problem|Task|Example|Zadatak|Exercise)\s+(?:[A-Z]-)?\d+(?:\.\d+)*\.?:?\s*"
    r"|[A-Z]?\d+(?:\.\d+)*[A-Z]?\.\s+|[IVX]+\.\s+|(?:One|Two|Three|Four|Five|Six),\s*)"
    r"(?:\(\s*\d+\s*points?\s*\)\s*)?"
)
_WORD = re.compile(r"\S+")


def normalize(text: str) -> str:
    """The problem normalisation the dedup filters specify (Unicode NFKC, case, whitespace, LaTeX delimiters
    and spacing, `\\dfrac`, leading numbering). Used to prove planted copies normalise as intended."""
    text = unicodedata.normalize("NFKC", text)
    text = _NUMBERING.sub("", text, count=1)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"\\left|\\right|\\[,;!]|\\[()\[\]]|\$", " ", text)
    return " ".join(text.lower().split())


_TOKEN = re.compile(r"\\[a-z]+|[a-z]+|\d+|[^\s\w{}]")


def tokens(text: str) -> list[str]:
    """The normalised problem as tokens (LaTeX commands, words, digit runs, single symbols; braces dropped),
    the unit the MinHash filter shingles."""
    return _TOKEN.findall(normalize(text))


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = tokens(text)
    return {tuple(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}


def jaccard(a: str, b: str, n: int = 5) -> float:
    sa, sb = shingles(a, n), shingles(b, n)
    return len(sa & sb) / len(sa | sb)


# ------------------------------------------------------------------------------------------ formatting
def _whitespace(r: Random, text: str) -> str:
    parts = text.split(" ")
    return "".join(p + (" " if r.random() < 0.7 else "  ") for p in parts[:-1]) + parts[-1] + "\n"


def _delimiters(_: Random, text: str) -> str:
    text = re.sub(r"\$\$(.+?)\$\$", r"\\[\1\\]", text, flags=re.S)
    return re.sub(r"\$([^$]+)\$", r"\\(\1\\)", text)


def _dfrac(_: Random, text: str) -> str:
    return text.replace("\\frac", "\\dfrac")


def _lowercase(_: Random, text: str) -> str:
    """The problem lower-cased; a leading label keeps its case ("1B." is a label, "1b." reads as text)."""
    body = _NUMBERING.sub("", text, count=1)
    return text[: len(text) - len(body)] + body.lower()


def _renumber(r: Random, text: str) -> str:
    body = _NUMBERING.sub("", text, count=1)
    prefix = r.choice(
        ("", "1. ", "3. (6 points) ", "## Task B-1.3.\n\n", "9.6. ", "Problem 4. ", "Example 2 ")
    )
    return prefix + body if prefix + body != text else "12. " + body


FORMATTERS = {  # in the order they are applied
    "numbering": _renumber,
    "delimiters": _delimiters,
    "dfrac": _dfrac,
    "case": _lowercase,
    "whitespace": _whitespace,
}


def reformat(r: Random, text: str) -> tuple[str, list[str]]:
    """Apply one to three formatting changes that the normalisation undoes; the text always changes."""
    usable = [name for name in FORMATTERS if name != "dfrac" or "\\frac" in text]
    if "$" not in text:
        usable.remove("delimiters")
    chosen = sorted(r.sample(usable, r.randint(1, min(3, len(usable)))), key=list(FORMATTERS).index)
    out = text
    for name in chosen:  # renumbering first: once lowered, "1B." no longer reads as a label
        out = FORMATTERS[name](r, out)
    if out == text:
        out, chosen = _whitespace(r, text), ["whitespace"]
    return out, chosen


# ----------------------------------------------------------------------------------------- near copies
APPENDIX = (" Explain.", " Justify.", " Be careful!", " Good luck!", " Show work.", " Think twice.")
PREFACE = ("Consider: ", "Now, ", "Try this: ", "Well, ")


def near_copy(r: Random, text: str, minimum: float = 0.93) -> tuple[str, str, float] | None:
    """A copy with two or three words added at the end or the start (5-gram Jaccard >= `minimum` on the
    normalised tokens, and different after normalisation), or None when the text is too short for that.
    MinHash LSH tuned for 0.8 finds pairs this close almost surely; at 0.85 it misses about one in four."""
    noted = "Translate the above" in text  # text after such a note is the note's, for a normaliser
    for _ in range(6):
        if r.random() < 0.7 and not noted:
            edit, copy = "appended", text.rstrip() + r.choice(APPENDIX)
        else:
            body = _NUMBERING.sub("", text, count=1)
            edit, copy = "prefaced", text[: len(text) - len(body)] + r.choice(PREFACE) + body
        score = jaccard(text, copy)
        if score >= minimum and normalize(copy) != normalize(text):
            return copy, edit, round(score, 4)
    return None


SYNONYMS = (
    ("Find ", "Determine "),
    ("find ", "determine "),
    ("Compute ", "Calculate "),
    ("compute ", "calculate "),
    ("How many ", "What is the number of "),
    ("positive integers", "positive whole numbers"),
    ("Let ", "Suppose "),
    ("such that", "so that"),
    ("the sum of", "the total of"),
    ("Determine ", "Find "),
    ("What is ", "Find "),
    ("probability", "chance"),
    ("greatest", "largest"),
    ("smallest", "least"),
    ("relatively prime", "coprime"),
    ("integer", "whole number"),
    ("exactly", "precisely"),
    ("Suppose ", "Assume "),
    ("There are ", "We have "),
    ("each ", "every "),
    ("consecutive", "successive"),
)


def reword(r: Random, text: str) -> tuple[str, list[str]]:
    """Light rewording: a few synonym swaps outside the numbers, at most about one word in seven."""
    words = len(_WORD.findall(text))
    budget = max(1, words // 7)
    applicable = [(a, b) for a, b in SYNONYMS if a in text]
    r.shuffle(applicable)
    changes = []
    for a, b in applicable[:budget]:
        text = text.replace(a, b, 1)
        changes.append(f"{a.strip()} -> {b.strip()}")
    if not changes:
        text = "Suppose that, in the following situation, " + text[0].lower() + text[1:]
        changes.append("preface")
    return text, changes


INTROS = (
    "Solve the following problem, which appeared in a recent competition.\n\n",
    "Here is a problem from our practice set. Read it carefully.\n\n",
    "The following question was discussed in class today:\n\n",
    "I found this problem in an old contest booklet and I am stuck on it.\n\n",
    "Consider the following problem.\n\n",
)
OUTROS = (
    "\n\nPlease explain each step of your solution.",
    "\n\nNote: the answer is expected to be a single number.",
    "\n\nPlease reason step by step, and put your final answer within \\boxed{}.",
    "\n\nGive a complete solution, not just the answer.",
)


def embed(r: Random, text: str, other: str | None) -> tuple[str, str]:
    """The problem inside extra text: an introduction and closing line, or as part (2) after another problem."""
    if other is not None and r.random() < 0.4:
        return f"(1) {other}\n\n(2) {text}", "second part after another problem"
    return r.choice(INTROS) + text + r.choice(OUTROS), "introduction and closing text"
