"""What verl 0.9.1 actually trains on: its own config, model config and `MultiTurnSFTDataset`, fed the
overrides `curate train` generates and a parquet `curate run` wrote, with the real Qwen3 tokenizer."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import torch

from curate.tokenizers import chatml, load_counter
from curate.train.plan import Request, build_plan, training_chat_template
from curate.train.verl_env import compose, find_verl

pytest.importorskip("verl.utils.dataset.multiturn_sft_dataset")


def verl_view(out_dir: Path, model: Path, *, stock_template: bool = False) -> tuple[Any, list[Any]]:
    """verl's tokenizer and datasets, built exactly as `SFTTrainer._build_config/_build_dataset` do."""
    from verl.trainer.sft_trainer import create_sft_dataset
    from verl.utils.config import omega_conf_to_dataclass

    plan = build_plan(Request(out_dir, model=str(model), gpus_per_node=2, batch_size=4))
    overrides = plan.hydra_overrides()
    if stock_template:
        overrides = [o for o in overrides if not o.startswith("model.custom_chat_template=")]
    install = find_verl()
    assert install is not None
    config = compose(install, overrides)
    model_config = omega_conf_to_dataclass(config.model)
    datasets = [
        create_sft_dataset(files, config.data, model_config.tokenizer, model_config.processor)
        for files in (config.data.train_files, config.data.val_files)
    ]
    return model_config.tokenizer, datasets


def rows_of(out_dir: Path) -> list[dict[str, Any]]:
    return [
        *pl.read_parquet(out_dir / "train.parquet").to_dicts(),
        *pl.read_parquet(out_dir / "test.parquet").to_dicts(),
    ]


@pytest.mark.parametrize("fixture", ["curated", "curated_system"])
def test_trained_tokens_are_the_whole_assistant_turn(
    fixture: str, request: pytest.FixtureRequest, tiny_model: Path
) -> None:
    out_dir = request.getfixturevalue(fixture)
    tokenizer, datasets = verl_view(out_dir, tiny_model)
    assert tokenizer.chat_template == training_chat_template()
    counter = load_counter("qwen3")
    rows = rows_of(out_dir)
    items = [dataset[i] for dataset in datasets for i in range(len(dataset))]
    assert len(items) == len(rows) == 23
    assert {r["uuid"] for r in rows} >= {"rich-latex", "rich-unicode", "rich-long"}
    for row, item in zip(rows, items):
        messages = row["messages"]
        assistant = messages[-1]["content"]
        assert assistant.startswith("<think>\n") and "\n</think>\n\n" in assistant
        ids, mask = item["input_ids"], item["loss_mask"]
        # the sequence verl trains on is exactly what token_length counted
        assert len(ids) == row["num_tokens"] == counter.count_messages(messages)
        assert ids.tolist() == counter.encode(chatml(messages))
        # the loss covers one contiguous span: the assistant turn, think block included, and its end marker
        on = torch.nonzero(mask).flatten()
        assert on.tolist() == list(range(int(on[0]), len(ids)))
        trained = tokenizer.decode(ids[mask.bool()])
        assert trained == unicodedata.normalize("NFC", assistant) + "<|im_end|>\n"
        assert tokenizer.decode(ids[: int(on[0])]).endswith("<|im_start|>assistant\n")


def test_rows_fit_the_composed_max_length(curated: Path, tiny_model: Path) -> None:
    _, datasets = verl_view(curated, tiny_model)
    longest = max(len(d[i]["input_ids"]) for d in datasets for i in range(len(d)))
    max_length = datasets[0].max_length
    assert longest == max_length  # no token_length bound in this recipe: max_length is the longest row
    assert datasets[0].truncation == "error"


def test_stock_qwen3_template_drops_the_think_block(curated: Path, tiny_model: Path) -> None:
    """The trap (README, "Train with verl: `curate train`"): verl templates each message alone, so Qwen3's stock template treats the
    assistant turn as history and strips its reasoning; the model would learn answers without reasoning."""
    tokenizer, datasets = verl_view(curated, tiny_model, stock_template=True)
    assert "reasoning_content" in tokenizer.chat_template
    for row, index in zip(rows_of(curated), range(len(datasets[0]))):
        item = datasets[0][index]
        trained = tokenizer.decode(item["input_ids"][item["loss_mask"].bool()])
        answer = unicodedata.normalize("NFC", row["messages"][-1]["content"].split("</think>\n\n", 1)[1])
        assert "<think>" not in trained and "</think>" not in trained
        assert trained == answer + "<|im_end|>\n"
        assert len(item["input_ids"]) < row["num_tokens"]
