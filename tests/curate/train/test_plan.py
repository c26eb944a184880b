"""From a curated output to verl overrides: the token bound, batching, cluster shape, and Hydra quoting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.tokenizers import chatml
from curate.train.plan import Request, build_plan, hydra_value, parse_extra, training_chat_template
from curate.train.verl_env import compose, find_verl
from tests.curate.train.handoff import curate_output


def with_bound(curated: Path, tmp_path: Path, max_tokens: int) -> Path:
    out = tmp_path / "bounded"
    shutil.copytree(curated, out)
    lock = (out / "recipe.lock.yaml").read_text()
    lock = lock.replace("filters:\n", f"filters:\n- token_length:\n    max_tokens: {max_tokens}\n", 1)
    (out / "recipe.lock.yaml").write_text(lock)
    return out


def test_template_renders_what_token_length_counts(tokenizer_dir: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Soit $x^2 = 4$. Trouvez $x > 0$."},
        {"role": "assistant", "content": "<think>\nx = ±2, keep 2.\n</think>\n\n$\\boxed{2}$"},
        {"role": "user", "content": "And x < 0?"},
        {"role": "assistant", "content": "<think>\nThe other root.\n</think>\n\n$\\boxed{-2}$"},
    ]
    template = training_chat_template()
    assert "\n" not in template
    rendered = tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False)
    assert rendered == chatml(messages)
    prompt = tokenizer.apply_chat_template(
        messages[:2], chat_template=template, tokenize=False, add_generation_prompt=True
    )
    assert prompt == chatml(messages[:2]) + "<|im_start|>assistant\n"
    # the stock Qwen3 template agrees on a single exchange whose assistant turn is normalised
    assert tokenizer.apply_chat_template(messages[1:3], tokenize=False) == chatml(messages[1:3])


def test_overrides_follow_the_data_and_the_preset(curated: Path, tmp_path: Path, tiny_model: Path) -> None:
    out = with_bound(curated, tmp_path, 4096)
    plan = build_plan(Request(out, model=str(tiny_model), gpus_per_node=2, batch_size=4, epochs=3, lr=2e-5))
    o = plan.overrides
    assert o["data.train_files"] == str(out.resolve() / "train.parquet")
    assert o["data.val_files"] == str(out.resolve() / "test.parquet")
    assert (o["data.max_length"], o["data.max_token_len_per_gpu"]) == (4096, 4096)
    assert plan.max_length_source == "the token_length bound in recipe.lock.yaml"
    assert o["data.messages_key"] == "messages" and o["data.truncation"] == "error"
    assert o["data.ignore_input_ids_mismatch"] is True
    assert o["model.custom_chat_template"] == training_chat_template()
    assert o["model.path"] == str(tiny_model)
    assert (o["trainer.total_epochs"], o["optim.lr"], o["data.train_batch_size"]) == (3, 2e-5, 4)
    assert (o["trainer.nnodes"], o["trainer.n_gpus_per_node"]) == (1, 2)
    assert o["trainer.test_freq"] == "after_each_epoch"
    assert o["trainer.experiment_name"] == "model-bounded"
    assert o["trainer.default_local_dir"] == str(Path.cwd() / "checkpoints" / "curate-sft" / "model-bounded")
    # 19 rows over 2 data-parallel ranks: 9 each, 2 per rank per step -> 4 steps an epoch
    assert (plan.steps_per_epoch, plan.total_steps) == (4, 12)
    assert plan.merge_command() == (
        f"python -m verl.model_merger merge --backend fsdp --local_dir {plan.ckpt_dir}/global_step_12 "
        f"--target_dir {plan.ckpt_dir}/merged/global_step_12"
    )
    keys = list(o)
    assert keys[0].startswith("data.") and keys[-1].startswith("trainer.")


def test_bound_of_the_recipes_token_length_filter(tmp_path: Path) -> None:
    out = curate_output(tmp_path, trace_filters="  - token_length: {max_tokens: 70}\n")
    plan = build_plan(Request(out, model="Qwen/Qwen3-4B-Base", gpus_per_node=2, batch_size=4))
    assert plan.data.bound is not None and plan.data.bound.max_tokens == 70
    assert plan.overrides["data.max_length"] == 70 and 0 < plan.data.longest <= 70
    assert plan.max_length_source == "the token_length bound in recipe.lock.yaml"
    assert not any("no token_length bound" in note for note in plan.notes)


def test_token_budget_scales_with_the_preset(curated: Path, tmp_path: Path) -> None:
    out = with_bound(curated, tmp_path, 1000)
    preset = tmp_path / "packed.yaml"
    preset.write_text("name: packed\nmodel: Qwen/Qwen3-4B-Base\ngpus_per_node: 2\ntoken_budget_factor: 2.5\n")
    plan = build_plan(Request(out, preset=str(preset), batch_size=4))
    assert (plan.overrides["data.max_length"], plan.overrides["data.max_token_len_per_gpu"]) == (1000, 2500)
    assert plan.model == "Qwen/Qwen3-4B-Base"


def test_a_row_over_the_bound_is_named(curated: Path, tmp_path: Path) -> None:
    out = with_bound(curated, tmp_path, 60)
    with pytest.raises(
        CurateError,
        match=r"train.parquet: row \d+ \(uuid [\w-]+\) has \d+ tokens, more than "
        r"data.max_length=60; verl stops the run on it",
    ):
        build_plan(Request(out, model="Qwen/Qwen3-4B-Base", gpus_per_node=2, batch_size=4))
    longest = build_plan(
        Request(curated, model="Qwen/Qwen3-4B-Base", gpus_per_node=2, batch_size=4)
    ).data.longest
    with pytest.raises(CurateError, match=f"more than data.max_length={longest - 1}"):
        build_plan(
            Request(
                curated,
                model="Qwen/Qwen3-4B-Base",
                gpus_per_node=2,
                batch_size=4,
                extra=(f"data.max_length={longest - 1}",),
            )
        )
    with pytest.raises(
        CurateError, match=r"data.max_token_len_per_gpu=50 \(x sequence parallel 1\) is below"
    ):
        build_plan(
            Request(
                curated,
                model="Qwen/Qwen3-4B-Base",
                gpus_per_node=2,
                batch_size=4,
                extra=("data.max_token_len_per_gpu=50",),
            )
        )


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        (
            {"gpus_per_node": 3, "batch_size": 4},
            r"data.train_batch_size=4 is not a multiple of 3 data-parallel "
            r"GPUs x data.micro_batch_size_per_gpu=1 = 3 \(use --batch-size 3 or 6\)",
        ),
        ({"gpus_per_node": 2, "batch_size": 32}, "has 19 rows, fewer than one global batch of 32"),
        (
            {"gpus_per_node": 3, "batch_size": 6, "extra": ("engine.ulysses_sequence_parallel_size=2",)},
            "engine.ulysses_sequence_parallel_size=2 does not divide the 3 GPUs",
        ),
        ({"preset": "qwen3-4b-45k"}, r"--scheduler local runs on this node, but the launch asks for 4 nodes"),
        ({"model": "./no-such-model"}, "not a local model folder or a Hugging Face id"),
        ({"model": "Qwen3-4B-Base"}, "not a local model folder or a Hugging Face id"),
        ({"extra": ("optim.lr",)}, r"extra override 'optim.lr' is not KEY=VALUE"),
    ],
)
def test_plan_errors(curated: Path, request_kwargs: dict, message: str) -> None:
    kwargs = {"model": "Qwen/Qwen3-4B-Base", "gpus_per_node": 2, "batch_size": 4, **request_kwargs}
    with pytest.raises(CurateError, match=message) as caught:
        build_plan(Request(curated, **kwargs))
    assert "\n" not in str(caught.value)


def test_model_folder_needs_a_config(tmp_path: Path, curated: Path) -> None:
    (tmp_path / "weights").mkdir()
    with pytest.raises(CurateError, match=r"model folder has no config\.json"):
        build_plan(Request(curated, model=str(tmp_path / "weights"), gpus_per_node=2, batch_size=4))


def test_multi_node_presets_need_slurm(curated: Path) -> None:
    plan = build_plan(Request(curated, preset="qwen3-4b-45k", scheduler="slurm", batch_size=16))
    assert (plan.model, plan.nnodes, plan.gpus_per_node) == ("Qwen/Qwen3-4B-Base", 4, 4)
    # 16 ranks draw 1 of the 19 rows each per epoch: one step of 16 rows an epoch
    assert plan.steps_per_epoch == 1 and plan.total_steps == 2
    assert plan.overrides["data.val_files"] is None and plan.overrides["trainer.test_freq"] == -1
    assert any("test.parquet has 4 rows, fewer than one global batch of 16" in n for n in plan.notes)
    single = build_plan(Request(curated, preset="qwen3-4b-45k", nnodes=1, batch_size=4))
    assert (single.nnodes, single.gpus_per_node) == (1, 4)


def test_guarded_extras_are_flagged(curated: Path) -> None:
    plan = build_plan(
        Request(
            curated,
            model="Qwen/Qwen3-4B-Base",
            gpus_per_node=2,
            batch_size=4,
            extra=("data.truncation=right", "+model.override_config.foo=1"),
        )
    )
    assert plan.hydra_overrides()[-2:] == ["data.truncation=right", "+model.override_config.foo=1"]
    assert any("data.truncation replaces curate's training setup" in n for n in plan.notes)
    assert parse_extra(("a.b=[1,2]", "c.d='x y'", "+e.f=3", "g.h=")) == {
        "a.b": [1, 2],
        "c.d": "x y",
        "g.h": None,
    }


VALUES = [
    "/data/out/train.parquet",
    "/path with spaces/and,commas=[x]",
    "it's",
    "ends with a backslash\\",
    "a \\' b",
    "${oc.env:HOME}",
    "true",
    "1e-5",
    "null",
    "ünïcödé",
    training_chat_template(),
]


def test_hydra_quoting_round_trips_through_verl_config() -> None:
    install = find_verl()
    assert install is not None
    for value in VALUES:
        config = compose(install, [f"trainer.experiment_name={hydra_value(value)}"])
        assert config.trainer.experiment_name == value
    config = compose(
        install,
        [
            f"optim.lr={hydra_value(1e-5)}",
            f"trainer.logger={hydra_value(['console', 'file'])}",
            f"data.val_files={hydra_value(None)}",
            f"data.use_dynamic_bsz={hydra_value(False)}",
        ],
    )
    assert config.optim.lr == 1e-5 and list(config.trainer.logger) == ["console", "file"]
    assert config.data.val_files is None and config.data.use_dynamic_bsz is False
    assert hydra_value("/data/out/train.parquet") == "/data/out/train.parquet"
