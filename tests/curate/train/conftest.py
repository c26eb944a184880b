"""Fixtures: curated outputs produced by the real engine, and a tiny Qwen3 model with the real tokenizer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.curate.train.handoff import curate_output, tokenizer_files


@pytest.fixture(scope="session")
def tokenizer_dir() -> Path:
    return tokenizer_files()


@pytest.fixture(scope="session")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `curate run` output of 23 kept rows (the rich ones among them): 19 train, 4 test."""
    return curate_output(tmp_path_factory.mktemp("curated"))


@pytest.fixture(scope="session")
def curated_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same, with a system turn first (format.system_prompt)."""
    return curate_output(tmp_path_factory.mktemp("curated-system"), system="You are a careful mathematician.")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised two-layer Qwen3 with the real Qwen3 tokenizer files: what verl loads as
    `model.path` (its config, tokenizer and stock chat template) without a download."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-qwen3") / "model"
    shutil.copytree(tokenizer_files(), folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    Qwen3ForCausalLM(config).save_pretrained(folder)
    return folder
