"""Filters, found by the name a recipe gives them, in this order:

1. curate's own: every module of this package is imported on first lookup, and its `@register("name")`
   classes become usable from recipe YAML;
2. plugins: installed distributions that declare an entry point in the group `curate.filters`
   (`my_filter = "my_pkg.quality:LoopFilter"` under `[project.entry-points."curate.filters"]`); a plugin
   may not take a name curate already uses;
3. a dotted path to a class, `my_pkg.quality:LoopFilter` (or `my_pkg.quality.LoopFilter`), importable
   from the Python path, as NeMo-Curator's `import_filter` takes them.

Whatever way it was found, a filter is a subclass of `RowFilter`, `GlobalFilter` or `TraceFilter`, validated,
cached (its code version is the import closure of its module, `curate.codeversion`, plus the version of the
distribution it comes from) and counted exactly like curate's own.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

from curate.errors import CurateError
from curate.filters.base import (
    CONTAMINATION,
    KEEP,
    Drop,
    Filter,
    FilterContext,
    FilterParams,
    GlobalFilter,
    Keep,
    Row,
    RowFilter,
    TokenBound,
    Trace,
    TraceFilter,
    Verdict,
)

__all__ = [
    "CONTAMINATION",
    "KEEP",
    "Drop",
    "Filter",
    "FilterContext",
    "FilterInfo",
    "FilterParams",
    "GlobalFilter",
    "Keep",
    "Row",
    "RowFilter",
    "TokenBound",
    "Trace",
    "TraceFilter",
    "Verdict",
    "available",
    "closest",
    "get",
    "is_path",
    "plugins",
    "register",
    "resolve",
]

ENTRY_POINT_GROUP = "curate.filters"
_REGISTRY: dict[str, type[Filter]] = {}
_loaded = False


@dataclass(frozen=True)
class FilterInfo:
    """Where a filter class comes from: curate itself, a plugin distribution, or a dotted path."""

    name: str
    cls: type[Filter]
    origin: str  # "curate", "plugin" or "path"
    distribution: str | None = None  # the distribution that provides it, when known
    version: str | None = None


def register(name: str) -> Callable[[type[Filter]], type[Filter]]:
    """Class decorator: make a filter of this package usable from recipe YAML under `name`."""

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
    """The names of curate's own filters and of the installed plugins' filters, sorted."""
    _load_all()
    return sorted({*_REGISTRY, *plugins()})


def get(name: str) -> type[Filter]:
    """The filter class a recipe means by `name` (see the module doc); a CurateError when there is none."""
    return resolve(name).cls


def is_path(name: str) -> bool:
    """A dotted path to a class rather than a registered name (names never hold `.` or `:`)."""
    return "." in name or ":" in name


def resolve(name: str) -> FilterInfo:
    """The filter class named `name`, with where it comes from."""
    _load_all()
    if name in _REGISTRY:
        return FilterInfo(name, _REGISTRY[name], "curate")
    entry = plugins().get(name)
    if entry is not None:
        cls = _checked(_load(entry.value, f"plugin filter {name!r} ({entry.value})"), name)
        dist = entry.dist
        return FilterInfo(name, cls, "plugin", dist.name if dist else None, dist.version if dist else None)
    if is_path(name):
        cls = _checked(_load(name, f"filter {name!r}"), name)
        distribution, version = _distribution(cls.__module__)
        return FilterInfo(name, cls, "path", distribution, version)
    names = available()
    guess = closest(name, names)
    raise CurateError(
        f"unknown filter {name!r}",
        hint=f"did you mean {guess!r}?"
        if guess
        else f"known filters: {', '.join(names)}; or give a class as `package.module:Class`",
    )


@lru_cache(maxsize=1)
def plugins() -> dict[str, metadata.EntryPoint]:
    """Entry points of the `curate.filters` group by name, without the names curate's own filters use."""
    _load_all()
    found: dict[str, metadata.EntryPoint] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _REGISTRY and not is_path(entry.name):
            found.setdefault(entry.name, entry)
    return found


def _load(target: str, what: str) -> object:
    """The object a `module:attribute` or `module.attribute` path names."""
    module_name, sep, attribute = target.partition(":")
    if not sep:
        module_name, _, attribute = target.rpartition(".")
    if not module_name or not attribute:
        raise CurateError(f"{what}: not a `package.module:Class` path")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CurateError(
            f"{what}: cannot import {module_name!r} ({exc})",
            hint="install the package that provides it, or put it on PYTHONPATH",
        ) from None
    except Exception as exc:  # the plugin's own code failed while importing: name it, not a traceback
        raise CurateError(f"{what}: importing {module_name!r} failed ({type(exc).__name__}: {exc})") from None
    found: object = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise CurateError(f"{what}: {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    return found


def _checked(found: object, name: str) -> type[Filter]:
    if not (isinstance(found, type) and issubclass(found, RowFilter | GlobalFilter | TraceFilter)):
        raise CurateError(
            f"filter {name!r} is {found!r}, not a RowFilter, GlobalFilter or TraceFilter subclass",
            hint="subclass one of curate.filters' RowFilter, GlobalFilter or TraceFilter",
        )
    if found.__module__ == "__main__":
        raise CurateError(
            f"filter {name!r} is defined in __main__, which worker processes cannot import",
            hint="put the class in a module and name it as `module:Class`",
        )
    return found


def _distribution(module: str) -> tuple[str | None, str | None]:
    """The installed distribution a module comes from, and its version (None for a module on PYTHONPATH)."""
    names = metadata.packages_distributions().get(module.partition(".")[0]) or []
    if not names:
        return None, None
    try:
        return names[0], metadata.version(names[0])
    except metadata.PackageNotFoundError:
        return names[0], None


def closest(name: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return match[0] if match else None
