"""`token_length`: exact counts of the rows verl trains on, bounds that skip only sure drops, and YAML use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from curate import filters
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.filters import Drop, FilterContext, Keep, Trace
from curate.filters.token_length import TokenLength
from curate.formatting import build_messages
from curate.recipe import load_recipe
from curate.tokenizers import chatml, load_counter
from tests import openr1_rows as rows
from tests.curate.tokenizers.test_qwen3 import (
    CRAFTED,
    TRAINING_TEMPLATE,
    hf_chat_ids,
    real_rows,
    tokenizer_folder,
    well_formed_trace,
)


def make_trace(problem: str, text: str, index: int = 0) -> Trace:
    return Trace(row_id=index, uuid=f"u{index}", problem=problem, answer="", index=index, text=text)


def length_filter(context: FilterContext | None = None, **params: object) -> TokenLength:
    f = TokenLength(TokenLength.Params(**params), context or FilterContext())
    f.setup()
    return f


def real_traces() -> list[Trace]:
    out = []
    for i, row in enumerate(real_rows()):
        out.append(make_trace(row["user_prompt"], well_formed_trace(row), 2 * i))
        out.append(
            make_trace(row["user_prompt"], row["regenerated_content"], 2 * i + 1)
        )  # truncated, as written
    return out


def test_registered_with_defaults() -> None:
    assert filters.get("token_length") is TokenLength
    params = TokenLength.Params()
    assert (params.max_tokens, params.min_tokens, params.tokenizer) == (16384, 0, "qwen3")


def test_kept_rows_carry_the_exact_hf_count() -> None:
    traces = real_traces()
    verdicts = length_filter(min_tokens=1).filter_batch(traces)  # a lower bound makes every kept row counted
    for trace, verdict in zip(traces, verdicts):
        assert isinstance(verdict, Keep)
        messages = build_messages(trace.problem, trace.text)
        n = verdict.fields["num_tokens"]
        assert n == len(hf_chat_ids(messages, TRAINING_TEMPLATE))
        if "</think>" in messages[-1]["content"]:
            assert n == len(hf_chat_ids(messages))  # the stock Qwen3 template agrees on the normalised form


def test_bounds_are_inclusive_and_drops_say_the_count() -> None:
    trace = real_traces()[0]
    n = load_counter().count_messages(build_messages(trace.problem, trace.text))
    assert length_filter(max_tokens=n).filter(trace) == Keep(fields={"num_tokens": n})
    assert length_filter(max_tokens=n, min_tokens=n).filter(trace) == Keep(fields={"num_tokens": n})
    too_long = length_filter(max_tokens=n - 1).filter(trace)
    assert too_long == Drop(
        "too_long",
        f"{n} tokens > max_tokens {n - 1} (qwen3)",
        {"num_tokens": n, "exact": True, "max_tokens": n - 1},
    )
    too_short = length_filter(max_tokens=n + 5, min_tokens=n + 1).filter(trace)
    assert isinstance(too_short, Drop) and too_short.reason == "too_short"
    assert too_short.info == {"num_tokens": n, "exact": True, "min_tokens": n + 1}


def test_recipe_format_is_counted() -> None:
    context = FilterContext(
        format_kwargs={
            "system_prompt": "You are a careful mathematician. 请逐步推理。",
            "user_template": "Solve the problem.\n\n{problem}\n\nPut the final answer in \\boxed{}.",
            "normalize_think": True,
        }
    )
    traces = real_traces()[:10] + [make_trace(t, f"<think>\n{t}\n</think>\n\n{t}") for t in CRAFTED]
    for trace, verdict in zip(traces, length_filter(context, min_tokens=1).filter_batch(traces)):
        messages = build_messages(trace.problem, trace.text, **context.format_kwargs)
        assert isinstance(verdict, Keep)
        assert verdict.fields["num_tokens"] == len(hf_chat_ids(messages, TRAINING_TEMPLATE))


def test_sure_drops_skip_tokenisation_and_stay_true() -> None:
    """A row whose digits and words alone exceed the bound is dropped on the bound; its real count agrees."""
    counter = load_counter()
    long_text = (
        "<think>\n" + "Step 12: so x = 3 and y = 45, hence 3 + 45 = 48. " * 400 + "\n</think>\n\n\\boxed{48}"
    )
    trace = make_trace("Find x.", long_text)
    verdict = length_filter(max_tokens=1000).filter(trace)
    assert isinstance(verdict, Drop) and verdict.reason == "too_long"
    assert verdict.info is not None and verdict.info["exact"] is False
    assert verdict.detail.startswith(f"at least {verdict.info['num_tokens']} tokens")
    true_count = counter.count_messages(build_messages(trace.problem, trace.text))
    assert 1000 < verdict.info["num_tokens"] <= true_count
    short = length_filter(max_tokens=10**6, min_tokens=10**5).filter(
        make_trace("Find x.", "<think>\nx\n</think>\n\n1")
    )
    assert isinstance(short, Drop) and short.reason == "too_short" and short.info["exact"] is False
    assert short.detail.startswith("at most ")


def test_rows_that_surely_fit_are_kept_uncounted() -> None:
    """At most `max_tokens` bytes cannot exceed `max_tokens` tokens: kept without BPE, counted by the writer."""
    counter = load_counter()
    traces = real_traces()
    verdicts = length_filter(max_tokens=8000).filter_batch(traces)
    uncounted = 0
    for trace, verdict in zip(traces, verdicts):
        text = chatml(build_messages(trace.problem, trace.text))
        true_count = counter.count(text)
        if isinstance(verdict, Keep) and not verdict.fields:
            uncounted += 1
            assert len(text.encode("utf-8")) <= 8000 and true_count <= 8000
        elif isinstance(verdict, Keep):
            assert verdict.fields["num_tokens"] == true_count <= 8000
        else:
            assert verdict.reason == "too_long" and true_count > 8000
    assert 0 < uncounted < len(traces)


def test_a_batch_mixes_counted_and_bounded_rows_in_order() -> None:
    traces = real_traces()[:6]
    traces.insert(3, make_trace("Find x.", "1 2 3 4 5 6 7 8 9 " * 2000))
    verdicts = length_filter(max_tokens=8000).filter_batch(traces)
    assert [v.reason if isinstance(v, Drop) else "keep" for v in verdicts] == ["keep"] * 3 + ["too_long"] + [
        "keep"
    ] * 3
    alone = [length_filter(max_tokens=8000).filter(t) for t in traces]
    assert verdicts == alone


def test_params_are_validated() -> None:
    with pytest.raises(ValidationError, match="min_tokens"):
        TokenLength.Params(min_tokens=10, max_tokens=5)
    with pytest.raises(ValidationError):
        TokenLength.Params(max_token=5)
    with pytest.raises(ValidationError):
        TokenLength.Params(max_tokens=0)


def test_tokenizer_json_relative_to_the_recipe(tmp_path: Path) -> None:
    (tmp_path / "tok").mkdir()
    shutil.copy(tokenizer_folder() / "tokenizer.json", tmp_path / "tok" / "tokenizer.json")
    context = FilterContext(recipe_dir=str(tmp_path))
    converted = length_filter(context, tokenizer="tok/tokenizer.json")
    traces = real_traces()[:8]
    assert converted.filter_batch(traces) == length_filter().filter_batch(traces)
    fingerprint = converted.fingerprint_extra()
    assert fingerprint != length_filter().fingerprint_extra()
    data = json.loads((tmp_path / "tok" / "tokenizer.json").read_text(encoding="utf-8"))
    (tmp_path / "tok" / "tokenizer.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    assert converted.fingerprint_extra() != fingerprint
    with pytest.raises(CurateError, match="tokenizer file not found"):
        length_filter(context, tokenizer="missing/tokenizer.json")


RECIPE = """\
name: length-test
source: {{path: {source}}}
seed: 3
filters:
  - is_reasoning_complete: {{}}
  - token_length: {{max_tokens: {max_tokens}}}
select: longest
sample: {{test_size: 0}}
output: {{dir: {out}}}
"""


def test_from_yaml_bounds_every_written_row(tmp_path: Path) -> None:
    """Longest-first selection falls back to a generation that fits; a row with none that fits is dropped."""
    huge = rows.trace("Let me check every case again. " * 300, "7")
    data = rows.many(8)
    data.append(rows.row("mixed", "Find 3+4.", "7", [rows.trace("3+4=7.", "7"), huge]))
    data.append(rows.row("huge", "Find 2+5.", "7", [huge, huge + " Done."]))
    source = rows.write(tmp_path / "src.parquet", data)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE.format(source=source, max_tokens=400, out=tmp_path / "out"))
    result = run_recipe(load_recipe(recipe))
    train = pl.read_parquet(result.out_dir / "train.parquet")
    index = dict(zip(train["uuid"].to_list(), train["generation_index"].to_list()))
    assert index["mixed"] == 0 and index["uuid-00000"] == 1 and "huge" not in index
    for record in train.iter_rows(named=True):
        assert record["num_tokens"] == len(hf_chat_ids(record["messages"])) <= 400
    rejections = pl.read_parquet(result.out_dir / "rejections.parquet")
    huge_row = rejections.filter(pl.col("uuid") == "huge").row(0, named=True)
    assert huge_row["filter"] == "token_length" and huge_row["reason"] == "too_long"
    assert "> max_tokens 400 (qwen3)" in huge_row["detail"]
    funnel = {entry["filter"]: entry for entry in result.stats["funnel"]}
    assert funnel["token_length"]["dropped"] == {"too_long": 1}
    report = json.loads((result.out_dir / "token_length_report.json").read_text())
    assert report["dropped"] == {"too_long": 1} and report["max_tokens"] == 400


def test_written_counts_use_the_filters_tokenizer(tmp_path: Path) -> None:
    """Rows kept on the byte bound are counted by the writer with token_length's own tokenizer, not Qwen3's."""
    from tests.curate.tokenizers.test_convert import trained_bpe

    data = rows.many(8)
    tokenizer = trained_bpe([g for r in data for g in r["generations"]], 400)
    (tmp_path / "tok").mkdir()
    tokenizer.save(str(tmp_path / "tok" / "tokenizer.json"))
    source = rows.write(tmp_path / "src.parquet", data)
    recipe = tmp_path / "recipe.yaml"
    text = RECIPE.format(source=source, max_tokens=100_000, out=tmp_path / "out")
    recipe.write_text(
        text.replace("{max_tokens: 100000}", "{max_tokens: 100000, tokenizer: tok/tokenizer.json}")
    )
    train = pl.read_parquet(run_recipe(load_recipe(recipe)).out_dir / "train.parquet")
    own, qwen3 = load_counter(str(tmp_path / "tok" / "tokenizer.json")), load_counter()
    assert train.height == 8
    for record in train.iter_rows(named=True):
        assert record["num_tokens"] == own.count_messages(record["messages"])
        assert record["num_tokens"] != qwen3.count_messages(record["messages"])
