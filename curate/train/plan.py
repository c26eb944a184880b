"""From a curated output, a preset and the command line to the exact verl 0.9.x overrides.

The overrides are layered: the preset's verl keys, then what curate derives (data files, the token bound,
cluster shape, checkpoint dir, command-line options), then the invariants that make the think block
trainable (the ChatML training template, `data.truncation=error`), then the user's own Hydra overrides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from curate.errors import CurateError
from curate.train.dataset import CuratedOutput, inspect_output
from curate.train.presets import Preset, load_preset

TEMPLATE_PATH = Path(__file__).parent / "templates" / "chatml.jinja"
SECTIONS = ("data", "model", "engine", "optim", "checkpoint", "trainer")
# Overriding these from the command line voids the guarantee that the trained tokens are exactly the
# assistant turn, think block included, and that every row fits.
GUARDED = frozenset(
    {"model.custom_chat_template", "model.tokenizer_path", "data.truncation", "data.messages_key"}
)
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@:+-]*")
_KEYWORDS = frozenset({"true", "false", "null", "nan", "inf"})

Scheduler = Literal["local", "slurm"]


def training_chat_template() -> str:
    """ChatML, each turn verbatim: under it verl trains on the whole assistant turn, think block included,
    and renders exactly `curate.tokenizers.chatml(messages)`, the text `token_length` counts."""
    return TEMPLATE_PATH.read_text(encoding="utf-8").rstrip("\n")


def hydra_value(value: Any) -> str:
    """A value in Hydra's override grammar; strings are quoted unless they cannot be misread."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    text = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", text)
    text = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, text)
    return "'" + text.replace("${", "\\${") + "'"


@dataclass(frozen=True)
class Request:
    out_dir: Path
    preset: str = "default"
    model: str | None = None
    nnodes: int | None = None
    gpus_per_node: int | None = None
    scheduler: Scheduler = "local"
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    max_length: int | None = None
    ckpt_dir: Path | None = None
    project: str | None = None
    experiment: str | None = None
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    request: Request
    preset: Preset
    data: CuratedOutput
    model: str
    nnodes: int
    gpus_per_node: int
    overrides: dict[str, Any]
    max_length_source: str
    steps_per_epoch: int
    total_steps: int
    ckpt_dir: Path
    notes: tuple[str, ...] = field(default=())

    @property
    def extra(self) -> tuple[str, ...]:
        return self.request.extra

    @property
    def last_checkpoint(self) -> Path:
        return self.ckpt_dir / f"global_step_{self.total_steps}"

    def hydra_overrides(self) -> list[str]:
        return [f"{key}={hydra_value(value)}" for key, value in self.overrides.items()] + list(self.extra)

    def merge_command(self) -> str:
        target = self.ckpt_dir / "merged" / self.last_checkpoint.name
        return (
            f"python -m verl.model_merger merge --backend fsdp --local_dir {self.last_checkpoint} "
            f"--target_dir {target}"
        )


def build_plan(request: Request) -> Plan:
    preset = load_preset(request.preset)
    model = request.model or preset.model
    if not model:
        raise CurateError(
            f"preset {preset.name!r} names no model", hint="pass --model, e.g. --model Qwen/Qwen3-4B-Base"
        )
    model = resolve_model(model)
    nnodes = request.nnodes or preset.nnodes
    gpus = request.gpus_per_node or preset.gpus_per_node
    if request.scheduler == "local" and nnodes > 1:
        raise CurateError(
            f"--scheduler local runs on this node, but the launch asks for {nnodes} nodes",
            hint="use --scheduler slurm, or --nnodes 1",
        )
    data = inspect_output(request.out_dir)
    notes: list[str] = []

    values = dict(preset.verl)
    for key, option in (
        ("trainer.total_epochs", request.epochs),
        ("optim.lr", request.lr),
        ("data.train_batch_size", request.batch_size),
        ("trainer.project_name", request.project),
    ):
        if option is not None:
            values[key] = option
    values.setdefault("trainer.project_name", "curate-sft")
    extra = parse_extra(request.extra)
    for key in sorted(GUARDED & extra.keys()):
        notes.append(
            f"warning: the extra override {key} replaces curate's training setup; the think block "
            "may no longer be trained or rows may no longer fit"
        )

    max_length, source = _max_length(request, data)
    budget = math.ceil(preset.token_budget_factor * max_length)
    effective = {**values, "data.max_length": max_length, "data.max_token_len_per_gpu": budget, **extra}
    max_length = _int(effective, "data.max_length", 0)
    budget = _int(effective, "data.max_token_len_per_gpu", 0)
    sp = _int(effective, "engine.ulysses_sequence_parallel_size", 1)
    check_lengths(data, max_length, budget, sp)
    batch = _int(effective, "data.train_batch_size", 256)
    dp = data_parallel_size(nnodes, gpus, sp)
    check_batch(batch, _int(effective, "data.micro_batch_size_per_gpu", 4), dp)
    steps_per_epoch = (data.train.rows // dp) // (batch // dp)
    if steps_per_epoch == 0:
        raise CurateError(
            f"train.parquet has {data.train.rows} rows, fewer than one global batch of {batch}",
            where=str(data.train.path),
            hint="lower --batch-size",
        )
    epochs = _int(effective, "trainer.total_epochs", 4)
    total = _int(effective, "trainer.total_training_steps", 0) or steps_per_epoch * epochs

    val = data.test is not None and data.test.rows >= batch
    if data.test is not None and not val:
        notes.append(
            f"test.parquet has {data.test.rows} rows, fewer than one global batch of {batch}: no validation"
        )
    if data.bound is None:
        notes.append(f"recipe.lock.yaml has no token_length bound: data.max_length is {source}")

    experiment = request.experiment or slug(f"{model.rstrip('/').split('/')[-1]}-{data.dir.name}")
    ckpt_dir = (
        request.ckpt_dir or Path("checkpoints") / str(values["trainer.project_name"]) / experiment
    ).resolve()
    derived: dict[str, Any] = {
        "data.train_files": str(data.train.path),
        "data.val_files": str(data.test.path) if val and data.test else None,
        "data.messages_key": "messages",
        "data.max_length": max_length,
        "data.max_token_len_per_gpu": budget,
        "data.truncation": "error",
        "data.ignore_input_ids_mismatch": True,
        "model.path": model,
        "model.custom_chat_template": training_chat_template(),
        "trainer.nnodes": nnodes,
        "trainer.n_gpus_per_node": gpus,
        "trainer.experiment_name": experiment,
        "trainer.default_local_dir": str(ckpt_dir),
        "trainer.test_freq": "after_each_epoch" if val else -1,
    }
    merged = {**values, **derived}
    order = {name: i for i, name in enumerate(SECTIONS)}
    overrides = dict(sorted(merged.items(), key=lambda kv: order.get(kv[0].split(".")[0], len(SECTIONS))))
    return Plan(
        request=request,
        preset=preset,
        data=data,
        model=model,
        nnodes=nnodes,
        gpus_per_node=gpus,
        overrides=overrides,
        max_length_source=source,
        steps_per_epoch=steps_per_epoch,
        total_steps=total,
        ckpt_dir=ckpt_dir,
        notes=tuple(notes),
    )


def _int(values: dict[str, Any], key: str, default: int) -> int:
    """A setting the checks compute with; verl's defaults where neither preset nor command line sets it."""
    value = values.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise CurateError(f"{key} must be a whole number, not {value!r}")
    return value


def _max_length(request: Request, data: CuratedOutput) -> tuple[int, str]:
    if request.max_length is not None:
        return request.max_length, "--max-length"
    if data.bound is not None:
        return data.bound.max_tokens, "the token_length bound in recipe.lock.yaml"
    return data.longest, "the longest row"


def check_lengths(data: CuratedOutput, max_length: int, budget: int, sequence_parallel: int) -> None:
    """With `data.truncation=error` one row over `data.max_length` kills the run, and dynamic batching
    refuses a row longer than a micro-batch's token budget."""
    if data.longest > max_length:
        split = data.train if data.test is None or data.train.longest >= data.test.longest else data.test
        raise CurateError(
            f"{split.longest_row} has {split.longest} tokens, more than data.max_length={max_length}; "
            "verl stops the run on it (data.truncation=error)",
            where=str(split.path),
            hint="raise --max-length, or re-run `curate run` with a token_length filter at this bound",
        )
    if budget * sequence_parallel < max_length:
        raise CurateError(
            f"data.max_token_len_per_gpu={budget} (x sequence parallel {sequence_parallel}) is below "
            f"data.max_length={max_length}: a longest row would not fit one micro-batch",
            hint=f"set data.max_token_len_per_gpu >= {math.ceil(max_length / sequence_parallel)}",
        )


def data_parallel_size(nnodes: int, gpus_per_node: int, sequence_parallel: int) -> int:
    world = nnodes * gpus_per_node
    if sequence_parallel < 1 or world % sequence_parallel:
        raise CurateError(
            f"engine.ulysses_sequence_parallel_size={sequence_parallel} does not divide the {world} GPUs"
        )
    return world // sequence_parallel


def check_batch(batch: int, micro: int, dp: int) -> None:
    """verl splits the global batch evenly over data-parallel ranks and each rank's share into
    micro-batches; a remainder would be dropped silently or fail mid-run."""
    unit = dp * micro
    if batch < 1 or batch % unit:
        lower, upper = batch // unit * unit, (batch // unit + 1) * unit
        choices = f"{lower} or {upper}" if lower else str(upper)
        raise CurateError(
            f"data.train_batch_size={batch} is not a multiple of {dp} data-parallel GPUs x "
            f"data.micro_batch_size_per_gpu={micro} = {unit}",
            hint=f"use --batch-size {choices}",
        )


def parse_extra(extra: tuple[str, ...]) -> dict[str, Any]:
    """The plain `key=value` extra overrides, values read as YAML, so checks see what verl will see."""
    parsed: dict[str, Any] = {}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CurateError(f"extra override {item!r} is not KEY=VALUE", hint="e.g. -- optim.lr=2e-5")
        if key.startswith(("+", "~")):
            continue
        try:
            parsed[key] = yaml.safe_load(value) if value else None
        except yaml.YAMLError:
            parsed[key] = value
    return parsed


def resolve_model(model: str) -> str:
    """An absolute folder for a local model (verl runs from another working directory on other nodes),
    or a Hub id as given."""
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise CurateError("model folder has no config.json", where=str(path))
        return str(path.resolve())
    if model.startswith((".", "/", "~")) or not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        raise CurateError(
            f"--model {model}: not a local model folder or a Hugging Face id OWNER/NAME",
            hint="e.g. --model Qwen/Qwen3-4B-Base",
        )
    return model


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.") or "run"
