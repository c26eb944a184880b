"""Recipes: plain YAML, validated in full (filter names and parameters included) before any data is read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

import curate.filters as registry
from curate.errors import CurateError
from curate.filters.base import FilterContext, no_bool_for_number
from curate.limits import MAX_SAMPLE_ROWS
from curate.mapping import SchemaSpec
from curate.yamlpos import Located, Position, load_yaml, merge

# `{name}` in a user template, unless it is a LaTeX argument (`\text{name}`, `\frac{a}{b}`, `x^{n}`).
_PLACEHOLDER = re.compile(r"(?<![A-Za-z}^_])\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DATA_SUFFIXES = (".parquet", ".jsonl", ".json")
# Sections that are one of several kinds (`source`: a Hub dataset, files or the sample). A recipe that
# `extends` another and sets one replaces the parent's whole: merged key by key, a child's `path` would sit
# beside the parent's `dataset`.
ONE_OF_SECTIONS = ("source",)
# Keys added after the lock file's format was set, with the default that leaves them out of it.
LATER_KEYS: dict[tuple[str, str], Any] = {("output", "format"): "parquet", ("card", "model"): None}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _no_bool = field_validator("*", mode="before")(classmethod(no_bool_for_number))


class SourceSpec(_Model):
    """Exactly one of: a Hub dataset, local files, or the embedded sample."""

    dataset: str | None = None
    config: str = "default"
    split: str = "train"
    revision: str = "main"
    path: str | None = None
    sample: bool = False
    rows: int = Field(3000, ge=10, le=MAX_SAMPLE_ROWS, description="rows of the embedded sample")
    sample_seed: int = 0
    schema_: SchemaSpec | str | None = Field(None, alias="schema", description="column mapping (a preset name)")

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="after")
    def _one_kind(self) -> SourceSpec:
        kinds = [
            k for k, on in (("dataset", self.dataset), ("path", self.path), ("sample", self.sample)) if on
        ]
        if len(kinds) != 1:
            raise ValueError("set exactly one of `dataset`, `path` or `sample: true`")
        return self

    @field_validator("schema_")
    @classmethod
    def _known_schema(cls, value: SchemaSpec | str | None) -> SchemaSpec | str | None:
        from curate import presets

        name = value if isinstance(value, str) else value.preset if value is not None else None
        if name is not None and name not in presets.presets():
            guess = registry.closest(name, sorted(presets.presets()))
            raise ValueError(
                f"unknown source schema {name!r}"
                + (f" (did you mean {guess!r}?)" if guess else f"; shipped: {', '.join(sorted(presets.presets()))}")
            )
        return value

    @property
    def kind(self) -> Literal["hub", "path", "sample"]:
        return "hub" if self.dataset else "path" if self.path else "sample"


class MixSourceSpec(SourceSpec):
    """One source of a mixed recipe: where and how to read it, its own filters (run on its rows before the
    recipe's filters run on the union), and its part of the draw: a `weight` (its share of the train split,
    relative to the other sources') or a `size` (its number of train rows)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    weight: float | None = Field(None, gt=0)
    size: int | None = Field(None, ge=1)
    filters: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_share(self) -> MixSourceSpec:
        if self.weight is not None and self.size is not None:
            raise ValueError("give a source `weight` or a `size`, not both")
        return self


class SelectSpec(_Model):
    """Which surviving generation of a row becomes the assistant turn: the shortest, first or longest that
    passes every trace filter, or `dataset`: the one the source's own `messages` column selected."""

    strategy: Literal["shortest", "first", "longest", "dataset"] = "shortest"


class FormatSpec(_Model):
    system_prompt: str | None = None
    user_template: str = "{problem}"
    data_source: str = "openr1_math"
    category: str | None = "math_competition"
    normalize_think: bool = True

    @field_validator("user_template")
    @classmethod
    def _has_problem(cls, value: str) -> str:
        if "{problem}" not in value:
            raise ValueError("user_template must contain {problem}")
        unknown = [m.group(0) for m in _PLACEHOLDER.finditer(value) if m.group(1) != "problem"]
        if unknown:
            raise ValueError(f"unknown placeholder {unknown[0]}: the only one is {{problem}}")
        return value


class DrawSpec(_Model):
    size: int | None = Field(None, ge=1)
    test_size: int = Field(0, ge=0)
    weights: dict[str, float] = Field(default_factory=dict)
    weight_by: str = "source"
    stratify: str | None = None
    allow_smaller: bool = False

    @field_validator("weights")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, w in value.items() if not w > 0]
        if bad:
            raise ValueError(f"weights must be > 0 (got {bad[0]}: {value[bad[0]]})")
        return value


class OutputSpec(_Model):
    dir: str
    format: Literal["parquet", "jsonl"] = "parquet"  # of the train/test splits (`curate.formats`)


class CardSpec(_Model):
    license: str = "apache-2.0"
    pretty_name: str | None = None
    language: list[str] = Field(default_factory=lambda: ["en"])
    citation: str | None = None
    model: str | None = None  # a Hub model id the set is made for: the card links it (and cites it if known)


class HubSpec(_Model):
    repo_id: str | None = None
    private: bool = False


class ExecutorSpec(_Model):
    type: Literal["local", "ray"] = "local"
    workers: int | None = Field(None, ge=1)
    address: str | None = None


class RecipeModel(_Model):
    name: str
    description: str = ""
    source: SourceSpec | None = None
    sources: list[MixSourceSpec] | None = None
    seed: int = 0
    filters: list[dict[str, Any]] = Field(default_factory=list)
    select: SelectSpec = Field(default_factory=SelectSpec)
    format: FormatSpec = Field(default_factory=FormatSpec)
    sample: DrawSpec | None = None
    output: OutputSpec
    card: CardSpec = Field(default_factory=CardSpec)
    hub: HubSpec = Field(default_factory=HubSpec)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)

    @field_validator("select", mode="before")
    @classmethod
    def _select_shorthand(cls, value: Any) -> Any:
        return {"strategy": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source_form(self) -> RecipeModel:
        if (self.source is None) == (self.sources is None):
            raise ValueError("give `source` (one source) or `sources` (a list, for a mixed recipe)")
        if self.sources is not None:
            if not self.sources:
                raise ValueError("`sources` lists no source")
            names = [s.name for s in self.sources]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"source name {repeated[0]!r} is used twice")
            weighted = [s.weight is not None for s in self.sources]
            sized = [s.size is not None for s in self.sources]
            if (any(weighted) and not all(weighted)) or (any(sized) and not all(sized)):
                raise ValueError("give every source a `weight`, or every source a `size`, or none of them")
            if all(sized) and self.sample is not None and self.sample.size is not None:
                total = sum(s.size or 0 for s in self.sources)
                if total != self.sample.size:
                    raise ValueError(f"sample.size ({self.sample.size}) differs from the sources' sizes ({total})")
        return self


@dataclass(frozen=True)
class FilterStep:
    """One filter of a recipe: the name the recipe gives it, where its class comes from, its parameters."""

    name: str
    info: registry.FilterInfo
    params: registry.FilterParams
    at: tuple[Any, ...] = ()  # its key path in the recipe, for errors that name the YAML line

    @property
    def cls(self) -> type[registry.Filter]:
        return self.info.cls

    @property
    def level(self) -> str:
        return self.cls.level

    def params_dict(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json")

    def build(self, context: FilterContext | None = None) -> registry.Filter:
        """An instance named as the recipe names it (funnel, stats, reports)."""
        instance = self.cls(self.params, context)
        instance.name = self.name
        return instance


@dataclass(frozen=True)
class RecipeSource:
    """One source of a run: its name (`source` for a recipe with one), where it is, its own filters."""

    name: str
    spec: SourceSpec
    steps: list[FilterStep]
    weight: float | None = None
    size: int | None = None


@dataclass
class Recipe:
    model: RecipeModel
    steps: list[FilterStep]
    path: Path | None
    located: Located
    source_steps: list[list[FilterStep]] | None = None  # per entry of `sources:`

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def mixed(self) -> bool:
        return self.model.sources is not None

    @property
    def sources(self) -> list[RecipeSource]:
        """The recipe's sources in order: the one `source`, or every entry of `sources:`."""
        if self.model.sources is None:
            assert self.model.source is not None
            return [RecipeSource("source", self.model.source, [])]
        steps = self.source_steps or [[] for _ in self.model.sources]
        return [
            RecipeSource(s.name, s, own, s.weight, s.size) for s, own in zip(self.model.sources, steps)
        ]

    def all_steps(self) -> list[tuple[str | None, FilterStep]]:
        """Every filter step with the source it belongs to (None: the recipe's, over every source)."""
        return [(src.name, step) for src in self.sources for step in src.steps] + [
            (None, step) for step in self.steps
        ]

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in, as written to `recipe.lock.yaml`. Keys added to the recipe
        format later are left out while at their default, so a recipe that does not use them locks (and
        hashes) exactly as before they existed."""
        data = self.model.model_dump(mode="json", exclude_none=False)
        data["filters"] = [{step.name: step.params_dict()} for step in self.steps]
        for (section, key), default in LATER_KEYS.items():
            if data[section].get(key) == default:
                del data[section][key]
        if self.model.sources is None:
            data.pop("sources", None)
        else:
            data.pop("source", None)
            for entry, src in zip(data["sources"], self.sources):
                entry["filters"] = [{step.name: step.params_dict()} for step in src.steps]
        return data

    def with_overrides(
        self,
        *,
        source: SourceSpec | None = None,
        named_sources: dict[str, SourceSpec] | None = None,
        out: str | None = None,
        workers: int | None = None,
        executor: str | None = None,
        address: str | None = None,
        allow_smaller: bool = False,
    ) -> Recipe:
        """The recipe with command-line overrides applied (the lock file records the result). A new source
        keeps the recipe's `schema:` (it says where the rows are, not what shape they have)."""
        update: dict[str, Any] = {}
        if source is not None:
            if self.model.source is None:
                raise CurateError(
                    "this recipe mixes several sources: replace one with --source NAME=SOURCE",
                    hint=f"names: {', '.join(s.name for s in self.sources)}",
                )
            update["source"] = _keep_schema(source, self.model.source)
        if named_sources:
            update["sources"] = self._replace_sources(named_sources)
        if out is not None:
            update["output"] = self.model.output.model_copy(update={"dir": out})
        changes = {"workers": workers, "type": executor, "address": address}
        changes = {key: value for key, value in changes.items() if value is not None}
        if changes:
            try:
                update["executor"] = ExecutorSpec.model_validate(
                    {**self.model.executor.model_dump(), **changes}
                )
            except ValidationError as exc:
                err = exc.errors()[0]
                raise CurateError(
                    f"--{'executor' if err['loc'][0] == 'type' else err['loc'][0]}: {err['msg']}"
                ) from None
        if allow_smaller and self.model.sample is not None:
            update["sample"] = self.model.sample.model_copy(update={"allow_smaller": True})
        return Recipe(
            self.model.model_copy(update=update), self.steps, self.path, self.located, self.source_steps
        )

    def _replace_sources(self, named: dict[str, SourceSpec]) -> list[MixSourceSpec]:
        if self.model.sources is None:
            raise CurateError("--source NAME=SOURCE is for a recipe with `sources:`; give --source SOURCE")
        names = [s.name for s in self.model.sources]
        unknown = [n for n in named if n not in names]
        if unknown:
            raise CurateError(f"--source {unknown[0]}=...: no source of that name", hint=f"names: {', '.join(names)}")
        out = []
        for entry in self.model.sources:
            new = named.get(entry.name)
            if new is None:
                out.append(entry)
                continue
            where = {k: getattr(new, k) for k in ("dataset", "config", "split", "revision", "path", "sample", "rows", "sample_seed")}
            out.append(entry.model_copy(update=where))
        return out


def _keep_schema(new: SourceSpec, old: SourceSpec) -> SourceSpec:
    return new if new.schema_ is not None else new.model_copy(update={"schema_": old.schema_})


def load_recipe(path: str | Path) -> Recipe:
    path = Path(path)
    located = _load_with_extends(path, seen=())
    return build_recipe(located, path)


def recipe_from_mapping(data: Mapping[str, Any], base_dir: Path) -> Recipe:
    """A recipe given as a mapping (from Python) rather than a file: its `extends` and the files its filters
    name are relative to `base_dir`."""
    located = Located(dict(data), {(): Position("<recipe mapping>", 0)})
    parent = located.value.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str | Path):
            raise CurateError("`extends` must be a file name")
        parent_path = base_dir / parent
        if not parent_path.exists():
            raise CurateError(f"`extends` names {parent}, which does not exist", where=str(base_dir))
        located = merge(_load_with_extends(parent_path, ()), located, whole=ONE_OF_SECTIONS)
    # The recipe's folder anchors relative paths; a mapping has none, so it stands as a file in `base_dir`.
    return build_recipe(located, base_dir / "<recipe>")


def parse_recipe(text: str, name: str = "<recipe>") -> Recipe:
    from curate.yamlpos import parse_yaml

    return build_recipe(parse_yaml(text, name), None)


def _load_with_extends(path: Path, seen: tuple[Path, ...]) -> Located:
    resolved = path.resolve()
    if resolved in seen:
        raise CurateError("`extends` forms a cycle", where=str(path))
    located = load_yaml(path)
    if not isinstance(located.value, dict):
        raise CurateError("a recipe must be a YAML mapping", where=f"{path}:1")
    parent = located.value.pop("extends", None)
    if parent is None:
        return located
    if not isinstance(parent, str):
        raise CurateError("`extends` must be a file name", where=str(located.where(("extends",))))
    base_path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    if not base_path.exists():
        raise CurateError(
            f"`extends` names {parent}, which does not exist", where=str(located.where(("extends",)))
        )
    return merge(_load_with_extends(base_path, (*seen, resolved)), located, whole=ONE_OF_SECTIONS)


def build_recipe(located: Located, path: Path | None) -> Recipe:
    data = located.value
    if not isinstance(data, dict):
        raise CurateError("a recipe must be a YAML mapping", where=f"{path or '<recipe>'}:1")
    data = dict(data)
    data.pop("extends", None)
    lock = data.pop("lock", None)  # a recipe.lock.yaml: pin the Hub source to the commit it was built from
    try:
        model = RecipeModel.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, located, RecipeModel, ()) from None
    _pin_commits(model, lock)
    steps = [_build_step(item, ("filters", i), located) for i, item in enumerate(model.filters)]
    _check_order(steps, located, ("filters",))
    _check_references(steps, located, path, ("filters",))
    source_steps = None
    if model.sources is not None:
        source_steps = []
        for n, entry in enumerate(model.sources):
            prefix = ("sources", n, "filters")
            own = [_build_step(item, (*prefix, i), located) for i, item in enumerate(entry.filters)]
            _check_order(own, located, prefix)
            _check_references(own, located, path, prefix)
            source_steps.append(own)
    recipe = Recipe(model, steps, path, located, source_steps)
    from curate.presets import check_recipe_columns

    check_recipe_columns(recipe)
    return recipe


def _pin_commits(model: RecipeModel, lock: Any) -> None:
    """A recipe.lock.yaml read as a recipe: each Hub source at the commit the locked run read."""
    if not isinstance(lock, dict):
        return
    if model.source is not None:
        entries: list[Any] = [lock.get("source")]
        specs: list[SourceSpec] = [model.source]
    else:
        locked = lock.get("sources")
        entries = locked if isinstance(locked, list) else []
        specs = list(model.sources or [])
    pinned = []
    for spec, entry in zip(specs, [*entries, *[None] * len(specs)]):
        commit = entry.get("commit") if isinstance(entry, dict) else None
        if isinstance(commit, str) and commit and spec.kind == "hub":
            spec = spec.model_copy(update={"revision": commit})
        pinned.append(spec)
    if model.source is not None:
        model.source = pinned[0]
    else:
        model.sources = pinned  # type: ignore[assignment]


def _build_step(item: Any, at: tuple[Any, ...], located: Located) -> FilterStep:
    where = located.where(at)
    if isinstance(item, str):
        item = {item: {}}
    if not isinstance(item, dict) or len(item) != 1:
        raise CurateError("each filter is `- name: {params}`", where=str(where))
    ((name, params),) = item.items()
    if not isinstance(name, str):
        raise CurateError(f"a filter name must be text, not {name!r}", where=str(where))
    try:
        info = registry.resolve(name)
    except CurateError as exc:
        raise CurateError(str(exc.args[0]), where=str(where), hint=exc.hint) from None
    try:
        parsed = info.cls.Params.model_validate(params or {})
    except ValidationError as exc:
        raise _explain(exc, located, info.cls.Params, (*at, name)) from None
    return FilterStep(name, info, parsed, at)


def _check_order(steps: list[FilterStep], located: Located, prefix: tuple[Any, ...]) -> None:
    """Trace filters run as one chain after the row filters; a row filter after them would run out of order."""
    seen_trace = False
    for i, step in enumerate(steps):
        if step.level == "trace":
            seen_trace = True
        elif seen_trace:
            raise CurateError(
                f"row filter {step.name!r} comes after a trace filter",
                where=str(located.where((*prefix, i))),
                hint="list row filters (columns, dedup, decontaminate) before trace filters "
                "(reasoning_complete, think_format, answer_verify, token_length)",
            )


def _check_references(
    steps: list[FilterStep], located: Located, path: Path | None, prefix: tuple[Any, ...]
) -> None:
    """Files and names the filters refer to (a decontamination file, a tokenizer), checked as `run` will
    use them: relative to the recipe's folder."""
    context = FilterContext(recipe_dir=str(path.parent) if path else None)
    for i, step in enumerate(steps):
        try:
            step.build(context).check()
        except CurateError as exc:
            where = located.where((*prefix, i, step.name))
            detail = f"{exc.where}: {exc.args[0]}" if exc.where else str(exc.args[0])
            raise CurateError(f"{step.name}: {detail}", where=str(where), hint=exc.hint) from None


def _explain(exc: ValidationError, located: Located, model: type[BaseModel], prefix: tuple) -> CurateError:
    err = exc.errors()[0]
    loc = tuple(part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    where = located.where((*prefix, *loc))
    field_path = ".".join(str(p) for p in (*prefix, *loc)) or "recipe"
    if err["type"] == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        choices = list(owner.model_fields) if owner else []
        guess = registry.closest(str(loc[-1]), choices)
        hint = f"did you mean {guess!r}?" if guess else f"allowed: {', '.join(choices)}"
        return CurateError(f"unknown key {field_path!r}", where=str(where), hint=hint)
    if err["type"] == "missing":
        return CurateError(f"missing required key {field_path!r}", where=str(where))
    message = err["msg"].removeprefix("Value error, ")
    return CurateError(f"{field_path}: {message}", where=str(where))


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = current.model_fields if isinstance(current, type) and issubclass(current, BaseModel) else {}
        field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        if field is None:
            return None
        candidates = _flatten(field.annotation)
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _flatten(annotation: Any) -> list[Any]:
    """The types inside an annotation: `list[A] | B | None` -> [A, B, None]."""
    args = getattr(annotation, "__args__", None)
    return [t for a in args for t in _flatten(a)] if args else [annotation]


def parse_source_overrides(texts: list[str]) -> tuple[SourceSpec | None, dict[str, SourceSpec]]:
    """`--source` given any number of times: one SOURCE for a recipe with one source, or NAME=SOURCE for
    sources of a mixed recipe."""
    named: dict[str, SourceSpec] = {}
    single: SourceSpec | None = None
    for text in texts:
        name, sep, rest = text.partition("=")
        if sep and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) and not Path(text).exists():
            named[name] = parse_source_override(rest)
        elif single is None:
            single = parse_source_override(text)
        else:
            raise CurateError("--source is given twice", hint="a mixed recipe takes --source NAME=SOURCE")
    if single is not None and named:
        raise CurateError("--source SOURCE and --source NAME=SOURCE together", hint="use one form")
    return single, named


def parse_source_override(text: str) -> SourceSpec:
    """`--source` forms: `sample`, `sample:ROWS`, a local path or glob, or `OWNER/NAME[:CONFIG][@REVISION]`."""
    if text == "sample" or text.startswith("sample:"):
        rows = text.partition(":")[2].replace("_", "")
        if rows and not rows.isdigit():
            raise CurateError(f"--source {text}: expected sample:ROWS with ROWS a number")
        count = int(rows) if rows else 3000
        if not 10 <= count <= MAX_SAMPLE_ROWS:
            raise CurateError(
                f"--source {text}: the sample has 10 to {MAX_SAMPLE_ROWS:,} rows",
                hint="e.g. --source sample:3000",
            )
        return SourceSpec(sample=True, rows=count)
    if _looks_local(text):
        return SourceSpec(path=text)
    repo, _, revision = text.partition("@")
    repo, _, config = repo.partition(":")
    if repo.count("/") != 1:
        raise CurateError(
            f"--source {text}: not a file, a glob, `sample`, or a Hub dataset id OWNER/NAME",
            hint="check the path exists",
        )
    return SourceSpec(dataset=repo, config=config or "default", revision=revision or "main")


def _looks_local(text: str) -> bool:
    """A path or glob rather than a Hub id: it exists, has glob characters or a data file suffix, starts
    like a path, or its folder exists here (`data/train.parquet` with no such file is a missing file, not
    the Hub dataset `data/train.parquet`)."""
    path = Path(text).expanduser()
    return (
        path.exists()
        or any(ch in text for ch in "*?[")
        or text.startswith((".", "/", "~"))
        or text.lower().endswith(_DATA_SUFFIXES)
        or (path.parent != Path(".") and path.parent.is_dir())
    )


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
