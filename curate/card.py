"""The data card: a Hub `README.md` built only from what a run wrote into its output folder.

Everything on the card is derived from the files beside it (stats.json, the splits, the reports,
recipe.lock.yaml, read through `curate.outputs.RunOutput`), never from the clock or the machine, so the same
output gives a byte-identical card and plot. The front matter is `huggingface_hub.DatasetCardData` (with
`configs` and `dataset_info` as `datasets` writes them); the text is the Jinja template `card.md.jinja`
beside this module, rendered from facts computed here: the tokenizer named is the one the recipe counted
with, the decontamination section reads the reports of filters that declare a contamination report, and
citations appear only for the source and model the run actually used. Optional files may be missing (a
hand-copied folder, a recipe without decontamination): their section then says so instead of failing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curate.cache import atomic_write_text
from curate.drops import REJECTION_SCHEMA
from curate.errors import CurateError
from curate.filters import CONTAMINATION
from curate.formats import FORMATS
from curate.outputs import PLOT, SPLIT_SCHEMA, RunOutput, report_file

TOKEN_PLOT = PLOT
TEMPLATE = Path(__file__).with_name("card.md.jinja")
MIX_COLUMNS = (
    ("dataset", "Dataset"),
    ("source", "Source"),
    ("problem_type", "Problem type"),
    ("question_type", "Question type"),
)
PERCENTILES = (50, 90, 99)
REPORT_ROWS = 50  # rows of a report table shown on the card; the JSON file beside it has them all

OPENR1 = "open-r1/OpenR1-Math-220k"
MODEL = "96kevinli29/Qwen3-4B-SFT-Math"
# The embedded sample's real problems are OpenR1-Math-220k's (curate/synthetic/data/PROVENANCE.md).
SAMPLE_ORIGIN = OPENR1
OPENR1_CITATION = """\
@misc{openr1,
    title = {Open R1: A fully open reproduction of DeepSeek-R1},
    url = {https://github.com/huggingface/open-r1},
    author = {Hugging Face},
    month = {January},
    year = {2025}
}"""
MODEL_CITATION = """\
@misc{qwen3-4b-sft-math-2026,
    title = {{Qwen3-4B-SFT-Math}: Pure Long-Think Math SFT of {Qwen3}-4B-Base},
    author = {Hongyang Li, Xiao Li and {Sea-Fill Community}},
    year = {2026},
    publisher = {Hugging Face},
    howpublished = {\\url{https://huggingface.co/96kevinli29/Qwen3-4B-SFT-Math}},
    note = {Checkpoint trained with verl; warm-start for pre-RL alignment research. Maintained by Sea-Fill Community.}
}"""

# BibTeX of the datasets and models curate knows, by Hub id; others are linked to their own cards.
CITATIONS = {OPENR1: OPENR1_CITATION, MODEL: MODEL_CITATION}

COLUMN_MEANINGS = {
    "messages": "the conversation verl trains on: a user turn (the problem) and an assistant turn "
    "(`<think>` reasoning, then the solution with `\\boxed{}`)",
    "uuid": "the source row's id",
    "source": "where the problem comes from (olympiads, amc_aime, ...)",
    "problem_type": "topic label from the source",
    "dataset": "the source of the mixed recipe the row comes from (its name in `sources:`)",
    "question_type": "math-word-problem, MCQ or proof",
    "answer": "the reference final answer (raw LaTeX)",
    "data_source": "verl's reward/data routing key",
    "category": "coarse category tag",
    "num_tokens": "tokens of the whole conversation under the {chat_template}",
    "generation_index": "which of the source row's generations became the assistant turn",
}


@dataclass
class SplitData:
    """One output parquet split, with the few columns the card summarises."""

    name: str
    path: Path
    rows: int
    num_bytes: int
    file_bytes: int
    sha256: str
    columns: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def tokens(self) -> np.ndarray:
        values = [v for v in self.columns.get("num_tokens", []) if v is not None]
        return np.asarray(values, dtype=np.int64)


@dataclass
class CardInputs:
    output: RunOutput
    stats: dict[str, Any]
    splits: list[SplitData]
    lock: dict[str, Any] | None
    reports: dict[str, Any]
    rejections: SplitData | None
    features: list[dict[str, Any]]

    @property
    def out_dir(self) -> Path:
        return self.output.path

    @property
    def source(self) -> dict[str, Any]:
        return self.stats.get("source") or {}

    @property
    def parts(self) -> list[dict[str, Any]]:
        """The sources of a mixed recipe (stats.json's `sources`: provenance, funnel, shares); [] otherwise."""
        return list(self.stats.get("sources") or [])

    @property
    def origins(self) -> list[dict[str, Any]]:
        """Where the rows come from: the one source, or each source of a mix."""
        return [p.get("source") or {} for p in self.parts] if self.parts else [self.source]

    @property
    def is_sample(self) -> bool:
        return any(o.get("kind") == "sample" for o in self.origins)

    @property
    def recipe(self) -> dict[str, Any]:
        return self.lock or {}

    def split(self, name: str) -> SplitData | None:
        return next((s for s in self.splits if s.name == name), None)


def write_card(out_dir: Path) -> Path:
    """Write `README.md` and the token-length plot into a `curate run` output folder; return the card path."""
    output = RunOutput(out_dir)
    inputs = load_inputs(output)
    plot = write_token_plot(inputs.splits, output.plot, _tokens_label(output.tokenizer()))
    atomic_write_text(output.card, render_card(inputs, plot_name=plot.name if plot else None))
    return output.card


def load_inputs(output: RunOutput) -> CardInputs:
    stats = output.stats()
    splits = [_read_split(output, name, path) for name, path in output.splits()]
    if not any(s.name == "train" for s in splits):
        raise CurateError(
            f"no {output.split_path('train').name} here", where=str(output.path), hint="re-run `curate run RECIPE`"
        )
    rejections = None
    if output.rejections.is_file():
        rejections = _read_split(output, "rejections", output.rejections, summary=())
    return CardInputs(
        output=output,
        stats=stats,
        splits=splits,
        lock=output.lock(),
        reports=output.reports(),
        rejections=rejections,
        features=_features(output.format.schema(output.split_path("train"), SPLIT_SCHEMA)),
    )


def _read_split(
    output: RunOutput,
    name: str,
    path: Path,
    summary: tuple[str, ...] = ("num_tokens", "dataset", "source", "problem_type", "question_type"),
) -> SplitData:
    """A split's row count, in-memory size and summary columns, batch by batch: the Arrow size is what the
    `datasets` library reports as num_bytes, and a split of long traces is never held whole."""
    columns: dict[str, list[Any]] = {c: [] for c in summary}
    rows = num_bytes = 0
    batches = (
        FORMATS["parquet"].batches(path, REJECTION_SCHEMA) if name == "rejections" else output.split_batches(name)
    )
    try:
        for batch in batches:
            rows += batch.num_rows
            num_bytes += batch.nbytes
            for column in summary:
                if column in batch.column_names:
                    columns[column].extend(batch.column(column).to_pylist())
    except CurateError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid or OSError for a damaged file
        raise CurateError(
            f"not a readable parquet file ({str(exc).splitlines()[0]})", where=str(path)
        ) from None
    return SplitData(
        name=name,
        path=path,
        rows=rows,
        num_bytes=num_bytes,
        file_bytes=path.stat().st_size,
        sha256=sha256_file(path),
        columns={c: v for c, v in columns.items() if v or rows == 0},
    )


def sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            hasher.update(block)
    return hasher.hexdigest()


def _features(schema: Any) -> list[dict[str, Any]]:
    """The parquet schema in the Hub's `dataset_info.features` form, as the `datasets` library writes it."""
    from datasets import Features

    return Features.from_arrow_schema(schema)._to_yaml_list()


# --- plot -------------------------------------------------------------------------------------------------


def write_token_plot(splits: list[SplitData], path: Path, label: str = "Qwen3 chat template") -> Path | None:
    """Histogram of `num_tokens` per split with the train percentiles marked. Fixed size, dpi and no
    software/date metadata, so identical data gives identical PNG bytes."""
    series = [(s.name, s.tokens) for s in splits if s.tokens.size]
    if not series:
        path.unlink(missing_ok=True)
        return None
    from matplotlib.figure import Figure

    top = max(int(values.max()) for _, values in series)
    bins = np.linspace(0, max(top, 1), 51)
    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    colors = {"train": "#1f77b4", "test": "#ff7f0e"}
    for name, values in series:
        # Density, so a 200-row test split is comparable with a 45K-row train split.
        axes.hist(
            values,
            bins=bins.tolist(),
            density=True,
            alpha=0.55,
            label=f"{name} ({values.size:,} rows)",
            color=colors.get(name),
        )
    reference = series[0][1]
    for q, style in zip(PERCENTILES, (":", "--", "-.")):
        value = _percentile(reference, q)
        axes.axvline(
            value, color="black", linestyle=style, linewidth=1, label=f"{series[0][0]} p{q} = {value:,}"
        )
    axes.set_xlabel(f"tokens per row ({label})")
    axes.set_ylabel("density")
    axes.set_title("Token lengths")
    axes.legend(fontsize=8)
    figure.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, format="png", metadata={"Software": None})
    tmp.replace(path)
    return path


def _percentile(values: np.ndarray, q: float) -> int:
    return round(float(np.percentile(values, q)))


# --- rendering --------------------------------------------------------------------------------------------


def render_card(inputs: CardInputs, plot_name: str | None) -> str:
    """The card: `DatasetCardData` front matter and the template's text, from the facts of the output."""
    import jinja2
    from huggingface_hub import DatasetCardData

    environment = jinja2.Environment(
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    template = environment.from_string(TEMPLATE.read_text(encoding="utf-8"))
    card_data = DatasetCardData(**front_matter(inputs))
    return template.render(front_matter=card_data.to_yaml(), **facts(inputs, plot_name))


def front_matter(inputs: CardInputs) -> dict[str, Any]:
    """The Hub metadata, as `DatasetCardData` fields."""
    card = inputs.recipe.get("card") or {}
    total = sum(s.rows for s in inputs.splits)
    tags = ["math", "reasoning", "long-cot", "sft", "verl", "curate"]
    if inputs.is_sample:
        tags.append("synthetic")
    meta: dict[str, Any] = {
        "license": card.get("license") or "apache-2.0",
        "language": card.get("language") or ["en"],
        "pretty_name": _pretty_name(inputs),
        "task_categories": ["text-generation"],
        "tags": tags,
        "size_categories": [size_category(total)],
    }
    hub = [d for d in dict.fromkeys(source_dataset(o) for o in inputs.origins) if d]
    if hub:
        meta["source_datasets"] = hub
    splits = [s for s in inputs.splits if s.rows > 0] or [inputs.splits[0]]
    configs: list[dict[str, Any]] = [
        {
            "config_name": "default",
            "default": True,
            "data_files": [{"split": s.name, "path": s.path.name} for s in splits],
        }
    ]
    infos = [
        {
            "config_name": "default",
            "features": inputs.features,
            "splits": [{"name": s.name, "num_bytes": s.num_bytes, "num_examples": s.rows} for s in splits],
            "download_size": sum(s.file_bytes for s in splits),
            "dataset_size": sum(s.num_bytes for s in splits),
        }
    ]
    if inputs.rejections is not None:
        rejected = inputs.rejections
        configs.append(
            {"config_name": "rejections", "data_files": [{"split": "rejected", "path": rejected.path.name}]}
        )
        infos.append(
            {
                "config_name": "rejections",
                "features": _features(pq.read_schema(rejected.path)),
                "splits": [
                    {"name": "rejected", "num_bytes": rejected.num_bytes, "num_examples": rejected.rows}
                ],
                "download_size": rejected.file_bytes,
                "dataset_size": rejected.num_bytes,
            }
        )
    meta["configs"] = configs
    meta["dataset_info"] = infos
    return meta


def size_category(rows: int) -> str:
    """The Hub's size_categories bucket for a row count."""
    if rows < 1000:
        return "n<1K"
    bounds = ["1K", "10K", "100K", "1M", "10M", "100M", "1B", "10B", "100B", "1T"]
    index = min(int(math.log10(rows)) - 3, len(bounds) - 2)
    return f"{bounds[index]}<n<{bounds[index + 1]}"


def source_dataset(source: dict[str, Any]) -> str | None:
    """The Hub id the rows come from: the Hub source itself; None for local files or the synthetic sample,
    whose origin the card cannot vouch for."""
    return source.get("dataset") if source.get("kind") == "hub" else None


def _pretty_name(inputs: CardInputs) -> str:
    card = inputs.recipe.get("card") or {}
    return str(card.get("pretty_name") or inputs.stats.get("recipe") or inputs.out_dir.name)


def facts(inputs: CardInputs, plot_name: str | None) -> dict[str, Any]:
    """What the template says, computed from the output's files (see `card.md.jinja` for the wording)."""
    output, stats, recipe = inputs.output, inputs.stats, inputs.recipe
    rows = stats.get("rows") or {}
    kept = sum(s.rows for s in inputs.splits)
    tokenizer = output.tokenizer()
    chat_template = _chat_template(tokenizer)
    test = inputs.split("test")
    bound = output.token_bound()
    bound_step = next(
        (s.name for s in output.steps() if s.filter is not None and s.filter.token_bound() == bound), None
    )
    return {
        "pretty_name": _pretty_name(inputs),
        "sample": _sample(inputs),
        "description": (recipe.get("description") or "").strip(),
        "counts": ", ".join(f"{s.rows:,} {s.name}" for s in inputs.splits),
        "recipe": stats.get("recipe", "?"),
        "recipe_hash": stats.get("recipe_sha256", "?"),
        "source_phrase": _sources_phrase(inputs),
        "parts": _parts(inputs),
        "sources_section": _sources_section(inputs),
        "rows": {"source": f"{rows['source']:,}", "pool": f"{rows.get('pool', kept):,}", "kept": f"{kept:,}"}
        if rows.get("source")
        else None,
        "filters": _filters(inputs),
        "select": (recipe.get("select") or {}).get("strategy"),
        "sampling": _sampling(recipe),
        "format": _format(recipe),
        "split_format": output.format.name,
        "builder": output.format.builder,
        "data_files": ", ".join(f'"{s.name}": "{s.path.name}"' for s in inputs.splits if s.rows),
        "verl_keys": "data.train_files=train.parquet" + (" data.val_files=test.parquet" if test and test.rows else ""),
        "token_bound": {"max_tokens": f"{bound.max_tokens:,}", "step": bound_step} if bound else None,
        "columns": _columns(inputs, chat_template, tokenizer),
        "funnel": _funnel(inputs),
        "generations": _generations(inputs),
        "tokens": _tokens(inputs),
        "chat_template": chat_template,
        "tokenizer": _tokenizer_name(tokenizer),
        "plot": plot_name,
        "composition": _composition(inputs),
        "decontamination": _decontamination(inputs),
        "other_reports": _other_reports(inputs),
        "lock_text": output.lock_path.read_text(encoding="utf-8").rstrip("\n")
        if output.lock_path.is_file()
        else None,
        "files": _files(inputs),
        "versions": _table(["package", "version"], [[f"`{k}`", v] for k, v in (stats.get("versions") or {}).items()])
        if stats.get("versions")
        else "",
        "citations": _citations(inputs),
    }


def _sample(inputs: CardInputs) -> dict[str, Any] | None:
    if not inputs.is_sample:
        return None
    source = next(o for o in inputs.origins if o.get("kind") == "sample")
    rows = source.get("rows", "?")
    return {
        "mixed": bool(inputs.parts),
        "rows": f"{rows:,}" if isinstance(rows, int) else rows,
        "seed": source.get("seed", "?"),
        "generator_version": source.get("generator_version", "?"),
    }


def _chat_template(tokenizer: str) -> str:
    """How rows are rendered before counting: ChatML, which is Qwen3's own chat format."""
    return "Qwen3 chat template" if tokenizer == "qwen3" else "ChatML training template of `curate train`"


def _tokenizer_name(tokenizer: str) -> str:
    from curate.tokenizers import is_path_spec

    if tokenizer == "qwen3":
        return "the Qwen3 tokenizer"
    if is_path_spec(tokenizer):
        return f"the tokenizer `{tokenizer}`"
    return f"the tiktoken encoding `{tokenizer}`"


def _tokens_label(tokenizer: str) -> str:
    """The token plot's axis: which counting it shows."""
    return _chat_template(tokenizer) if tokenizer == "qwen3" else f"ChatML, {Path(tokenizer).name}"


def _parts(inputs: CardInputs) -> list[str]:
    """A mixed recipe's sources for "How it was made", one line each: name, schema, share, where from."""
    lines = []
    for part in inputs.parts:
        share = (
            f"weight {part['weight']:g}"
            if part.get("weight")
            else (f"{part['size']:,} train rows" if part.get("size") else "no share given")
        )
        lines.append(f"`{part['name']}` (schema `{part.get('schema')}`, {share}): {_source_phrase(part.get('source') or {})}")
    return lines


def _sources_phrase(inputs: CardInputs) -> str:
    if not inputs.parts:
        return _source_phrase(inputs.source)
    return (
        f"{len(inputs.parts)} sources mixed ("
        + "; ".join(f"`{p['name']}`: {_source_phrase(p.get('source') or {})}" for p in inputs.parts)
        + ")"
    )


def _source_phrase(source: dict[str, Any]) -> str:
    kind = source.get("kind")
    if kind == "hub":
        name = source.get("dataset", "?")
        phrase = f"[{name}](https://huggingface.co/datasets/{name}) (config `{source.get('config')}`, "
        phrase += f"split `{source.get('split')}`, revision `{source.get('revision')}`"
        if source.get("commit"):
            phrase += f", commit `{source['commit']}`"
        return phrase + ")"
    if kind == "sample":
        return "the embedded offline sample (synthetic rows)"
    if kind == "path":
        return f"local files (`{source.get('path')}`)"
    return "an unrecorded source"


def _filters(inputs: CardInputs) -> list[tuple[str, str]]:
    """Each filter with its parameters as JSON (empty when it has none)."""
    items = inputs.recipe.get("filters") or [{entry.get("filter"): None} for entry in _filter_steps(inputs)]
    return [
        (str(name), json.dumps(params, sort_keys=True, ensure_ascii=False) if params else "")
        for item in items
        for name, params in item.items()
    ]


def _sampling(recipe: dict[str, Any]) -> dict[str, Any] | None:
    sample = recipe.get("sample")
    if not sample:
        return None
    size = sample.get("size")
    extra = f"; source weights {json.dumps(sample['weights'], sort_keys=True)}" if sample.get("weights") else ""
    extra += f"; stratified by `{sample['stratify']}`" if sample.get("stratify") else ""
    return {
        "what": f"{size:,} train rows" if size else "every surviving row",
        "test_size": f"{sample.get('test_size', 0):,}",
        "seed": recipe.get("seed"),
        "extra": extra,
    }


def _format(recipe: dict[str, Any]) -> dict[str, Any] | None:
    fmt = recipe.get("format") or {}
    if not fmt:
        return None
    return {
        "system": "a system prompt" if fmt.get("system_prompt") else "no system turn",
        "user_template": fmt.get("user_template", "{problem}"),
        "data_source": fmt.get("data_source"),
    }


def _filter_steps(inputs: CardInputs) -> list[dict[str, Any]]:
    return [e for e in inputs.stats.get("funnel") or [] if e.get("level") != "sample"]


def _columns(inputs: CardInputs, chat_template: str, tokenizer: str) -> str:
    counted = "" if tokenizer == "qwen3" else f", counted with {_tokenizer_name(tokenizer)}"
    meanings = {**COLUMN_MEANINGS, "num_tokens": COLUMN_MEANINGS["num_tokens"].format(chat_template=chat_template) + counted}
    return _table(
        ["column", "type", "meaning"],
        [[f"`{f['name']}`", _feature_type(f), meanings.get(f["name"], "")] for f in inputs.features],
    )


def _feature_type(feature: dict[str, Any]) -> str:
    if "dtype" in feature:
        return str(feature["dtype"])
    if "list" in feature:
        inner = feature["list"]
        if isinstance(inner, list):
            return "list of {" + ", ".join(f"{f['name']}: {_feature_type(f)}" for f in inner) + "}"
        return f"list of {inner}"
    return "struct"


def _funnel(inputs: CardInputs) -> str:
    funnel = inputs.stats.get("funnel") or []
    if not funnel:
        return ""
    rows = []
    source_rows = (inputs.stats.get("rows") or {}).get("source")
    if source_rows is not None:
        rows.append(["source", "", "", f"{source_rows:,}", "", ""])
    for entry in funnel:
        dropped = entry.get("dropped") or {}
        reasons = ", ".join(f"{reason}: {count:,}" for reason, count in sorted(dropped.items()))
        own = f" (source `{entry['source']}`)" if entry.get("source") else ""
        rows.append(
            [
                f"`{entry.get('filter')}`{own}",
                entry.get("level", ""),
                f"{entry.get('rows_in', 0):,}",
                f"{entry.get('rows_out', 0):,}",
                f"{entry.get('rows_in', 0) - entry.get('rows_out', 0):,}",
                reasons,
            ]
        )
    return _table(
        ["step", "level", "rows in", "rows out", "dropped", "drops by reason"], rows, numeric=(2, 3, 4)
    )


def _generations(inputs: CardInputs) -> str:
    return "; ".join(
        f"`{e['filter']}` {g.get('kept', 0):,} of {g.get('seen', 0):,}"
        for e in inputs.stats.get("funnel") or []
        if isinstance(g := e.get("generations"), dict) and g.get("seen")
    )


def _sources_section(inputs: CardInputs) -> str:
    """A mixed recipe's sources: what each brought, its own funnel through every step that saw its rows,
    and its share of each output split (the per-source counts add up to the splits)."""
    parts = inputs.parts
    if not parts:
        return ""
    rows = [
        [
            f"`{p['name']}`",
            f"`{p.get('schema')}`",
            f"{p.get('rows', 0):,}",
            f"{p.get('pool', 0):,}",
            f"{p.get('train', 0):,} ({100 * (p.get('share') or {}).get('train', 0):.1f}%)",
            f"{p.get('test', 0):,} ({100 * (p.get('share') or {}).get('test', 0):.1f}%)",
        ]
        for p in parts
    ]
    lines = [
        "## Sources",
        "",
        "Rows each source brought, how many passed every filter (its pool), and its rows and share of each "
        "split. Deduplication and decontamination ran over all sources at once; a duplicate cluster keeps "
        "the row of the source listed first.",
        "",
        _table(["source", "schema", "rows", "pool", "train", "test"], rows, numeric=range(2, 6)),
    ]
    steps = list(dict.fromkeys(step["filter"] for p in parts for step in p.get("funnel") or []))
    if steps:
        table = []
        for name in steps:
            row = [f"`{name}`"]
            for part in parts:
                step = next((s for s in part.get("funnel") or [] if s["filter"] == name), None)
                if step is None:
                    row.append("")
                    continue
                dropped = step["rows_in"] - step["rows_out"]
                row.append(f"{step['rows_out']:,}" + (f" (-{dropped:,})" if dropped else ""))
            table.append(row)
        lines += [
            "",
            "### Funnel by source",
            "",
            "Rows of each source left after each step (dropped in brackets); a blank: the step did not run on it.",
            "",
            _table(["step", *(f"`{p['name']}`" for p in parts)], table, numeric=range(1, 1 + len(parts))),
        ]
    return "\n".join(lines)


def _tokens(inputs: CardInputs) -> str:
    rows = []
    for split in inputs.splits:
        tokens = split.tokens
        if not tokens.size:
            continue
        rows.append(
            [split.name, f"{tokens.size:,}", f"{tokens.mean():,.0f}"]
            + [f"{_percentile(tokens, q):,}" for q in PERCENTILES]
            + [f"{int(tokens.max()):,}"]
        )
    if not rows:
        return ""
    return _table(
        ["split", "rows", "mean"] + [f"p{q}" for q in PERCENTILES] + ["max"], rows, numeric=range(1, 7)
    )


def _composition(inputs: CardInputs) -> list[tuple[str, str]]:
    shown = [s for s in inputs.splits if s.rows]
    tables = []
    for column, title in MIX_COLUMNS:
        counts = {
            s.name: Counter(v if v is not None else "(missing)" for v in s.columns.get(column, []))
            for s in shown
        }
        if not any(counts.values()):
            continue
        values = sorted(
            {v for c in counts.values() for v in c}, key=lambda v: (-sum(c[v] for c in counts.values()), v)
        )
        rows = []
        for value in values:
            row = [f"`{value}`"]
            for split in shown:
                n = counts[split.name][value]
                row.append(f"{n:,} ({100 * n / split.rows:.1f}%)")
            rows.append(row)
        tables.append(
            (title, _table([title.lower()] + [s.name for s in shown], rows, numeric=range(1, 1 + len(shown))))
        )
    return tables


def _decontamination(inputs: CardInputs) -> str:
    """The steps whose filter declares a contamination report, and those reports; empty when none ran."""
    decontam = inputs.output.steps_of_kind(CONTAMINATION)
    reports = {k: v for k, v in inputs.reports.items() if k in decontam}
    if not decontam:
        return ""
    lines = []
    funnel = {e.get("filter"): e for e in _filter_steps(inputs)}
    for name in decontam:
        entry = funnel.get(name) or {}
        dropped = entry.get("dropped") or {}
        copies = dropped.get("contaminated", sum(dropped.values()) - dropped.get("template_copy", 0))
        line = f"`{name}` removed {copies:,} rows that match benchmark problems"
        if "template_copy" in dropped:
            line += f" and {dropped['template_copy']:,} template copies (benchmark problems with other numbers)"
        lines.append(line + ".")
    for name, report in reports.items():
        file_name = report_file(name)
        lines += ["", _benchmark_report(report, file_name) or _report_body(report, file_name)]
        templates = _template_report(report, file_name)
        if templates:
            lines += ["", templates]
    if not reports:
        lines += ["", "The filter wrote no report."]
    return "\n".join(lines)


def _benchmark_report(report: Any, file_name: str) -> str | None:
    """The decontamination report (per benchmark: items checked and found, and each item found with the
    source rows copying it) as tables; None when the report does not have that shape."""
    per_benchmark = report.get("per_benchmark") if isinstance(report, dict) else None
    if not isinstance(per_benchmark, dict) or not all(isinstance(v, dict) for v in per_benchmark.values()):
        return None
    settings = report.get("settings") or {}
    checked = ", ".join(f"`{name}`" for name in per_benchmark)
    shown = (
        ", ".join(f"{key} {_cell(value)}" for key, value in settings.items())
        if isinstance(settings, dict)
        else ""
    )
    lines = [f"Checked against {checked}" + (f" ({shown})" if shown else "") + "."]
    lines += [
        "",
        _table(
            ["benchmark", "items", "items found", "rows removed"],
            [
                [f"`{name}`", _cell(b.get("items")), _cell(b.get("items_found")), _cell(b.get("rows"))]
                for name, b in per_benchmark.items()
            ],
            numeric=(1, 2, 3),
        ),
    ]
    found = [(name, item) for name, b in per_benchmark.items() for item in b.get("found") or []]
    if not found:
        return "\n".join([*lines, "", "No benchmark item was found in the source."])
    lines += [
        "",
        "Every benchmark item found, with the source rows that copy it (all of them removed):",
        "",
        _found_table(found, ["answer", "rows", "best score", "detectors", "uuids"], file_name),
    ]
    return "\n".join(lines)


def _found_table(found: list[tuple[str, dict[str, Any]]], columns: list[str], file_name: str) -> str:
    """Benchmark items found, one row each: benchmark, item, problem, then `columns` of the item's entry."""
    fields = {
        "answer": lambda item: _code(str(item.get("answer", ""))),
        "rows": lambda item: _cell(len(item.get("uuids") or [])),
        "best score": lambda item: _cell(item.get("best_score")),
        "detectors": lambda item: _cell(item.get("detectors")),
        "uuids": lambda item: _cell(item.get("uuids")),
    }
    rows = [
        [
            f"`{name}`",
            _cell(item.get("item_id")),
            _code(_shorten(str(item.get("problem", "")), 90)),
            *(fields[column](item) for column in columns),
        ]
        for name, item in found[:REPORT_ROWS]
    ]
    table = _table(["benchmark", "item", "problem", *columns], rows)
    if len(found) > REPORT_ROWS:
        table += f"\n\n{len(found) - REPORT_ROWS:,} more in `{file_name}`."
    return table


_TEMPLATE_ACTIONS = {
    "drop": "removed",
    "report": "kept in the data (the recipe says `template_copies: report`)",
    "keep": "not looked for (the recipe says `template_copies: keep`)",
}


def _template_report(report: Any, file_name: str) -> str | None:
    """The template-copy tier of the decontamination report: benchmark problems re-issued with other numbers,
    what the recipe did with them, and each benchmark item found with its rows."""
    section = report.get("template_copies") if isinstance(report, dict) else None
    if not isinstance(section, dict) or not isinstance(section.get("per_benchmark"), dict):
        return None
    action = str(section.get("action", "drop"))
    lines = [
        "### Template copies",
        "",
        "Rows that are a benchmark problem with only its numbers changed (same wording both ways, other "
        f"numbers): {_TEMPLATE_ACTIONS.get(action, action)}.",
    ]
    if action == "keep":
        return "\n".join(lines)
    found = [(name, item) for name, b in section["per_benchmark"].items() for item in b.get("found") or []]
    if not found:
        return "\n".join([*lines, "", "No template copy of a benchmark item was found in the source."])
    lines += [
        "",
        f"{_cell(section.get('rows'))} rows copy the template of {_cell(section.get('items_found'))} benchmark items:",
        "",
        _found_table(found, ["rows", "best score", "uuids"], file_name),
    ]
    return "\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _code(text: str) -> str:
    """Inline code, so LaTeX cut mid-formula shows as typed instead of half-rendered."""
    return "`" + text.replace("`", "'") + "`" if text else ""


def _other_reports(inputs: CardInputs) -> list[tuple[str, str]]:
    decontam = set(inputs.output.steps_of_kind(CONTAMINATION))
    return [(name, _report_body(report, report_file(name))) for name, report in inputs.reports.items() if name not in decontam]


def _report_body(report: Any, file_name: str) -> str:
    """A filter report as markdown: scalars as a list, lists of records and mappings of records as tables.
    Reports are free-form JSON (each filter decides its own), so this renders any shape it is given."""
    if not isinstance(report, dict):
        return _json_block(report)
    lines: list[str] = []
    for key, value in report.items():
        if _is_scalar(value):
            lines.append(f"- {key}: {_cell(value)}")
        elif _is_records(value):
            lines += ["", f"**{key}**", "", _records_table(value, file_name)]
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            records = [{"": k, **v} for k, v in value.items()]
            lines += ["", f"**{key}**", "", _records_table(records, file_name)]
        elif isinstance(value, dict) and value and all(_is_records(v) for v in value.values()):
            for sub, records in value.items():
                lines += ["", f"**{key}: {sub}**", "", _records_table(records, file_name)]
        elif isinstance(value, dict) and all(_is_scalar(v) for v in value.values()):
            lines.append(f"- {key}: " + (", ".join(f"{k}: {_cell(v)}" for k, v in value.items()) or "none"))
        else:
            lines.append(f"- {key}: {_cell(value)}")
    return "\n".join(lines).strip("\n")


def _records_table(records: list[dict[str, Any]], file_name: str) -> str:
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k not in columns]
    rows = [[_cell(record.get(c)) for c in columns] for record in records[:REPORT_ROWS]]
    table = _table(columns, rows)
    if len(records) > REPORT_ROWS:
        table += f"\n\n{len(records) - REPORT_ROWS:,} more in `{file_name}`."
    return table


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        shown = ", ".join(_cell(v) for v in value[:3])
        return shown + (f" (+{len(value) - 3:,} more)" if len(value) > 3 else "")
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "" if value is None else str(value)


def _json_block(value: Any) -> str:
    return "```json\n" + json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n```"


def _files(inputs: CardInputs) -> str:
    files = list(inputs.splits) + ([inputs.rejections] if inputs.rejections else [])
    return _table(
        ["file", "rows", "bytes", "sha256"],
        [[f"`{s.path.name}`", f"{s.rows:,}", f"{s.file_bytes:,}", f"`{s.sha256}`"] for s in files],
        numeric=(1, 2),
    )


def _citations(inputs: CardInputs) -> list[dict[str, str | None]]:
    """What the card cites: the recipe's own citation, the source dataset actually used (the embedded sample's
    real problems are OpenR1-Math-220k's), and the model the recipe names in `card.model`."""
    card = inputs.recipe.get("card") or {}
    cited: list[dict[str, str | None]] = []
    custom = (card.get("citation") or "").strip()
    if custom:
        cited.append({"intro": "This dataset:", "bibtex": custom})
    hub = [d for d in dict.fromkeys(source_dataset(o) for o in inputs.origins) if d is not None]
    for source in hub:
        link = f"[{source}](https://huggingface.co/datasets/{source})"
        known = CITATIONS.get(source)
        cited.append({"intro": f"The source, {link}" + (":" if known else ": see its dataset card."), "bibtex": known})
    if inputs.is_sample and SAMPLE_ORIGIN not in hub:
        link = f"[{SAMPLE_ORIGIN}](https://huggingface.co/datasets/{SAMPLE_ORIGIN})"
        cited.append({"intro": f"The real problems of the embedded sample come from {link}:", "bibtex": CITATIONS[SAMPLE_ORIGIN]})
    model = card.get("model")
    if model:
        link = f"[{model.rpartition('/')[2]}](https://huggingface.co/{model})"
        known = CITATIONS.get(model)
        cited.append({"intro": f"The model this set is made for, {link}" + (":" if known else "."), "bibtex": known})
    return cited


def _table(headers: list[str], rows: list[list[str]], numeric: Any = ()) -> str:
    numeric = set(numeric)
    align = ["---:" if i in numeric else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(_escape(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_escape(str(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
