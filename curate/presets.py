"""The shipped source schemas (`curate/data/presets/*.yaml`): for each published dataset, its columns and
types as its dataset card declares them (the revision checked is in the file's comments), how they map onto
curate's row model, and where its files are on the Hub.

A recipe names one with `schema: NAME`, or overrides some of its fields:
`schema: {preset: NAME, answer: other_column}`. Not to be confused with `curate.train.presets`, the
training launch presets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from curate.errors import CurateError
from curate.mapping import OPENR1_MAP, ColumnMap, SchemaSpec, arrow_type, compile_map
from curate.yamlpos import parse_yaml

FOLDER = Path(__file__).resolve().parent / "data" / "presets"
DEFAULT = "openr1"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    hub: dict[str, Any]
    columns: dict[str, str]  # published column -> type (`curate.mapping.arrow_type` syntax)
    optional: frozenset[str] = frozenset()
    schema: dict[str, Any] = field(default_factory=dict)
    identity: bool = False
    traces: bool = True  # whether its generations are reasoning traces (a think block)

    @property
    def hub_files(self) -> list[str] | None:
        """File patterns for a Hub source, when the dataset card declares no `configs:`."""
        files = self.hub.get("files")
        return list(files) if files else None


@cache
def presets() -> dict[str, Preset]:
    found = {}
    for path in sorted(FOLDER.glob("*.yaml")):
        data = parse_yaml(path.read_text(encoding="utf-8"), str(path)).value
        found[data["name"]] = Preset(
            name=data["name"],
            title=data["title"],
            hub=dict(data.get("hub") or {}),
            columns=dict(data["columns"]),
            optional=frozenset(data.get("optional") or ()),
            schema=dict(data.get("schema") or {}),
            identity=bool(data.get("identity", False)),
            traces=bool(data.get("traces", True)),
        )
    return found


def get(name: str) -> Preset:
    known = presets()
    if name not in known:
        from curate.filters import closest

        guess = closest(name, list(known))
        hint = f"did you mean {guess!r}?" if guess else f"shipped schemas: {', '.join(sorted(known))}"
        raise CurateError(f"unknown source schema {name!r}", hint=hint)
    return known[name]


def preset_of(schema: SchemaSpec | str | None) -> Preset | None:
    """The preset a source's `schema:` builds on (OpenR1's when there is no `schema:`)."""
    if schema is None:
        return get(DEFAULT)
    if isinstance(schema, str):
        return get(schema)
    return get(schema.preset) if schema.preset else None


def column_map(schema: SchemaSpec | str | None) -> ColumnMap:
    """The compiled mapping of a source's `schema:` (a preset name, a mapping, or a preset plus overrides).
    No `schema:` reads the files as OpenR1's, with any other column of them readable by name."""
    if schema is None:
        return OPENR1_MAP
    preset = preset_of(schema)
    spec = schema if isinstance(schema, SchemaSpec) else SchemaSpec(preset=schema)
    if preset is not None and preset.identity and spec.model_fields_set <= {"preset"}:
        return _typed(ColumnMap(preset.name, (), identity=True, known=tuple(preset.columns)), preset)
    merged = {**(preset.schema if preset else {}), **spec.model_dump(exclude={"preset"}, exclude_unset=True)}
    if preset is None:
        return compile_map(SchemaSpec.model_validate(merged), "custom")
    name = preset.name if spec.model_fields_set <= {"preset"} else f"{preset.name} (with overrides)"
    return _typed(compile_map(SchemaSpec.model_validate(merged), name, known=tuple(preset.columns)), preset)


def _typed(compiled: ColumnMap, preset: Preset) -> ColumnMap:
    """The mapping with the preset's published column types, checked at the boundary."""
    from dataclasses import replace

    types = tuple((name, text) for name, text in preset.columns.items() if name not in preset.optional)
    return replace(compiled, raw_types=types)


def explicit_schema(preset: Preset) -> Any:
    """The preset's columns as an Arrow schema: how its JSON-lines files are read (no type guessing)."""
    import pyarrow as pa

    return pa.schema([(name, arrow_type(text)) for name, text in preset.columns.items()])


def check_recipe_columns(recipe: Any) -> None:
    """Every filter of a recipe reads only columns its sources' schemas provide: checked when the recipe is
    loaded (`curate validate` and `curate run` alike), so a filter that needs a column a preset lacks (the
    dataset's own correctness labels, finish reasons, a reference answer) is one error naming the filter,
    the schema and the recipe line, never a failure halfway through a run."""
    from curate.mapping import MIX_COLUMNS, ROW_MODEL

    maps: dict[str, ColumnMap] = {}
    kinds: dict[str, Preset | None] = {}
    for index, source in enumerate(recipe.sources):
        at = ("sources", index, "schema") if recipe.mixed else ("source", "schema")
        try:
            maps[source.name] = column_map(source.spec.schema_)
        except CurateError as exc:
            raise CurateError(str(exc.args[0]), where=str(recipe.located.where(at)), hint=exc.hint) from None
        kinds[source.name] = preset_of(source.spec.schema_)

    def fail(what: str, column: str | None, name: str, at: tuple[Any, ...], params: Any = None) -> None:
        cmap = maps[name]
        which = f" (source {name!r})" if recipe.mixed else ""
        has = ", ".join(sorted(cmap.provides() | (cmap.passthrough() or set())))
        lacking = (
            f"needs column {column!r}, which" if column else "needs reasoning traces (a think block), which"
        )
        if column == "correctness_count" and getattr(params, "prefer_correct", False):
            hint = "set `prefer_correct: false`: the survivor of a duplicate cluster is then the lowest uuid"
        else:
            hint = (
                f"the schema has: {has}; remove the filter"
                + (", move it to the `filters:` of a source that has the column" if recipe.mixed else "")
                + ", or map the column with `schema:`"
            )
        raise CurateError(
            f"{what} {lacking} source schema {cmap.name!r}{which} does not have",
            where=str(recipe.located.where(at)),
            hint=hint,
        )

    def has(name: str, column: str) -> bool:
        cmap = maps[name]
        if column in MIX_COLUMNS:
            return recipe.mixed
        if column in ROW_MODEL:
            return column in cmap.provides()
        extra = cmap.passthrough()
        return extra is None or column in extra

    names = list(maps)
    for owner, step in recipe.all_steps():
        needed = [
            *step.cls(step.params).required_columns(),
            *(["generations"] if step.level == "trace" else []),
        ]
        for name in [owner] if owner else names:
            preset = kinds[name]
            if getattr(step.cls, "reads_think", False) and preset is not None and not preset.traces:
                fail(f"filter {step.name!r}", None, name, step.at)
            for column in needed:
                if not has(name, column):
                    fail(f"filter {step.name!r}", column, name, step.at, step.params)
    model = recipe.model
    wanted: list[tuple[str, str, tuple[Any, ...]]] = [("generations", "the output", ())]
    if model.select.strategy == "dataset":
        wanted.append(("messages", "select: dataset", ("select",)))
    if model.sample is not None and model.sample.stratify:
        wanted.append((model.sample.stratify, "sample.stratify", ("sample", "stratify")))
    if model.sample is not None and model.sample.weights:
        wanted.append((model.sample.weight_by, "sample.weight_by", ("sample", "weight_by")))
    for column, what, at in wanted:
        for name in names:
            if not has(name, column):
                fail(what, column, name, at or (("sources",) if recipe.mixed else ("source",)))
