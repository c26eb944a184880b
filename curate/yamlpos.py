"""YAML loading that remembers where every value came from, so a validation error can name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curate.errors import CurateError

KeyPath = tuple[Any, ...]


@dataclass(frozen=True)
class Position:
    file: str
    line: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Located:
    """A plain Python value plus the position of each of its nodes, keyed by key path."""

    value: Any
    positions: dict[KeyPath, Position]

    def where(self, path: KeyPath) -> Position | None:
        """The position of the deepest node on `path` that has one."""
        for cut in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:cut]))
            if pos is not None:
                return pos
        return None


def load_yaml(path: Path) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CurateError("file not found", where=str(path), hint="check the path") from None
    except OSError as exc:
        raise CurateError(f"cannot read: {exc.strerror}", where=str(path)) from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, name: str) -> Located:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        positions: dict[KeyPath, Position] = {}
        value = _build(loader, node, (), name, positions) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise CurateError(f"invalid YAML: {exc.problem}", where=f"{name}:{line}") from None
    finally:
        loader.dispose()
    return Located(value, positions)


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, name: str, out: dict) -> Any:
    out[path] = Position(name, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                raise CurateError(
                    f"key {key!r} appears twice", where=f"{name}:{key_node.start_mark.line + 1}"
                )
            result[key] = _build(loader, value_node, (*path, key), name, out)
            out[(*path, key)] = Position(name, key_node.start_mark.line + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), name, out) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def merge(base: Located, override: Located) -> Located:
    """Deep-merge mappings (override wins); lists and scalars are replaced whole."""
    positions = dict(base.positions)

    def walk(b: Any, o: Any, path: KeyPath) -> Any:
        if isinstance(b, dict) and isinstance(o, dict):
            merged = dict(b)
            for key, value in o.items():
                merged[key] = (
                    walk(b.get(key), value, (*path, key)) if key in b else _take(value, (*path, key))
                )
            positions[path] = override.positions.get(path, positions.get(path))
            return merged
        return _take(o, path)

    def _take(value: Any, path: KeyPath) -> Any:
        for key in [k for k in positions if k[: len(path)] == path]:
            del positions[key]
        positions.update({k: v for k, v in override.positions.items() if k[: len(path)] == path})
        return value

    return Located(walk(base.value, override.value, ()), positions)
