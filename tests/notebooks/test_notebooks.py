"""Every notebook in notebooks/ runs top to bottom against a real `curate run` output, so none can rot."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from curate.engine import run_recipe
from curate.recipe import load_recipe

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
RECIPE = """\
name: notebook-check
description: The embedded sample through decontamination and the trace filters, for the notebook tests.
source: {{sample: true, rows: 300}}
seed: 20260515
filters:
  - decontaminate: {{}}
  - is_reasoning_complete: {{}}
  - finish_reason: {{allowed: [stop]}}
  - think_format: {{max_chars: 60000}}
  - token_length: {{max_tokens: 16384}}
sample: {{size: 150, test_size: 20, allow_smaller: true}}
output: {{dir: {out}}}
"""


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("notebook-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATE_CACHE", str(root / "cache"))
        mp.setenv("CURATE_PROGRESS", "0")
        recipe = root / "recipe.yaml"
        recipe.write_text(RECIPE.format(out=root / "out"))
        return run_recipe(load_recipe(recipe)).out_dir


@pytest.fixture(scope="module")
def executed(curated: Path) -> dict[str, nbformat.NotebookNode]:
    """Each notebook run once as Jupyter would, in its own folder, with CURATE_OUTPUT naming the output."""
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATE_OUTPUT", str(curated))
        for path in NOTEBOOKS:
            notebook = nbformat.read(path, as_version=4)
            client = NotebookClient(
                notebook,
                timeout=120,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            )
            client.execute()
            runs[path.name] = notebook
    return runs


def outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def text_of(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for output in outputs(notebook):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_the_notebooks_folder_has_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] and "explore_output.ipynb" in [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_clean(path: Path) -> None:
    """Committed without outputs or execution counts, so diffs show code changes only."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path, executed: dict[str, nbformat.NotebookNode]) -> None:
    notebook = executed[path.name]
    assert not [o for o in outputs(notebook) if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs(notebook))


@pytest.mark.slow
def test_explore_output_shows_the_run(executed: dict[str, nbformat.NotebookNode], curated: Path) -> None:
    notebook = executed["explore_output.ipynb"]
    text = text_of(notebook)
    plots = [o for o in outputs(notebook) if "image/png" in o.get("data", {})]
    assert len(plots) >= 4  # funnel, drops by reason, token lengths, mix
    assert "recipe      notebook-check" in text and "embedded offline sample" in text
    assert "think_format" in text and "token_length" in text  # the funnel and the drops tables
    # The sample plants benchmark copies: the decontamination section shows them, by benchmark and item.
    report = json.loads((curated / "decontaminate_report.json").read_text())
    found = [(b, i["item_id"]) for b, e in report["per_benchmark"].items() for i in e["found"]]
    assert found and f"decontaminate_report.json: {len(found)} benchmark items found" in text
    assert all(item in text for _, item in found)
