"""Recipe validation: every mistake is one error naming file and line, found before any data is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.recipe import load_recipe, parse_recipe, parse_source_override

BASE = """\
name: demo
source:
  path: data.parquet
seed: 7
filters:
  - source: {exclude: [cn_k12]}
  - question_type:
      include: [math-word-problem]
  - is_reasoning_complete: {}
sample:
  size: 100
  test_size: 10
output:
  dir: out/demo
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(text: str, name: str = "r.yaml") -> str:
    with pytest.raises(CurateError) as info:
        parse_recipe(text, name)
    return str(info.value)


def test_valid_recipe_resolves_defaults() -> None:
    recipe = parse_recipe(BASE)
    assert [s.name for s in recipe.steps] == ["source", "question_type", "is_reasoning_complete"]
    resolved = recipe.resolved()
    assert resolved["select"] == {"strategy": "shortest"}
    assert resolved["filters"][1] == {"question_type": {"include": ["math-word-problem"], "exclude": []}}
    assert resolved["sample"]["size"] == 100


def test_unknown_filter_names_line_and_closest_name() -> None:
    message = error_of(BASE.replace("- is_reasoning_complete: {}", "- is_reasoning_complet: {}"))
    assert message.startswith("r.yaml:9: unknown filter 'is_reasoning_complet'")
    assert "did you mean 'is_reasoning_complete'?" in message


def test_unknown_parameter_names_its_line_and_closest_key() -> None:
    message = error_of(BASE.replace("include: [math-word-problem]", "inclde: [math-word-problem]"))
    assert message.startswith("r.yaml:8: unknown key 'filters.1.question_type.inclde'")
    assert "did you mean 'include'?" in message


def test_wrong_type_names_line() -> None:
    message = error_of(BASE.replace("size: 100", "size: lots"))
    assert message.startswith("r.yaml:11: sample.size:")
    assert "integer" in message


def test_unknown_top_level_key_suggests() -> None:
    message = error_of(BASE.replace("seed: 7", "sed: 7"))
    assert message.startswith("r.yaml:4: unknown key 'sed'") and "'seed'" in message


def test_missing_required_key() -> None:
    message = error_of(BASE.replace("output:\n  dir: out/demo\n", ""))
    assert "missing required key 'output'" in message


def test_source_needs_exactly_one_kind() -> None:
    message = error_of(BASE.replace("  path: data.parquet", "  path: data.parquet\n  sample: true"))
    assert message.startswith("r.yaml:2: source:") and "exactly one" in message


def test_invalid_yaml_names_line() -> None:
    message = error_of(BASE.replace("seed: 7", "seed: [7"))
    assert message.startswith("r.yaml:") and "invalid YAML" in message


def test_duplicate_key_is_an_error() -> None:
    message = error_of(BASE.replace("seed: 7", "seed: 7\nseed: 8"))
    assert "r.yaml:5: key 'seed' appears twice" in message


def test_row_filter_after_trace_filter_is_rejected() -> None:
    text = BASE.replace("  - is_reasoning_complete: {}\n", "").replace(
        "  - source: {exclude: [cn_k12]}", "  - is_reasoning_complete: {}\n  - source: {exclude: [cn_k12]}"
    )
    assert "row filter 'source' comes after a trace filter" in error_of(text)


def test_membership_filter_needs_a_list() -> None:
    assert "give `include` or `exclude`" in error_of(BASE.replace("{exclude: [cn_k12]}", "{}"))


def test_extends_merges_and_keeps_positions(tmp_path: Path) -> None:
    write(tmp_path, "base.yaml", BASE)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: bigger\nsample:\n  size: 200\n")
    recipe = load_recipe(child)
    assert recipe.name == "bigger"
    assert recipe.model.sample is not None
    assert recipe.model.sample.size == 200 and recipe.model.sample.test_size == 10  # merged, not replaced
    assert [s.name for s in recipe.steps] == ["source", "question_type", "is_reasoning_complete"]
    bad = write(tmp_path, "bad.yaml", "extends: base.yaml\nsample:\n  size: -3\n")
    with pytest.raises(CurateError, match=r"bad.yaml:3: sample.size"):
        load_recipe(bad)
    inherited = write(tmp_path, "typo.yaml", "extends: base.yaml\nname: x\n")
    write(tmp_path, "base.yaml", BASE.replace("seed: 7", "seed: x"))
    with pytest.raises(CurateError, match=r"base.yaml:4: seed"):
        load_recipe(inherited)


def test_a_child_source_replaces_the_parents_whole(tmp_path: Path) -> None:
    write(tmp_path, "hub.yaml", BASE.replace("  path: data.parquet", "  dataset: open-r1/OpenR1-Math-220k\n  config: all"))
    child = load_recipe(write(tmp_path, "local.yaml", "extends: hub.yaml\nsource: {path: mine.parquet}\n"))
    source = child.model.source
    assert (source.kind, source.path, source.dataset, source.config) == ("path", "mine.parquet", None, "default")
    sample = load_recipe(write(tmp_path, "sample.yaml", "extends: local.yaml\nsource:\n  sample: true\n  rows: 50\n"))
    assert (sample.model.source.kind, sample.model.source.rows) == ("sample", 50)
    # Other sections still merge key by key.
    assert sample.model.sample is not None and sample.model.sample.size == 100
    bad = write(tmp_path, "bad.yaml", "extends: hub.yaml\nsource:\n  path: a.parquet\n  sample: true\n")
    with pytest.raises(CurateError, match=r"bad.yaml:2: source: set exactly one of"):
        load_recipe(bad)


def test_extends_cycle_and_missing_parent(tmp_path: Path) -> None:
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(CurateError, match="cycle"):
        load_recipe(a)
    lonely = write(tmp_path, "c.yaml", "extends: nowhere.yaml\nname: c\n")
    with pytest.raises(CurateError, match=r"c.yaml:1: `extends` names nowhere.yaml"):
        load_recipe(lonely)


def test_missing_recipe_file(tmp_path: Path) -> None:
    with pytest.raises(CurateError, match="file not found"):
        load_recipe(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("sample", "sample", 3000),
        ("sample:500", "sample", 500),
        ("open-r1/OpenR1-Math-220k:all@abc123", "hub", ("open-r1/OpenR1-Math-220k", "all", "abc123")),
        ("./shards/*.parquet", "path", "./shards/*.parquet"),
    ],
)
def test_source_override_forms(text: str, kind: str, value: object) -> None:
    spec = parse_source_override(text)
    assert spec.kind == kind
    if kind == "sample":
        assert spec.rows == value
    elif kind == "hub":
        assert (spec.dataset, spec.config, spec.revision) == value
    else:
        assert spec.path == value


def test_source_override_rejects_nonsense() -> None:
    with pytest.raises(CurateError, match="not a file, a glob"):
        parse_source_override("no-such-thing")


def test_a_lock_file_is_a_runnable_recipe_pinned_to_its_commit(tmp_path: Path) -> None:
    lock = write(
        tmp_path,
        "recipe.lock.yaml",
        BASE.replace("  path: data.parquet", "  dataset: open-r1/OpenR1-Math-220k\n  revision: main")
        + "lock:\n  source: {kind: hub, commit: 0123abcd}\n  curate: 0.1.0\n",
    )
    recipe = load_recipe(lock)
    assert recipe.model.source.revision == "0123abcd"
    assert "lock" not in recipe.resolved()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("seed: 7", "seed: true", "seed: expected a number, got true"),
        ("size: 100", "size: false", "sample.size: expected a number, got false"),
        (
            "  test_size: 10",
            "  test_size: 10\n  weights: {olympiads: yes}",
            "olympiads: expected a number, got true",
        ),
        ("  - is_reasoning_complete: {}", "  - token_length: {max_tokens: true}", "max_tokens"),
    ],
)
def test_yaml_booleans_are_refused_where_numbers_belong(old: str, new: str, message: str) -> None:
    assert message in error_of(BASE.replace(old, new))


@pytest.mark.parametrize(
    ("template", "ok"),
    [
        ("{problem}", True),
        (
            "Problem: {problem}\nPut the answer in \\\\boxed{answer}; \\\\frac{a}{b} and x^{n} are LaTeX.",
            True,
        ),
        ("{problem} {answer}", False),
        ("Q ({source}): {problem}", False),
        ("{problem}{ foo }", True),
    ],
)
def test_user_template_placeholders(template: str, ok: bool) -> None:
    text = BASE + f'format: {{user_template: "{template}"}}\n'
    if ok:
        assert parse_recipe(text).model.format.user_template
    else:
        assert "unknown placeholder" in error_of(text)


@pytest.mark.parametrize("text", ["sample:0", "sample:9", "sample:1000001", "sample:x"])
def test_sample_sizes_outside_the_bounds(text: str) -> None:
    with pytest.raises(CurateError, match=text):
        parse_source_override(text)


def test_a_path_that_does_not_exist_is_still_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    for text in ("data/missing.parquet", "data/x", "x.jsonl", "~/x"):
        assert parse_source_override(text).kind == "path"
    assert parse_source_override("open-r1/OpenR1-Math-220k").kind == "hub"


def test_filter_references_are_checked_relative_to_the_recipe(tmp_path: Path) -> None:
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "mine.jsonl").write_text('{"problem": "1+1?"}\n')
    recipe = BASE.replace("  - is_reasoning_complete: {}", "  - decontaminate: {files: [evals/mine.jsonl]}")
    assert load_recipe(write(tmp_path, "r.yaml", recipe)).steps[-1].name == "decontaminate"
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    with pytest.raises(CurateError, match=r"r.yaml:9: decontaminate: .*mine.jsonl: file not found"):
        load_recipe(write(elsewhere, "r.yaml", recipe))


def test_a_lock_section_of_the_wrong_shape_is_ignored() -> None:
    assert parse_recipe(BASE + "lock: {source: 5}\n").model.source.path == "data.parquet"
