"""Training presets: a cluster shape plus verl Hydra keys, in YAML, so a published recipe is one name away.

A preset names verl keys directly (`optim.lr: 1.0e-5`) instead of wrapping them in curate options: what a
user reads in the preset is what verl receives. Every preset extends `default` unless it names another base.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curate.errors import CurateError
from curate.yamlpos import Located, load_yaml

PRESET_DIR = Path(__file__).parent / "presets"
DEFAULT_PRESET = "default"

# Keys `curate train` derives from the data, the command line or the training template; a preset that set
# them would silently fight the launcher (or break the guarantee that the think block is trained).
DERIVED_KEYS = frozenset(
    {
        "data.train_files",
        "data.val_files",
        "data.max_length",
        "data.max_token_len_per_gpu",
        "data.messages_key",
        "data.truncation",
        "data.ignore_input_ids_mismatch",
        "model.path",
        "model.custom_chat_template",
        "model.tokenizer_path",
        "trainer.nnodes",
        "trainer.n_gpus_per_node",
        "trainer.default_local_dir",
        "trainer.experiment_name",
        "trainer.test_freq",
    }
)
_KEY = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+")


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    description: str = ""
    extends: str | None = None
    model: str | None = None
    nnodes: int = Field(1, ge=1)
    gpus_per_node: int = Field(8, ge=1)
    token_budget_factor: float = Field(1.0, ge=1.0)
    verl: dict[str, Any] = Field(default_factory=dict)
    path: Path | None = Field(None, exclude=True)

    @field_validator("verl")
    @classmethod
    def _keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not _KEY.fullmatch(key):
                raise ValueError(f"{key!r} is not a dotted verl key such as optim.lr")
            if key in DERIVED_KEYS:
                raise ValueError(f"{key} is set by `curate train` from the data and the command line")
        return value


def available() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(spec: str) -> Preset:
    """A bundled preset by name, or a preset YAML file by path; `extends` chains are merged base first."""
    return _load(_locate(spec, PRESET_DIR), seen=())


def _locate(spec: str, base_dir: Path) -> Path:
    if spec.endswith((".yaml", ".yml")) or "/" in spec:
        path = Path(spec) if Path(spec).is_absolute() else base_dir / spec
        if not path.exists() and Path(spec).exists():
            path = Path(spec)
        if not path.exists():
            raise CurateError(f"preset file {spec} does not exist")
        return path
    path = PRESET_DIR / f"{spec}.yaml"
    if not path.exists():
        raise CurateError(f"unknown preset {spec!r}", hint=f"bundled presets: {', '.join(available())}")
    return path


def _load(path: Path, seen: tuple[Path, ...]) -> Preset:
    resolved = path.resolve()
    if resolved in seen:
        raise CurateError("`extends` forms a cycle", where=str(path))
    located = load_yaml(path)
    data = located.value
    if not isinstance(data, dict):
        raise CurateError("a preset must be a YAML mapping", where=f"{path}:1")
    try:
        preset = Preset.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise _explain(exc, located) from None
    parent = (
        preset.extends if preset.extends is not None else (None if path.stem == DEFAULT_PRESET else "default")
    )
    if parent is None:
        return preset
    base = _load(_locate(parent, path.parent), (*seen, resolved))
    fields = {key: getattr(preset, key) for key in preset.model_fields_set if key not in ("verl", "path")}
    return base.model_copy(update={**fields, "verl": {**base.verl, **preset.verl}, "path": path})


def _explain(exc: ValidationError, located: Located) -> CurateError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    where = located.where(loc)
    key = ".".join(str(p) for p in loc) or "preset"
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(k for k in Preset.model_fields if k != "path")
        return CurateError(f"unknown key {key!r}", where=str(where), hint=f"allowed: {allowed}")
    return CurateError(f"{key}: {err['msg'].removeprefix('Value error, ')}", where=str(where))
