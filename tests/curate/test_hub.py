"""`curate push` through the real huggingface_hub client against the local Hub stand-in: what arrives on
the server (files, one commit and its message, visibility, branch, auth header) and the one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.hub import normalize_repo_id, plan_push, push
from curate.recipe import load_recipe
from tests import openr1_rows as rows
from tests.hubserver import HubServer, User, point_client_at, set_offline

WRITE = "hf_alice_write_token"
READ_ONLY = "hf_alice_read_token"
OTHER = "hf_bob_write_token"
USERS = {WRITE: User("alice", orgs=("acme",)), READ_ONLY: User("alice", write=False), OTHER: User("bob")}
UPLOADED = [
    "README.md",
    "num_tokens.png",
    "recipe.lock.yaml",
    "rejections.parquet",
    "stats.json",
    "test.parquet",
    "train.parquet",
]


@pytest.fixture(scope="module")
def curated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real `curate run` output (with a `hub:` section in its recipe), shared read-only by the tests."""
    root = tmp_path_factory.mktemp("curated")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CURATE_CACHE", str(root / "cache"))
        mp.setenv("CURATE_PROGRESS", "0")
        data = rows.many(30) + rows.many(6, start=100, complete=[False, False])
        source = rows.write(root / "source.parquet", data)
        recipe = root / "recipe.yaml"
        recipe.write_text(
            f"name: push-test\nsource: {{path: {source}}}\nseed: 5\nfilters:\n  - is_reasoning_complete: {{}}\n"
            f"sample: {{size: 20, test_size: 4}}\noutput: {{dir: {root / 'out'}}}\n"
            "hub: {repo_id: acme/from-recipe, private: true}\n"
        )
        return run_recipe(load_recipe(recipe)).out_dir


@pytest.fixture
def out(curated: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(curated, tmp_path / "out"))


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    with HubServer(USERS) as server:
        point_client_at(monkeypatch, server.url, tmp_path / "hf-home")
        yield server


def api_calls(hub: HubServer) -> list:
    return [r for r in hub.requests if "agent-harnesses" not in r.path]


def test_push_uploads_everything_in_one_commit(
    hub: HubServer, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", WRITE)
    stats = json.loads((out / "stats.json").read_text())
    result = push(plan_push(out, "alice/openr1-test", private=False))
    repo = hub.repo("dataset", "alice/openr1-test")
    assert not repo.private and list(repo.branches) == ["main"]
    commit = hub.head("dataset", "alice/openr1-test")
    assert result.changed and result.commit_oid == commit.oid
    assert commit.title == f"curate: push-test (recipe {stats['recipe_sha256']})"
    assert "Rows: train 20, test 4" in commit.description
    # One commit on top of the repo's initial one, holding exactly the output's files, byte for byte.
    assert hub.repo("dataset", "alice/openr1-test").commits[commit.parent].title == "initial commit"
    files = hub.files("dataset", "alice/openr1-test")
    assert sorted(set(files) - {".gitattributes"}) == UPLOADED
    assert all(files[name] == (out / name).read_bytes() for name in UPLOADED)
    assert [r.path for r in hub.requests_to("/commit/", "POST")] == [
        "/api/datasets/alice/openr1-test/commit/main"
    ]
    # The card went through the Hub's metadata validation, and every call carried the token as bearer.
    validated = hub.requests_to("/api/validate-yaml")
    assert len(validated) == 1
    assert all(r.headers.get("authorization") == f"Bearer {WRITE}" for r in api_calls(hub))

    again = push(plan_push(out, "alice/openr1-test", private=False))
    assert not again.changed and again.commit_oid == commit.oid
    assert len(hub.repo("dataset", "alice/openr1-test").commits) == 2


def test_private_push_to_a_new_branch(hub: HubServer, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", WRITE)
    push(plan_push(out, "acme/openr1-test", private=True, revision="v1-45k"))
    repo = hub.repo("dataset", "acme/openr1-test")
    assert repo.private and set(repo.branches) == {"main", "v1-45k"}
    assert set(hub.files("dataset", "acme/openr1-test", "main")) == {".gitattributes"}
    assert sorted(set(hub.files("dataset", "acme/openr1-test", "v1-45k")) - {".gitattributes"}) == UPLOADED
    # A changed card on an existing branch: one more commit, and only the changed file is sent.
    (out / "README.md").write_text((out / "README.md").read_text() + "\nEdited by hand.\n")
    push(plan_push(out, "acme/openr1-test", revision="v1-45k"))
    commit = hub.head("dataset", "acme/openr1-test", "v1-45k")
    assert hub.files("dataset", "acme/openr1-test", "v1-45k")["README.md"].endswith(b"Edited by hand.\n")
    sent = [json.loads(line) for line in hub.requests_to("/commit/v1-45k", "POST")[-1].body.splitlines()]
    assert [op["value"]["path"] for op in sent if op["key"] != "header"] == ["README.md"]
    assert commit.title == sent[0]["value"]["summary"] and commit.title.startswith("curate: push-test")


def test_private_flag_does_not_change_an_existing_public_repo(
    hub: HubServer, out: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hub.seed("dataset", "alice/public", {"notes.txt": b"kept"})
    monkeypatch.setenv("HF_TOKEN", WRITE)
    with caplog.at_level("WARNING", logger="curate"):
        push(plan_push(out, "alice/public", private=True))
    assert not hub.repo("dataset", "alice/public").private
    assert "alice/public already exists and is public" in caplog.text
    assert hub.files("dataset", "alice/public")["notes.txt"] == b"kept"


def test_recipe_hub_section_gives_the_defaults(
    hub: HubServer, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = plan_push(out)
    assert (plan.repo_id, plan.private, plan.revision) == ("acme/from-recipe", True, "main")
    assert plan_push(out, "alice/other", private=False).private is False
    monkeypatch.setenv("HF_TOKEN", WRITE)
    push(plan)
    assert hub.repo("dataset", "acme/from-recipe").private


def test_token_from_the_huggingface_login(hub: HubServer, out: Path, tmp_path: Path) -> None:
    (tmp_path / "hf-home").mkdir(exist_ok=True)
    (tmp_path / "hf-home" / "token").write_text(WRITE)
    push(plan_push(out, "alice/from-login"))
    assert hub.requests_to("/api/repos/create")[0].headers["authorization"] == f"Bearer {WRITE}"


def test_no_token_is_one_error_before_any_request(hub: HubServer, out: Path) -> None:
    with pytest.raises(CurateError, match=r"no Hugging Face token.*HF_TOKEN"):
        push(plan_push(out, "alice/x"))
    assert not api_calls(hub)


@pytest.mark.parametrize(
    ("token", "repo_id", "expected"),
    [
        ("hf_not_a_token", "alice/x", r"the Hub rejected the token \(401 Unauthorized\)"),
        (OTHER, "acme/x", r"the token may not write to dataset repo 'acme/x' \(403 Forbidden\)"),
        (READ_ONLY, "alice/x", r"the token may not write to dataset repo 'alice/x' \(403 Forbidden\)"),
        (
            OTHER,
            "alice/existing",
            r"the token may not write to dataset repo 'alice/existing' \(403 Forbidden\)",
        ),
    ],
)
def test_refusals_are_one_clear_line(
    hub: HubServer, out: Path, monkeypatch: pytest.MonkeyPatch, token: str, repo_id: str, expected: str
) -> None:
    hub.seed("dataset", "alice/existing", {"README.md": b"---\nlicense: mit\n---\n"})
    monkeypatch.setenv("HF_TOKEN", token)
    with pytest.raises(CurateError, match=expected) as caught:
        push(plan_push(out, repo_id))
    assert "\n" not in str(caught.value) and token not in str(caught.value)
    assert set(hub.repos) == {("dataset", "alice/existing")}
    assert len(hub.repo("dataset", "alice/existing").commits) == 2


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("alice/ds", "alice/ds"),
        ("datasets/alice/ds", "alice/ds"),
        ("https://huggingface.co/datasets/alice/ds", "alice/ds"),
        ("https://huggingface.co/datasets/alice/ds/tree/main", "alice/ds"),
    ],
)
def test_dataset_repo_ids_are_normalised(given: str, expected: str) -> None:
    assert normalize_repo_id(given) == expected


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("models/alice/sft", "model"),
        ("https://huggingface.co/alice/sft", "model"),
        ("spaces/alice/demo", "space"),
        ("https://huggingface.co/spaces/alice/demo", "space"),
    ],
)
def test_model_or_space_repo_ids_are_a_type_clash(given: str, kind: str) -> None:
    with pytest.raises(CurateError, match=f"addressed as a {kind} repo, but curate pushes datasets"):
        normalize_repo_id(given)


@pytest.mark.parametrize("given", ["alice", "alice/ds/extra", "alice/bad name", "-alice/ds", "alice/a--b"])
def test_malformed_repo_ids(given: str) -> None:
    with pytest.raises(CurateError, match="invalid repo id"):
        normalize_repo_id(given)


def test_unreachable_hub_and_offline_mode(out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    point_client_at(monkeypatch, dead, tmp_path / "hf-home")
    monkeypatch.setenv("HF_TOKEN", WRITE)
    with pytest.raises(CurateError, match=f"cannot reach the Hugging Face Hub at {dead}"):
        push(plan_push(out, "alice/x"))
    set_offline(monkeypatch)
    with pytest.raises(CurateError, match="HF_HUB_OFFLINE is set"):
        push(plan_push(out, "alice/x"))


def test_card_with_invalid_metadata_is_refused_before_upload(
    hub: HubServer, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", WRITE)
    card = (out / "README.md").read_text()
    (out / "README.md").write_text(card.replace("license: apache-2.0", "license: [apache-2.0", 1))
    with pytest.raises(CurateError, match=r"rejected the card.s metadata: Invalid metadata in README\.md"):
        push(plan_push(out, "alice/x"))
    assert not hub.requests_to("/preupload/") and not hub.requests_to("/commit/")


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *args], env={**os.environ, **env}, capture_output=True, text=True
    )


def test_cli_push_and_dry_run_never_print_the_token(hub: HubServer, out: Path) -> None:
    dry = run_cli(
        "push", str(out), "--repo-id", "alice/cli", "--public", "--dry-run", env={"HF_TOKEN": WRITE}
    )
    assert dry.returncode == 0, dry.stderr
    assert "dry run, nothing uploaded: datasets/alice/cli@main (public if created)" in dry.stdout
    for name in UPLOADED:
        size = (out / name).stat().st_size
        assert any(line.split()[:2] == [name, f"{size:,}"] for line in dry.stdout.splitlines()), name
    assert not api_calls(hub)

    done = run_cli(
        "-v", "push", str(out), "--repo-id", "alice/cli", "--revision", "dev", env={"HF_TOKEN": WRITE}
    )
    assert done.returncode == 0, done.stderr
    assert f"pushed {len(UPLOADED)} files" in done.stdout
    assert hub.head("dataset", "alice/cli", "dev").oid in done.stdout
    assert WRITE not in done.stdout + done.stderr

    refused = run_cli("push", str(out), "--repo-id", "acme/cli", env={"HF_TOKEN": OTHER})
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert refused.stderr.startswith("curate: error: the token may not write") and OTHER not in refused.stderr
