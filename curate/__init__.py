"""curate: reasoning-trace datasets in, clean and decontaminated verl-ready SFT sets out.

From Python: `curate.load_recipe(path_or_dict).run(source=..., out=...)` and `curate.apply_filter(name, data)`
(`curate.api`). They are loaded on first use, so importing any part of curate does not import the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curate.api import apply_filter, load_recipe

__version__ = "0.1.0"
__all__ = ["__version__", "apply_filter", "load_recipe"]
_API = ("apply_filter", "load_recipe")


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module("curate.api"), name)
    raise AttributeError(f"module 'curate' has no attribute {name!r}")
