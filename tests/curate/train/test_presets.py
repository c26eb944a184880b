"""Bundled and user presets: loading, `extends` merging, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.train.presets import available, load_preset


def test_bundled_presets() -> None:
    assert available() == ["default", "qwen3-4b-45k", "qwen3-8b-90k"]
    small, large = load_preset("qwen3-4b-45k"), load_preset("qwen3-8b-90k")
    assert (small.model, small.nnodes, small.gpus_per_node) == ("Qwen/Qwen3-4B-Base", 4, 4)
    assert (large.model, large.nnodes, large.gpus_per_node) == ("Qwen/Qwen3-8B-Base", 4, 4)
    for preset in (small, large):
        verl = preset.verl
        assert verl["trainer.total_epochs"] == 2
        assert verl["optim.lr"] == 1e-5 and verl["optim.lr_scheduler_type"] == "cosine"
        assert verl["optim.lr_warmup_steps_ratio"] > 0 and 0 < verl["optim.min_lr_ratio"] < 1
        assert verl["optim.clip_grad"] == 1.0 and verl["optim.weight_decay"] > 0
        assert "hf_model" in verl["checkpoint.save_contents"]
        assert verl["engine.strategy"] == "fsdp"
        assert verl["model.enable_gradient_checkpointing"] and verl["model.use_remove_padding"]
        assert verl["data.use_dynamic_bsz"]


def test_extends_merges_verl_keys(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nextends: qwen3-4b-45k\ngpus_per_node: 8\nverl:\n  optim.lr: 2.0e-5\n")
    preset = load_preset(str(path))
    assert (preset.name, preset.model, preset.nnodes, preset.gpus_per_node) == (
        "mine",
        "Qwen/Qwen3-4B-Base",
        4,
        8,
    )
    assert preset.verl["optim.lr"] == 2e-5
    assert preset.verl["optim.lr_scheduler_type"] == "cosine"  # from default, through qwen3-4b-45k


def test_a_preset_without_extends_extends_default(tmp_path: Path) -> None:
    path = tmp_path / "bare.yaml"
    path.write_text("name: bare\nmodel: Qwen/Qwen3-1.7B-Base\n")
    preset = load_preset(str(path))
    assert preset.verl == load_preset("default").verl
    assert preset.model == "Qwen/Qwen3-1.7B-Base"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nnodes: 2\n", r"bad.yaml:2: unknown key 'nodes' \(allowed: name, description"),
        ("name: x\nverl:\n  data.max_length: 4096\n", "data.max_length is set by `curate train`"),
        ("name: x\nverl:\n  lr: 1.0e-5\n", "'lr' is not a dotted verl key"),
        (
            "name: x\ngpus_per_node: 0\n",
            "bad.yaml:2: gpus_per_node: Input should be greater than or equal to 1",
        ),
        ("name: x\nextends: bad.yaml\n", "`extends` forms a cycle"),
        ("name: x\nextends: nowhere\n", "unknown preset 'nowhere'"),
    ],
)
def test_preset_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CurateError, match=message) as caught:
        load_preset(str(path))
    assert "\n" not in str(caught.value)


def test_unknown_bundled_name_lists_the_presets() -> None:
    with pytest.raises(
        CurateError, match=r"unknown preset 'qwen3-4b' \(bundled presets: default, qwen3-4b-45k"
    ):
        load_preset("qwen3-4b")
