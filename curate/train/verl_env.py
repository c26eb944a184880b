"""The installed verl: whether it is one `curate train` targets, and what its own Hydra config says.

Located without importing verl (its import pulls in torch, ray and friends), so a dry run on a laptop stays
fast and an old verl is reported in one line instead of an ImportError deep in the launch.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from curate.errors import CurateError

SUPPORTED = "verl 0.9.x (tested with 0.9.1)"
ENTRY_MODULE = "verl.trainer.sft_trainer"
CONFIG_NAME = "sft_trainer_engine"
INSTALL_HINT = "pip install 'curate[verl]'"
_MIN, _NEXT = (0, 9), (0, 10)
# verl.trainer.sft_trainer imports these, but verl 0.9.1 declares fastapi and uvicorn only in an extra.
RUNTIME_MODULES = ("torch", "transformers", "fastapi", "uvicorn")


@dataclass(frozen=True)
class VerlInstall:
    version: str
    package_dir: Path

    @property
    def config_dir(self) -> Path:
        return self.package_dir / "trainer" / "config"

    @property
    def release(self) -> tuple[int, int]:
        match = re.match(r"(\d+)\.(\d+)", self.version)
        return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def find_verl() -> VerlInstall | None:
    spec = importlib.util.find_spec("verl")
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    try:
        version = metadata.version("verl")
    except metadata.PackageNotFoundError:
        stamp = package_dir / "version" / "version"
        version = stamp.read_text().strip() if stamp.exists() else "unknown"
    return VerlInstall(version, package_dir)


def check_verl(install: VerlInstall) -> str | None:
    """Raise for a verl too old to have `verl.trainer.sft_trainer`; return a warning for an untested newer one."""
    has_trainer = (install.package_dir / "trainer" / "sft_trainer.py").exists()
    has_config = (install.config_dir / f"{CONFIG_NAME}.yaml").exists()
    if install.release < _MIN or not has_trainer or not has_config:
        missing = "no verl.trainer.sft_trainer" if not has_trainer else f"no {CONFIG_NAME} config"
        raise CurateError(
            f"verl {install.version} is installed ({missing}); curate train needs {SUPPORTED}",
            hint=f"pip install -U 'curate[verl]' (verl==0.9.1); {install.package_dir}",
        )
    if install.release >= _NEXT:
        return (
            f"verl {install.version} is newer than {SUPPORTED}; the overrides are checked against its config"
        )
    return None


def compose(install: VerlInstall, overrides: list[str]) -> Any:
    """verl's own `sft_trainer_engine` config with the overrides applied, composed as its `main` does;
    an unknown key or a malformed override becomes one line naming it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException

    try:
        with initialize_config_dir(config_dir=str(install.config_dir), version_base=None):
            return hydra_compose(config_name=CONFIG_NAME, overrides=overrides)
    except HydraException as exc:
        message = str(exc).splitlines()[0]
        cause = str(exc.__cause__).splitlines()[0] if exc.__cause__ else ""
        raise CurateError(
            f"verl {install.version} rejects an override: {message}" + (f" ({cause})" if cause else ""),
            hint=f"check the key against {install.config_dir / (CONFIG_NAME + '.yaml')}",
        ) from None


def missing_runtime() -> list[str]:
    return [name for name in RUNTIME_MODULES if importlib.util.find_spec(name) is None]


def visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0
