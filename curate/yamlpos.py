"""YAML loading that remembers where every value came from, so a validation error can name file and line."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curate.errors import CurateError

KeyPath = tuple[Any, ...]

# A recipe is a page of YAML. These bounds stop hostile or broken files (a 10-line alias "bomb" that
# expands to billions of values, a 100,000-deep nesting) before they exhaust time or memory.
MAX_BYTES = 1 << 20
MAX_VALUES = 100_000  # values after aliases are expanded
MAX_DEPTH = 64


@dataclass(frozen=True)
class Position:
    file: str
    line: int  # 1-based; 0 for a recipe given as a mapping, which has no lines

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


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
    if path.exists() and not path.is_file():  # a folder, or a pipe or device that would never end
        raise CurateError("not a regular file", where=str(path), hint="give the recipe's YAML file")
    try:
        if path.is_file() and path.stat().st_size > MAX_BYTES:
            raise CurateError(
                f"{path.stat().st_size:,} bytes: a recipe is at most {MAX_BYTES:,} bytes",
                where=str(path),
                hint="is this the right file?",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise CurateError("file not found", where=str(path), hint="check the path") from None
    except OSError as exc:
        raise CurateError(f"cannot read: {exc.strerror}", where=str(path)) from None
    return parse_yaml(decode_text(data, str(path)), str(path))


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text, or an error naming the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise CurateError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column})",
            where=f"{name}:{line}",
            hint="save the file as UTF-8",
        ) from None


def parse_yaml(text: str, name: str) -> Located:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise CurateError(f"a recipe is at most {MAX_BYTES:,} bytes", where=name)
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        positions: dict[KeyPath, Position] = {}
        value = _Builder(loader, name, positions).build(node, ()) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise CurateError(f"invalid YAML: {exc.problem or exc.context}", where=f"{name}:{line}") from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
        line = text[: exc.position].count("\n") + 1
        raise CurateError(
            f"invalid YAML: character #x{exc.character:04x} is not allowed", where=f"{name}:{line}"
        ) from None
    except yaml.YAMLError as exc:
        raise CurateError(f"invalid YAML: {' '.join(str(exc).split())}", where=name) from None
    except RecursionError:
        raise CurateError(f"nested deeper than YAML can be read (limit {MAX_DEPTH})", where=name) from None
    finally:
        if loader is not None:
            loader.dispose()
    return Located(value, positions)


class _Builder:
    """Plain values from the node graph, recording positions, within the size and depth bounds."""

    def __init__(self, loader: yaml.SafeLoader, name: str, out: dict[KeyPath, Position]) -> None:
        self.loader = loader
        self.name = name
        self.out = out
        self.values = 0

    def where(self, node: yaml.Node) -> str:
        return f"{self.name}:{node.start_mark.line + 1}"

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise CurateError(
                f"the recipe expands to more than {MAX_VALUES:,} values",
                where=self.where(node),
                hint="YAML aliases (*name) that repeat large blocks? write the values out",
            )
        if len(path) > MAX_DEPTH:
            raise CurateError(f"nested more than {MAX_DEPTH} levels deep", where=self.where(node))
        self.out[path] = Position(self.name, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise CurateError(
                        "a key must be a plain value, not a list or mapping", where=self.where(key_node)
                    )
                key = self.loader.construct_object(key_node, deep=True)
                if key in result:
                    raise CurateError(f"key {key!r} appears twice", where=self.where(key_node))
                child = (*path, key)
                result[key] = self.build(value_node, child)
                self.out[child] = Position(self.name, key_node.start_mark.line + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)


def merge(base: Located, override: Located, whole: Collection[str] = ()) -> Located:
    """Deep-merge mappings (override wins); lists and scalars are replaced whole, and so are the top-level
    sections named in `whole`."""
    positions = dict(base.positions)

    def walk(b: Any, o: Any, path: KeyPath) -> Any:
        if isinstance(b, dict) and isinstance(o, dict) and not (len(path) == 1 and path[0] in whole):
            merged = dict(b)
            for key, value in o.items():
                merged[key] = (
                    walk(b.get(key), value, (*path, key)) if key in b else _take(value, (*path, key))
                )
            position = override.positions.get(path, positions.get(path))
            if position is not None:
                positions[path] = position
            return merged
        return _take(o, path)

    def _take(value: Any, path: KeyPath) -> Any:
        for key in [k for k in positions if k[: len(path)] == path]:
            del positions[key]
        positions.update({k: v for k, v in override.positions.items() if k[: len(path)] == path})
        return value

    return Located(walk(base.value, override.value, ()), positions)
