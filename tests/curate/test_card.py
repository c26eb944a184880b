"""The data card written by `curate run` / `curate card`: Hub front matter checked with huggingface_hub's
and datasets' own parsers, content checked against the parquet files it describes, determinism, and
robustness to missing optional files."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import Features
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData
from huggingface_hub.repocard import metadata_load
from typer.testing import CliRunner

from curate import benchmarks
from curate.card import MODEL, MODEL_CITATION, OPENR1, OPENR1_CITATION, TOKEN_PLOT, size_category, write_card
from curate.cli import app
from curate.engine import run_recipe
from curate.errors import CurateError
from curate.recipe import load_recipe
from tests import openr1_rows as rows

CITATION = "@misc{curate-test-set, title = {A test set}, year = {2026}}"


def benchmark_copies() -> list[dict]:
    """Source rows that copy benchmark problems: one verbatim AIME 2025 item, one AMC 2023 item twice."""
    aime, amc = benchmarks.canonical("aime2025")[3], benchmarks.canonical("amc23")[3]
    copies = [(aime, "copy-aime-1"), (amc, "copy-amc-1"), (amc, "copy-amc-2")]
    return [
        rows.row(uuid, item.problem, item.answer, [rows.trace("Work.", item.answer)]) for item, uuid in copies
    ]


def corpus() -> list[dict]:
    data = rows.many(40) + benchmark_copies()
    data += rows.many(8, start=100, source="amc_aime", problem_type="Geometry")
    data += rows.many(6, start=200, source="aops_forum", question_type="MCQ", problem_type="Number Theory")
    data += rows.many(5, start=300, complete=[False, False])
    data += rows.many(3, start=400, finish=["length", "length"])
    return data


def write_recipe(root: Path, out: Path) -> Path:
    source = rows.write(root / "source.parquet", corpus())
    recipe = root / "recipe.yaml"
    recipe.write_text(
        f"""\
name: card-test
description: Long-think math rows for testing the card.
source: {{path: {source}}}
seed: 9
filters:
  - decontaminate: {{benchmarks: [aime2025, amc23]}}
  - is_reasoning_complete: {{}}
  - finish_reason: {{allowed: [stop]}}
sample: {{size: 40, test_size: 6}}
output: {{dir: {out}}}
card:
  pretty_name: Curate Card Test
  license: mit
  citation: "{CITATION}"
"""
    )
    return recipe


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("curated")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATE_CACHE", str(root / "cache"))
        mp.setenv("CURATE_PROGRESS", "0")
        return run_recipe(load_recipe(write_recipe(root, root / "out"))).out_dir


@pytest.fixture
def out(curated: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(curated, tmp_path / "out"))


def front_matter(card: Path) -> dict:
    text = card.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def section(card: Path, title: str) -> str:
    text = card.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_run_writes_the_card_and_plot(curated: Path) -> None:
    assert (curated / "README.md").is_file()
    png = (curated / TOKEN_PLOT).read_bytes()
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png


def test_front_matter_is_what_the_hub_understands(curated: Path) -> None:
    card_path = curated / "README.md"
    card = DatasetCard.load(card_path)
    data: DatasetCardData = card.data
    assert data.license == "mit" and data.language == ["en"]
    assert data.task_categories == ["text-generation"] and data.size_categories == ["n<1K"]
    assert data.pretty_name == "Curate Card Test" and "math" in data.tags
    assert metadata_load(card_path) == front_matter(card_path) == data.to_dict()
    # The configs point at the files of the folder, split by split.
    configs = {c["config_name"]: c for c in data.configs}
    assert configs["default"]["data_files"] == [
        {"split": "train", "path": "train.parquet"},
        {"split": "test", "path": "test.parquet"},
    ]
    assert configs["rejections"]["data_files"] == [{"split": "rejected", "path": "rejections.parquet"}]
    # dataset_info as the `datasets` library reads it: features equal the parquet schema, counts the rows.
    infos = DatasetInfosDict.from_dataset_card_data(data)
    default = infos["default"]
    assert default.features == Features.from_arrow_schema(pq.read_schema(curated / "train.parquet"))
    assert {n: s.num_examples for n, s in default.splits.items()} == {"train": 40, "test": 6}
    assert default.download_size == sum(
        (curated / f).stat().st_size for f in ("train.parquet", "test.parquet")
    )
    rejected = pq.read_table(curated / "rejections.parquet")
    assert infos["rejections"].splits["rejected"].num_examples == rejected.num_rows
    assert infos["rejections"].features == Features.from_arrow_schema(rejected.schema)


def test_card_describes_its_files(curated: Path) -> None:
    card = curated / "README.md"
    text = card.read_text()
    stats = json.loads((curated / "stats.json").read_text())
    assert text.split("---\n", 2)[2].startswith("\n# Curate Card Test\n")
    assert f"`card-test` (hash `{stats['recipe_sha256']}`)" in text
    assert "Of 65 source rows, 54 passed every filter and 46 were drawn into the splits." in text

    funnel = section(card, "Funnel")
    assert "| `decontaminate` | row | 65 | 62 | 3 | contaminated: 3 |" in funnel
    assert "| `is_reasoning_complete` | trace | 62 | 57 | 5 | incomplete: 5 |" in funnel
    assert "| `finish_reason` | trace | 57 | 54 | 3 |" in funnel
    assert "| `sample` | sample | 54 | 46 | 8 | not_sampled: 8 |" in funnel

    tokens = pq.read_table(curated / "train.parquet", columns=["num_tokens"])["num_tokens"].to_numpy()
    expected = [round(float(np.percentile(tokens, q))) for q in (50, 90, 99)] + [int(tokens.max())]
    assert f"| train | 40 | {tokens.mean():,.0f} | " + " | ".join(f"{v:,}" for v in expected) + " |" in text
    assert f"![Token length histogram]({TOKEN_PLOT})" in text

    train = pq.read_table(curated / "train.parquet", columns=["source"])["source"].to_pylist()
    amc = train.count("amc_aime")
    assert f"| `amc_aime` | {amc:,} ({100 * amc / 40:.1f}%) |" in section(card, "Composition")

    hashes = section(card, "Files, hashes and versions")
    for name in ("train.parquet", "test.parquet", "rejections.parquet"):
        digest = hashlib.sha256((curated / name).read_bytes()).hexdigest()
        assert f"| `{name}` | {pq.ParquetFile(curated / name).metadata.num_rows:,} | " in hashes
        assert f"`{digest}`" in hashes
    assert (curated / "recipe.lock.yaml").read_text().strip() in section(card, "Recipe")
    citations = section(card, "Citation")
    # A local source and no `card.model`: the recipe's own citation only.
    assert CITATION in citations and OPENR1_CITATION not in citations and MODEL_CITATION not in citations
    assert "Qwen3 tokenizer" in section(card, "Token lengths")


def edit_lock(out: Path, change: Callable[[dict], None]) -> None:
    lock = yaml.safe_load((out / "recipe.lock.yaml").read_text())
    change(lock)
    (out / "recipe.lock.yaml").write_text(yaml.safe_dump(lock, sort_keys=False))


def test_citations_follow_the_source_and_model_used(out: Path) -> None:
    stats = json.loads((out / "stats.json").read_text())
    stats["source"] = {"kind": "hub", "dataset": OPENR1, "config": "all", "split": "train", "revision": "main"}
    (out / "stats.json").write_text(json.dumps(stats))
    edit_lock(out, lambda lock: lock["card"].update(model=MODEL, citation=None))
    citations = section(write_card(out), "Citation")
    assert OPENR1_CITATION in citations and MODEL_CITATION in citations and CITATION not in citations
    assert f"[Qwen3-4B-SFT-Math](https://huggingface.co/{MODEL})" in citations

    stats["source"]["dataset"] = "someone/other-math"
    (out / "stats.json").write_text(json.dumps(stats))
    edit_lock(out, lambda lock: lock["card"].update(model="someone/model-x"))
    citations = section(write_card(out), "Citation")
    assert "@misc" not in citations
    assert "[someone/other-math](https://huggingface.co/datasets/someone/other-math): see its dataset card" in citations
    assert "[model-x](https://huggingface.co/someone/model-x)." in citations
    assert front_matter(out / "README.md")["source_datasets"] == ["someone/other-math"]


def test_the_card_names_the_tokenizer_the_recipe_counted_with(out: Path) -> None:
    edit_lock(
        out,
        lambda lock: lock["filters"].append(
            {"token_length": {"max_tokens": 9000, "min_tokens": 0, "tokenizer": "tok/tokenizer.json"}}
        ),
    )
    card = write_card(out)
    tokens = section(card, "Token lengths")
    assert "counted with the tokenizer `tok/tokenizer.json`" in tokens and "Qwen3" not in tokens
    assert "counted with the tokenizer `tok/tokenizer.json`" in section(card, "Use")
    assert "Every row has at most 9,000 tokens (`token_length`)" in section(card, "Use")


def test_card_and_plot_are_byte_identical_across_runs(tmp_path: Path) -> None:
    recipe = load_recipe(write_recipe(tmp_path, tmp_path / "out"))
    first = run_recipe(recipe).out_dir
    card, plot = (first / "README.md").read_bytes(), (first / TOKEN_PLOT).read_bytes()
    second = run_recipe(recipe, use_cache=False).out_dir  # different timings in stats.json
    assert (second / "README.md").read_bytes() == card and (second / TOKEN_PLOT).read_bytes() == plot
    write_card(second)
    assert (second / "README.md").read_bytes() == card and (second / TOKEN_PLOT).read_bytes() == plot


def test_decontamination_lists_the_benchmark_items_found(curated: Path) -> None:
    aime, amc = benchmarks.canonical("aime2025")[3], benchmarks.canonical("amc23")[3]
    decontam = section(curated / "README.md", "Decontamination")
    assert "`decontaminate` removed 3 rows that match benchmark problems." in decontam
    assert "| `aime2025` | 30 | 1 | 1 |" in decontam and "| `amc23` | 40 | 1 | 2 |" in decontam
    assert f"| `aime2025` | {aime.id} | `{aime.problem[:40]}" in decontam
    assert f"| `{amc.answer}` | 2 | 1 | exact | copy-amc-1, copy-amc-2 |" in decontam
    assert "ran no decontamination filter" not in decontam


def test_a_recipe_without_decontamination_is_flagged(out: Path) -> None:
    stats = json.loads((out / "stats.json").read_text())
    stats["funnel"] = [e for e in stats["funnel"] if e["filter"] != "decontaminate"]
    (out / "stats.json").write_text(json.dumps(stats))
    edit_lock(out, lambda lock: lock.update(filters=[f for f in lock["filters"] if "decontaminate" not in f]))
    (out / "decontaminate_report.json").unlink()
    decontam = section(write_card(out), "Decontamination")
    assert "> [!CAUTION]" in decontam and "ran no decontamination filter" in decontam


def test_report_of_unknown_shape_is_still_shown(out: Path) -> None:
    report = {
        "rows_dropped": 2,
        "clusters": [{"id": 7, "kept": "uuid-1", "dropped": ["uuid-2", "uuid-3", "uuid-4", "uuid-5"]}],
        "examples": {"near_duplicate": [{"uuid": "uuid-2", "score": 0.91}]},
    }
    (out / "minhash_dedup_report.json").write_text(json.dumps(report))
    reports = section(write_card(out), "Filter reports")
    assert "<details><summary><code>minhash_dedup</code></summary>" in reports
    assert "- rows_dropped: 2" in reports and "| id | kept | dropped |" in reports
    assert "| 7 | uuid-1 | uuid-2, uuid-3, uuid-4 (+1 more) |" in reports
    assert "**examples: near_duplicate**" in reports and "| uuid-2 | 0.91 |" in reports


def test_sample_source_is_flagged_prominently(out: Path) -> None:
    stats = json.loads((out / "stats.json").read_text())
    stats["source"] = {"kind": "sample", "rows": 3000, "seed": 0, "generator_version": 1}
    (out / "stats.json").write_text(json.dumps(stats))
    card = write_card(out)
    body = card.read_text().split("---\n", 2)[2]
    assert body.index("> [!WARNING]") < body.index("## How it was made")
    assert "not from a real dataset" in body and "3,000 synthetic OpenR1-shaped rows" in body
    meta = front_matter(card)
    assert "synthetic" in meta["tags"] and "source_datasets" not in meta


def test_missing_optional_files_still_give_a_card(out: Path) -> None:
    for name in ("test.parquet", "rejections.parquet", "recipe.lock.yaml"):
        (out / name).unlink()
    card = write_card(out)
    meta = front_matter(card)
    assert [c["config_name"] for c in meta["configs"]] == ["default"]
    assert meta["configs"][0]["data_files"] == [{"split": "train", "path": "train.parquet"}]
    assert meta["pretty_name"] == "card-test" and meta["license"] == "apache-2.0"
    assert "recipe.lock.yaml is missing" in section(card, "Recipe")
    assert DatasetCard.load(card).data.dataset_info[0]["splits"] == [
        {"name": "train", "num_bytes": meta["dataset_info"][0]["splits"][0]["num_bytes"], "num_examples": 40}
    ]


def test_not_an_output_folder_is_one_clear_error(out: Path, tmp_path: Path) -> None:
    (out / "train.parquet").unlink()
    with pytest.raises(CurateError, match=r"no train\.parquet here"):
        write_card(out)
    with pytest.raises(CurateError, match=r"no stats\.json here"):
        write_card(tmp_path / "nowhere")
    (out / "stats.json").write_text("{not json")
    with pytest.raises(CurateError, match=r"stats\.json is not valid JSON"):
        write_card(out)


def test_card_command(out: Path) -> None:
    (out / "README.md").unlink()
    (out / TOKEN_PLOT).unlink()
    result = CliRunner().invoke(app, ["card", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{out / 'README.md'} and {out / TOKEN_PLOT}"
    assert DatasetCard.load(out / "README.md").data.pretty_name == "Curate Card Test"


@pytest.mark.parametrize(
    ("rows_", "bucket"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1000, "1K<n<10K"),
        (45_200, "10K<n<100K"),
        (90_200, "10K<n<100K"),
        (225_129, "100K<n<1M"),
    ],
)
def test_size_categories(rows_: int, bucket: str) -> None:
    assert size_category(rows_) == bucket
