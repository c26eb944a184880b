"""YAML reading within bounds: every refusal names the file and line, and comes at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.yamlpos import MAX_VALUES, load_yaml, parse_yaml


def test_positions_are_kept() -> None:
    located = parse_yaml("a: 1\nb:\n  - x\n  - y\n", "r.yaml")
    assert located.value == {"a": 1, "b": ["x", "y"]}
    assert str(located.where(("b", 1))) == "r.yaml:4"


def test_aliases_count_every_value_they_expand_to() -> None:
    lines = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    started = time.monotonic()
    with pytest.raises(CurateError, match=f"more than {MAX_VALUES:,} values"):
        parse_yaml("\n".join(lines), "bomb.yaml")
    assert time.monotonic() - started < 5
    small = parse_yaml("base: &b {x: 1}\nuse: *b\n", "ok.yaml")  # aliases themselves are fine
    assert small.value["use"] == {"x": 1}


@pytest.mark.parametrize(
    "text", ["a: " + "[" * 70 + "]" * 70, "a: " + "[" * 20_000 + "]" * 20_000], ids=["65-levels", "recursion"]
)
def test_depth_is_bounded(text: str) -> None:
    with pytest.raises(CurateError, match="nested"):
        parse_yaml(text, "deep.yaml")


def test_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * (2 << 20))
    with pytest.raises(CurateError, match="at most"):
        load_yaml(path)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"a: 1\nb: caf\xe9\n", "r.yaml:2"),
        (b"a: 1\n\n\nb: \x00\n", "r.yaml:4"),
        (b"? [1]\n: 2\n", "r.yaml:1"),
    ],
)
def test_undecodable_or_unusable_text_names_its_line(tmp_path: Path, data: bytes, where: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    with pytest.raises(CurateError) as info:
        load_yaml(path)
    assert str(info.value).startswith(str(path).replace("r.yaml", where))
