"""A step's code version: a hash of the source of every module its code imports, found by reading them.

A cached step result is reused only while the code that produced it is unchanged. Hand-written lists of
modules drift (a filter starts using a helper module and its results outlive a change there), so the list is
derived: from a filter's module, follow its `import` statements, at module level and inside functions (a
lazy import is code the filter runs), through every module of curate and of the filter's own top-level
package (a plugin's), and hash the source files found. A package's `__init__` counts when one of its modules
is imported, since importing runs it. Imports guarded by `if TYPE_CHECKING:` are not followed, and neither
are imports by a computed name (`importlib.import_module(name)`): the filter registry's loading of every
filter module is one, so no filter's version depends on the other filters.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.machinery import ModuleSpec
from pathlib import Path


def code_version(*modules: str) -> str:
    """Hash of the import closure of `modules` (dotted names) within curate and their own top-level packages."""
    roots = {"curate", *(m.partition(".")[0] for m in modules)}
    hasher = hashlib.sha256()
    for name in sorted(closure(modules, frozenset(roots))):
        hasher.update(name.encode() + b"\0" + _source(name) + b"\0")
    return hasher.hexdigest()[:16]


def closure(modules: Iterable[str], roots: frozenset[str]) -> set[str]:
    """Every module reachable from `modules` by static imports, keeping those under `roots`."""
    seen: set[str] = set()
    todo = [m for m in modules if _origin(m) is not None]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for found in _imports(name):
            if found.partition(".")[0] in roots and found not in seen and _origin(found) is not None:
                todo.append(found)
    return seen


@cache
def _origin(name: str) -> Path | None:
    """The file a module is loaded from; None for a name that is not a module (an imported attribute)."""
    spec = _spec(name)
    if spec is None or not spec.origin or not spec.has_location:
        return None
    return Path(spec.origin)


@cache
def _spec(name: str) -> ModuleSpec | None:
    """A module's spec, found as the import system finds it but without running any module (not even the
    packages above it, which `importlib.util.find_spec` would import)."""
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__spec__", None) is not None:
        return loaded.__spec__
    parent = name.rpartition(".")[0]
    path = None
    if parent:
        above = _spec(parent)
        if above is None or above.submodule_search_locations is None:
            return None
        path = list(above.submodule_search_locations)
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(name, path)
        except (ImportError, ValueError):
            continue
        if spec is not None:
            return spec
    return None


def _source(name: str) -> bytes:
    origin = _origin(name)
    return origin.read_bytes() if origin is not None else b""


@cache
def _imports(name: str) -> tuple[str, ...]:
    """The modules `name` imports (and the packages those live in), absolute and in source order."""
    origin = _origin(name)
    if origin is None or origin.suffix != ".py":
        return ()
    tree = ast.parse(origin.read_bytes(), filename=str(origin))
    package = name if origin.name == "__init__.py" else name.rpartition(".")[0]
    found: list[str] = []
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base:
                found.append(base)
                found += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    parents = {".".join(part.split(".")[:i]) for part in (name, *found) for i in range(1, part.count(".") + 1)}
    return tuple(dict.fromkeys([*sorted(parents), *found]))


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: len(parts) - node.level + 1]
    base = ".".join(parts)
    return f"{base}.{node.module}" if node.module else base


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, skipping the bodies of `if TYPE_CHECKING:` blocks (imports only the type checker runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack += child.orelse
                continue
            stack.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
