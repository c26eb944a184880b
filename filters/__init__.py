"""Filters, registered by name. Adding a filter is adding a module to this package: every module here is
imported on first lookup, and its `@register("name")` classes become usable from recipe YAML."""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from curate.filters.base import (
    KEEP,
    Drop,
    Filter,
    FilterContext,
    FilterParams,
    GlobalFilter,
    Keep,
    Row,
    RowFilter,
    Trace,
    TraceFilter,
    Verdict,
)

__all__ = [
    "KEEP",
    "Drop",
    "Filter",
    "FilterContext",
    "FilterParams",
    "GlobalFilter",
    "Keep",
    "Row",
    "RowFilter",
    "Trace",
    "TraceFilter",
    "Verdict",
    "available",
    "closest",
    "get",
    "register",
]

_REGISTRY: dict[str, type[Filter]] = {}
_loaded = False


def register(name: str):
    """Class decorator: make a filter usable from recipe YAML under `name`."""

    def wrap(cls: type[Filter]) -> type[Filter]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"filter name {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            if module.name != "base":
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True


def available() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get(name: str) -> type[Filter]:
    """The filter class registered under `name`; KeyError when there is none."""
    _load_all()
    return _REGISTRY[name]


def closest(name: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return match[0] if match else None
