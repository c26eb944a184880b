"""How a dataset's own columns become curate's rows: the `schema:` of a recipe's source.

Every step reads curate's row model: `uuid`, `problem`, `answer`, `solution`, `source`, `problem_type`,
`question_type`, `generations` (one list entry per generation), the per-generation labels
(`is_reasoning_complete`, `finish_reasons`, `correctness_math_verify`, `correctness_llama`),
`correctness_count` and `messages` (OpenR1's own selected trace). A `ColumnMap` says where each of them
comes from in a source's files, and is applied where the data is read (`curate.table.SourceTable`, on the
driver and on every worker), one row group at a time, reading only the source columns behind the row-model
columns a step asks for. Nothing is converted up front.

A reference (the value of a schema field) is one of:
- `NAME`: a top-level column; `NAME.a.b`: a field of a struct column;
- `@user` / `@assistant`: the text of the conversation's first user turn / its last assistant turn (with
  `conversation:` set; `messages` form `{role, content}` or ShareGPT form `{from, value}`); `@user.a.b`:
  another field of that turn's struct (AM's `info.think_content`).

The generations come from `generations` (a list column), `generation` (one text per row), or the
conversation's last assistant turn. With `reasoning` set, the think block is a column of its own and the
generation is rebuilt as `<think>\\n{reasoning}\\n</think>\\n\\n{generation}`. Label columns may be lists (one
entry per generation) or, for one generation per row, scalars.

Without an `id`, a row's `uuid` is a content hash: the hex xxh3-128 of its problem, answer and generations
as curate reads them. It, and the small columns taken from a conversation (whose text would otherwise be
decoded again by every step that reads the problem), are computed once per source at its boundary and kept
in a store beside the source (`curate.derived`), read like a column from then on.

Columns a mapping does not name stay readable under their own names (OpenMathReasoning's
`pass_rate_72b_tir`, OpenThoughts' `domain`), unless they share a row-model name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import xxhash
from pydantic import BaseModel, ConfigDict, field_validator

from curate.cache import digest

STRINGS = ("problem", "answer", "solution", "source", "problem_type", "question_type")
LABELS = ("is_reasoning_complete", "finish_reasons", "correctness_math_verify", "correctness_llama")
GENERATION_FIELDS = ("generations", "generation", "reasoning")
FIELDS = ("id", *STRINGS, *GENERATION_FIELDS, *LABELS, "correctness_count", "messages")
# The row-model columns, and what every read returns them as.
ROW_MODEL = ("uuid", *STRINGS, "generations", *LABELS, "correctness_count", "messages")
# Columns a mixed recipe adds to every row: the source's name, and its place in `sources:`.
MIX_COLUMNS = ("dataset", "dataset_rank")
USER_ROLES = ("user", "human")
ASSISTANT_ROLES = ("assistant", "gpt")
TURN_FIELDS = {"messages": ("role", "content"), "sharegpt": ("from", "value")}
THINK_OPEN, THINK_CLOSE = "<think>\n", "\n</think>\n\n"

_REFERENCE = re.compile(r"^(@user|@assistant|[^.@][^.]*)(\.[^.]+)*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConversationSpec(_Model):
    column: str
    format: Literal["messages", "sharegpt"] = "messages"


class SchemaSpec(_Model):
    """A source's column mapping: a preset, a mapping, or a preset with some fields overridden.
    Every field is a reference (see the module docstring) or null for "the source has none"."""

    preset: str | None = None
    id: str | None = None
    problem: str | None = None
    answer: str | None = None
    solution: str | None = None
    source: str | None = None
    problem_type: str | None = None
    question_type: str | None = None
    generations: str | None = None
    generation: str | None = None
    reasoning: str | None = None
    conversation: ConversationSpec | None = None
    is_reasoning_complete: str | None = None
    finish_reasons: str | None = None
    correctness_math_verify: str | None = None
    correctness_llama: str | None = None
    correctness_count: str | None = None
    messages: str | None = None

    @field_validator(*FIELDS)
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not _REFERENCE.match(value):
            raise ValueError(f"{value!r} is not a column, a `column.field` path, `@user` or `@assistant`")
        return value


@dataclass(frozen=True)
class Ref:
    """Where one value comes from: a top-level column, or a conversation turn, then struct fields."""

    column: str  # the raw column (the conversation's column for a turn)
    path: tuple[str, ...] = ()
    turn: str | None = None  # "user" or "assistant"

    def __str__(self) -> str:
        head = f"@{self.turn}" if self.turn else self.column
        return ".".join((head, *self.path))


@dataclass(frozen=True)
class ColumnMap:
    """A compiled schema: picklable, shipped to workers inside the source's `Layout`."""

    name: str
    refs: tuple[tuple[str, Ref], ...]  # row-model column (and `generation`, `reasoning`) -> reference
    conversation: tuple[str, str] | None = None  # (column, format)
    hashed_id: bool = False
    identity: bool = False  # every row-model column is the source column of that name (OpenR1)
    known: tuple[str, ...] | None = None  # the source's published columns, when the schema is a preset's
    raw_types: tuple[tuple[str, str], ...] = ()  # published column -> type, for the boundary checks
    prefix: str = ""  # prepended to content-hash ids (a mixed recipe's source name and ':')
    _by_name: dict[str, Ref] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", dict(self.refs))

    @property
    def fingerprint(self) -> str:
        return digest(self.name, self.refs, self.conversation, self.hashed_id, self.identity)

    def ref(self, column: str) -> Ref | None:
        return self._by_name.get(column)

    def provides(self) -> set[str]:
        """The row-model columns this mapping fills (`uuid` always: from a column or a content hash)."""
        if self.identity:
            return set(ROW_MODEL) if self.known is None else set(ROW_MODEL) & set(self.known)
        names = {c for c in self._by_name if c in ROW_MODEL}
        if "generation" in self._by_name or (self.conversation and "generations" not in names):
            names.add("generations")
        if self.conversation and "problem" not in names:
            names.add("problem")
        names.add("uuid")
        return names

    def passthrough(self) -> set[str] | None:
        """Published columns readable under their own names; None when the schema is not a preset's (then
        any column of the files is)."""
        if self.known is None:
            return None
        return {c for c in self.known if c not in ROW_MODEL and c not in MIX_COLUMNS}

    def refs_of(self, column: str) -> list[Ref]:
        """The references behind a row-model column."""
        if self.identity:
            return [Ref(column)]
        if column == "generations":
            found = [
                self._by_name[k] for k in ("generations", "generation", "reasoning") if k in self._by_name
            ]
            if not found and self.conversation:
                found = [Ref(self.conversation[0], turn="assistant")]
            return found
        if column == "uuid":
            ref = self._by_name.get("uuid")
            return [ref] if ref else []
        ref = self._by_name.get(column)
        if ref is None and column == "problem" and self.conversation:
            ref = Ref(self.conversation[0], turn="user")
        return [ref] if ref is not None else []

    def stored(self) -> tuple[str, ...]:
        """Row-model columns kept in the source's derived store: a content-hash `uuid`, and the small
        columns a conversation holds (reading them in place would decode every turn's text each time)."""
        out = ["uuid"] if self.hashed_id else []
        for column in (*STRINGS, "correctness_count"):
            if any(r.turn for r in self.refs_of(column)):
                out.append(column)
        return tuple(out)

    def hash_inputs(self) -> tuple[str, ...]:
        """What a content-hash id is computed from."""
        return ("problem", "answer", "generations")

    def raw_columns(self, columns: list[str]) -> list[str]:
        """The source columns to read for the row-model (or pass-through) `columns`."""
        if self.identity:
            return list(columns)
        raw: list[str] = []
        for column in columns:
            if column in MIX_COLUMNS:
                continue
            refs = self.refs_of(column) if column in ROW_MODEL else [Ref(column)]
            for ref in refs:
                if ref.column not in raw:
                    raw.append(ref.column)
        return raw

    def apply(self, frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        """The row-model `columns` from a frame of source columns."""
        if self.identity:
            return frame.select(columns)
        exprs = [self._expr(c).alias(c) for c in columns if c not in MIX_COLUMNS]
        return frame.select(exprs) if exprs else pl.DataFrame()

    def _expr(self, column: str) -> pl.Expr:
        if column not in ROW_MODEL:
            return pl.col(column)
        if column == "uuid" and self.hashed_id:
            raise RuntimeError("content-hash ids are read from the derived store, which is not built yet")
        if column == "generations":
            return self._generations()
        refs = self.refs_of(column)
        if not refs:
            return pl.lit(None, dtype=_NULL_TYPES.get(column, pl.String()))
        value = self._value(refs[0])
        if column in LABELS and self._one_generation():
            return pl.when(value.is_null()).then(None).otherwise(pl.concat_list([value]))
        if column == "uuid":
            return value.cast(pl.String)
        return value

    def _one_generation(self) -> bool:
        return "generations" not in self._by_name

    def _generations(self) -> pl.Expr:
        if "generations" in self._by_name:
            return self._value(self._by_name["generations"])
        refs = self.refs_of("generations")
        if not refs:
            return pl.lit(None, dtype=pl.List(pl.String()))
        text = self._value(self._by_name.get("generation") or Ref(self.conversation[0], turn="assistant"))  # type: ignore[index]
        if "reasoning" in self._by_name:
            reasoning = self._value(self._by_name["reasoning"])
            text = pl.concat_str([pl.lit(THINK_OPEN), reasoning, pl.lit(THINK_CLOSE), text.fill_null("")])
            text = pl.when(reasoning.is_null()).then(None).otherwise(text)
        return (
            pl.when(text.is_null())
            .then(pl.lit([], dtype=pl.List(pl.String())))
            .otherwise(pl.concat_list([text]))
        )

    def _value(self, ref: Ref) -> pl.Expr:
        if ref.turn is None:
            expr = pl.col(ref.column)
            for name in ref.path:
                expr = expr.struct.field(name)
            return expr
        assert self.conversation is not None
        role_field, text_field = TURN_FIELDS[self.conversation[1]]
        roles = USER_ROLES if ref.turn == "user" else ASSISTANT_ROLES
        picked = pl.col(ref.column).list.eval(
            pl.element().filter(pl.element().struct.field(role_field).str.to_lowercase().is_in(roles))
        )
        turn = picked.list.first() if ref.turn == "user" else picked.list.last()
        expr = turn.struct.field(text_field) if not ref.path else turn
        for name in ref.path:
            expr = expr.struct.field(name)
        return expr


_NULL_TYPES: dict[str, pl.DataType] = {
    "generations": pl.List(pl.String()),
    "is_reasoning_complete": pl.List(pl.Boolean()),
    "correctness_math_verify": pl.List(pl.Boolean()),
    "correctness_llama": pl.List(pl.Boolean()),
    "finish_reasons": pl.List(pl.String()),
    "correctness_count": pl.Int64(),
}


def value_type(schema: pa.Schema, ref: Ref, conversation: tuple[str, str] | None) -> pa.DataType | None:
    """The Arrow type a reference reads from files of `schema` (None when its column or field is absent)."""
    if ref.column not in schema.names:
        return None
    kind = schema.field(ref.column).type
    if ref.turn is not None:
        if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not pa.types.is_struct(
            kind.value_type
        ):
            return kind
        kind = kind.value_type
        if not ref.path:
            assert conversation is not None
            return _field(kind, TURN_FIELDS[conversation[1]][1])
    for name in ref.path:
        kind = _field(kind, name)
        if kind is None:
            return None
    return kind


def _field(kind: pa.DataType, name: str) -> pa.DataType | None:
    if not pa.types.is_struct(kind) or kind.get_field_index(name) < 0:
        return None
    return kind.field(name).type


def parse_ref(text: str, conversation: tuple[str, str] | None, where: str) -> Ref:
    from curate.errors import CurateError

    head, *path = text.split(".")
    if head in ("@user", "@assistant"):
        if conversation is None:
            raise CurateError(
                f"{where}: {text!r} refers to a conversation turn, but `conversation` is not set"
            )
        return Ref(conversation[0], tuple(path), head[1:])
    return Ref(head, tuple(path))


OPENR1_MAP = ColumnMap("openr1", (), identity=True)


def compile_map(
    spec: SchemaSpec,
    name: str,
    known: tuple[str, ...] | None = None,
    raw_types: tuple[tuple[str, str], ...] = (),
) -> ColumnMap:
    """A `ColumnMap` from a fully merged spec (its preset's fields already under the user's)."""
    from curate.errors import CurateError

    conversation = (spec.conversation.column, spec.conversation.format) if spec.conversation else None
    values: dict[str, Any] = spec.model_dump(exclude={"preset", "conversation"})
    if values.get("generations") and (values.get("generation") or values.get("reasoning")):
        raise CurateError("schema: give `generations` (a list column) or `generation`/`reasoning`, not both")
    if values.get("reasoning") and not (values.get("generation") or conversation):
        raise CurateError("schema: `reasoning` needs `generation` (the text after the think block)")
    refs = []
    for key, text in values.items():
        if text is None:
            continue
        refs.append(("uuid" if key == "id" else key, parse_ref(text, conversation, f"schema.{key}")))
    if not any(k == "problem" for k, _ in refs) and conversation is None:
        raise CurateError("schema: `problem` is not mapped (name its column, or set `conversation`)")
    return ColumnMap(
        name, tuple(refs), conversation, hashed_id=spec.id is None, known=known, raw_types=raw_types
    )


def content_ids(
    problems: list[str | None], answers: list[str | None], generations: list[list[str] | None]
) -> list[bytes]:
    """The 16-byte content digest of each row: xxh3-128 over its problem, answer and generations, each part
    length-prefixed so no two different rows can frame to the same bytes."""
    out = []
    for problem, answer, gens in zip(problems, answers, generations):
        h = xxhash.xxh3_128()
        for part in (problem, answer, *(gens or ())):
            data = (part or "").encode("utf-8")
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
        h.update(len(gens or ()).to_bytes(8, "little"))
        out.append(h.digest())
    return out


def arrow_type(text: str) -> pa.DataType:
    """`string`, `bool`, `int64`, `float64`, `list<T>`, `struct<a: T, b: T>`: the types preset files use."""
    text = text.strip()
    simple = {"string": pa.string(), "bool": pa.bool_(), "int64": pa.int64(), "float64": pa.float64()}
    if text in simple:
        return simple[text]
    if text.startswith("list<") and text.endswith(">"):
        return pa.list_(arrow_type(text[5:-1]))
    if text.startswith("struct<") and text.endswith(">"):
        return pa.struct([(n.strip(), arrow_type(t)) for n, t in _fields(text[7:-1])])
    raise ValueError(f"unknown type {text!r}")


def _fields(body: str) -> list[tuple[str, str]]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [tuple(p.split(":", 1)) for p in parts if p.strip()]  # type: ignore[misc]


def compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a file's column type reads as the published one (large/view variants, all-null columns and
    extra struct fields allowed; integer widths are interchangeable)."""
    if pa.types.is_null(actual):
        return True
    if pa.types.is_string(expected):
        return (
            pa.types.is_string(actual) or pa.types.is_large_string(actual) or pa.types.is_string_view(actual)
        )
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual)
    if pa.types.is_list(expected):
        listy = (
            pa.types.is_list(actual) or pa.types.is_large_list(actual) or pa.types.is_fixed_size_list(actual)
        )
        return listy and compatible(actual.value_type, expected.value_type)
    if pa.types.is_struct(expected):
        if not pa.types.is_struct(actual):
            return False
        names = {actual.field(i).name: actual.field(i).type for i in range(actual.num_fields)}
        return all(
            expected.field(i).name in names
            and compatible(names[expected.field(i).name], expected.field(i).type)
            for i in range(expected.num_fields)
        )
    return actual.equals(expected)
