"""Every bundled preset's overrides compose with verl's own `sft_trainer_engine` config (no unknown key,
composed the way `verl.trainer.sft_trainer.main` composes it) and build verl's config dataclasses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from curate.train.plan import Request, build_plan, training_chat_template
from curate.train.verl_env import CONFIG_NAME, find_verl

SHAPES = {
    "default": {"gpus_per_node": 2, "batch_size": 4},
    "qwen3-4b-45k": {"scheduler": "slurm", "batch_size": 16},
    "qwen3-8b-90k": {"scheduler": "slurm", "batch_size": 16},
}


@pytest.mark.parametrize("preset", sorted(SHAPES))
def test_preset_overrides_compose_with_verl(preset: str, curated: Path) -> None:
    from verl.utils.config import omega_conf_to_dataclass

    kwargs = {"model": "Qwen/Qwen3-4B-Base"} if preset == "default" else {}
    plan = build_plan(Request(curated, preset=preset, **kwargs, **SHAPES[preset]))
    install = find_verl()
    assert install is not None and install.version == "0.9.1"
    with initialize_config_dir(config_dir=str(install.config_dir), version_base=None):
        config = compose(config_name=CONFIG_NAME, overrides=plan.hydra_overrides())
    for key, value in plan.overrides.items():
        section, _, name = key.partition(".")
        assert config[section][name] == value, key
    assert config.model.custom_chat_template == training_chat_template()
    assert config.data.max_length <= config.data.max_token_len_per_gpu
    assert list(config.checkpoint.load_contents) == ["model", "optimizer", "extra", "hf_model"]
    optim = omega_conf_to_dataclass(config.optim)
    assert (optim.lr, optim.lr_scheduler_type, optim.min_lr_ratio) == (1e-5, "cosine", 0.1)
    assert omega_conf_to_dataclass(config.engine).strategy == "fsdp"
    assert "hf_model" in omega_conf_to_dataclass(config.checkpoint).save_contents
