"""`think_format`: one planted generation per reason, the length bound as the output holds the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.engine import run_recipe
from curate.filters import KEEP, Drop, FilterContext, Trace
from curate.filters.think_format import ThinkFormat, ThinkFormatParams
from curate.formatting import normalize_trace
from curate.recipe import load_recipe
from tests import openr1_rows as rows

GOOD = "<think>\nTwo plus two is four.\n</think>\n\nSo the answer is $\\boxed{4}$."


def check(text: str, *, normalize_think: bool = True, **params: object) -> str:
    f = ThinkFormat(
        ThinkFormatParams(**params), FilterContext(format_kwargs={"normalize_think": normalize_think})
    )
    trace = Trace(row_id=0, uuid="u", problem="2+2?", answer="4", index=1, text=text)
    [verdict] = f.apply([trace])
    return "keep" if verdict == KEEP else verdict.reason  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (GOOD, "keep"),
        ("  \n" + GOOD, "keep"),  # whitespace before <think> is fine
        ("<think>x</think>\\boxed{4}", "keep"),
        ("<think>\nx\n</think>\n\n\\fbox{4}", "keep"),
        ("Two plus two is four. \\boxed{4}", "no_think"),
        ("Two plus two is four.\n</think>\n\n\\boxed{4}", "no_think"),  # the template's <think> is missing
        ("<think>\na\n</think>\n<think>\nb\n</think>\n\\boxed{4}", "multiple_think"),
        ("<think>\na <think> b\n</think>\n\\boxed{4}", "multiple_think"),
        ("<think>\na\n</think>\n</think>\n\\boxed{4}", "multiple_think"),
        ("<think>\nTwo plus two is four, so \\boxed{4}", "unclosed_think"),  # truncated
        ("Sure! <think>\nx\n</think>\n\\boxed{4}", "misplaced_think"),
        ("</think>\nx\n<think>\n\\boxed{4}", "misplaced_think"),
        ("<think>\n \n\t</think>\n\n\\boxed{4}", "empty_reasoning"),
        ("<think>\nso \\boxed{4}\n</think>\n\nThe answer is 4.", "no_boxed_after_think"),
        ("<think>\nx\n</think>\n\n\\boxed{\\frac{1}{2}", "no_boxed_after_think"),  # never closed
    ],
)
def test_each_reason(text: str, reason: str) -> None:
    assert check(text) == reason


def test_boxed_can_be_optional() -> None:
    assert check("<think>\nx\n</think>\n\nFour.", require_boxed=False) == "keep"


def test_length_is_measured_on_the_assistant_text_as_written() -> None:
    # No whitespace around the tags: normalising adds 4 characters ("\n" x2 and "\n\n").
    text = "<think>" + "r" * 80 + "</think>" + "\\boxed{4}"
    written = normalize_trace(text)
    assert len(written) == len(text) + 4
    assert check(text, max_chars=len(written)) == "keep"
    assert check(text, max_chars=len(written) - 1) == "too_many_chars"
    # With normalize_think off the output holds the raw generation.
    assert check(text, max_chars=len(text), normalize_think=False) == "keep"
    assert check(text, max_chars=len(text) - 1, normalize_think=False) == "too_many_chars"
    # Generous whitespace shrinks under normalisation.
    padded = "\n\n<think>\n\n\n" + "r" * 80 + "\n\n\n</think>\n\n\n\n\\boxed{4}\n\n"
    assert check(padded, max_chars=len(normalize_trace(padded))) == "keep"
    assert check(GOOD, max_chars=None) == "keep"


def test_default_bound_is_sixty_thousand_characters() -> None:
    body = "<think>\n{}\n</think>\n\n\\boxed{{4}}"
    fits = body.format("r" * (60_000 - len(body.format(""))))
    assert len(fits) == 60_000 and check(fits) == "keep"
    assert check(body.format("r" * (60_001 - len(body.format(""))))) == "too_many_chars"


def test_drop_detail_and_info() -> None:
    f = ThinkFormat(ThinkFormatParams(max_chars=50), FilterContext())
    long = "<think>\n" + "r" * 100 + "\n</think>\n\n\\boxed{4}"
    [drop] = f.apply([Trace(row_id=0, uuid="u", problem="p", answer="4", index=2, text=long)])
    assert isinstance(drop, Drop)
    assert drop.detail == f"generation 2: {len(long):,} characters of assistant text > 50"
    assert drop.info == {"generation": 2, "chars": len(long)}


def test_fingerprint_follows_normalize_think() -> None:
    on = ThinkFormat(ThinkFormatParams(), FilterContext(format_kwargs={"normalize_think": True}))
    off = ThinkFormat(ThinkFormatParams(), FilterContext(format_kwargs={"normalize_think": False}))
    assert on.fingerprint_extra() != off.fingerprint_extra()


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        ThinkFormatParams(max_chars=0)
    with pytest.raises(ValueError):
        ThinkFormatParams(max_tokens=5)  # type: ignore[call-arg]


def test_from_a_recipe(tmp_path: Path) -> None:
    good = rows.trace("We solve it, x = 7.", "7")
    data = [
        rows.row("good", "Find x.", "7", [good]),
        rows.row("unclosed", "Find y.", "7", ["<think>\nwe keep going and going"]),
        rows.row("second", "Find z.", "7", ["<think>\n\n</think>\n\n\\boxed{7}", good]),
        rows.row("unboxed", "Find w.", "7", ["<think>\nx = 7\n</think>\n\nSeven."]),
    ]
    source = rows.write(tmp_path / "src.parquet", data)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: think-test\nsource: {{path: {source}}}\nfilters:\n  - think_format: {{max_chars: 60000}}\n"
        f"select: first\nsample: {{test_size: 0}}\noutput: {{dir: {tmp_path / 'out'}}}\n"
    )
    result = run_recipe(load_recipe(recipe))
    [entry] = [e for e in result.stats["funnel"] if e["filter"] == "think_format"]
    assert entry["rows_in"] == 4 and entry["rows_out"] == 2
    assert entry["dropped"] == {"no_boxed_after_think": 1, "unclosed_think": 1}
    stats = json.loads((result.out_dir / "stats.json").read_text())
    assert stats["rows"]["train"] == 2
