"""The Hub source (curate/source.py) against the local Hub stand-in, through the real huggingface_hub client:
config/split file selection from the dataset card, commit pinning, tokens, the cache and offline mode."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from curate.engine import run_recipe
from curate.errors import CurateError
from curate.recipe import SourceSpec, load_recipe
from curate.source import resolve_source
from tests import openr1_rows as rows
from tests.hubserver import HubServer, User, point_client_at, set_offline

REPO = "acme/openr1-mini"
TOKEN = "hf_test_read_write_token"
CARD = """\
---
license: apache-2.0
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*
- config_name: extended
  data_files:
  - split: train
    path: extended/train-*
---
# OpenR1-shaped test dataset
"""


def shard(tmp_path: Path, name: str, data: list[dict]) -> bytes:
    return rows.write(tmp_path / name, data).read_bytes()


def dataset_files(tmp_path: Path, offset: int = 0) -> dict[str, bytes]:
    """Two `default` shards and one `extended` shard, with disjoint uuids, as OpenR1-Math-220k lays them out."""
    return {
        "README.md": CARD.encode(),
        "data/train-00000-of-00002.parquet": shard(tmp_path, "a.parquet", rows.many(12, start=offset)),
        "data/train-00001-of-00002.parquet": shard(tmp_path, "b.parquet", rows.many(12, start=offset + 100)),
        "extended/train-00000-of-00001.parquet": shard(
            tmp_path, "c.parquet", rows.many(7, start=offset + 500)
        ),
    }


def uuids(files: list[Path]) -> set[str]:
    return {u for f in files for u in pq.read_table(f, columns=["uuid"])["uuid"].to_pylist()}


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HubServer:
    with HubServer({TOKEN: User("alice", orgs=("acme",))}) as server:
        point_client_at(monkeypatch, server.url, tmp_path / "hf-home")
        yield server


def dead_endpoint() -> str:
    """An address where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_downloads_only_the_configs_shards_pinned_to_one_commit(hub: HubServer, tmp_path: Path) -> None:
    head = hub.seed("dataset", REPO, dataset_files(tmp_path))
    source = resolve_source(SourceSpec(dataset=REPO))
    assert [f.name for f in source.files] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    assert uuids(source.files) == {f"uuid-{i:05d}" for i in [*range(12), *range(100, 112)]}
    assert source.provenance["commit"] == head and source.provenance["config"] == "default"
    # Every shard is fetched at the resolved commit, never at the moving branch name.
    shard_requests = hub.requests_to("/resolve/", "HEAD") + hub.requests_to("/resolve/", "GET")
    assert {r.path.split("/resolve/")[1].split("/")[0] for r in shard_requests if ".parquet" in r.path} == {
        head
    }
    assert not [r for r in hub.requests_to("extended/")]
    # Parquet shards are LFS files: the client follows the Hub's redirect to the CDN host and drops the token.
    cdn = hub.requests_to("/cdn-lfs/", "GET")
    assert len(cdn) == 2 and all(r.host.startswith("localhost:") for r in cdn)

    extended = resolve_source(SourceSpec(dataset=REPO, config="extended"))
    assert uuids(extended.files) == {f"uuid-{i:05d}" for i in range(500, 507)}


def test_revision_pins_an_older_commit(hub: HubServer, tmp_path: Path) -> None:
    old = hub.seed("dataset", REPO, dataset_files(tmp_path))
    new = hub.seed("dataset", REPO, dataset_files(tmp_path, offset=1000), message="refresh")
    assert old != new
    pinned = resolve_source(SourceSpec(dataset=REPO, revision=old))
    latest = resolve_source(SourceSpec(dataset=REPO))
    assert pinned.provenance["commit"] == old and latest.provenance["commit"] == new
    assert min(uuids(pinned.files)) == "uuid-00000" and min(uuids(latest.files)) == "uuid-01000"
    assert pinned.fingerprint != latest.fingerprint


def test_end_to_end_run_records_the_commit(hub: HubServer, tmp_path: Path) -> None:
    head = hub.seed("dataset", REPO, dataset_files(tmp_path))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: hub-run\nsource: {{dataset: {REPO}}}\nseed: 1\nfilters:\n  - is_reasoning_complete: {{}}\n"
        f"sample: {{size: 20, test_size: 4}}\noutput: {{dir: {tmp_path / 'out'}}}\n"
    )
    result = run_recipe(load_recipe(recipe))
    stats = json.loads((result.out_dir / "stats.json").read_text())
    assert stats["source"] == {
        "kind": "hub",
        "dataset": REPO,
        "config": "default",
        "split": "train",
        "revision": "main",
        "commit": head,
    }
    assert stats["rows"]["source"] == 24
    card = (result.out_dir / "README.md").read_text()
    assert f"commit `{head}`" in card
    assert yaml.safe_load(card.split("---\n", 2)[1])["source_datasets"] == [REPO]


def test_private_dataset_needs_the_token_and_gets_it_as_bearer(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.seed("dataset", REPO, dataset_files(tmp_path), private=True)
    with pytest.raises(CurateError, match=r"not found or not accessible.*HF_TOKEN"):
        resolve_source(SourceSpec(dataset=REPO))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    source = resolve_source(SourceSpec(dataset=REPO))
    assert len(source.files) == 2
    hub_calls = [
        r for r in hub.requests if r.host.startswith("127.0.0.1") and "agent-harnesses" not in r.path
    ]
    authorized = [r for r in hub_calls if r.headers.get("authorization") == f"Bearer {TOKEN}"]
    assert authorized and len(authorized) >= len(hub_calls) - 2  # the first, refused attempt went without
    assert all("authorization" not in r.headers for r in hub.requests_to("/cdn-lfs/"))


def test_offline_mode_uses_the_cache_without_any_request(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = hub.seed("dataset", REPO, dataset_files(tmp_path))
    online = resolve_source(SourceSpec(dataset=REPO))
    hub.seed("dataset", REPO, dataset_files(tmp_path, offset=1000), message="moved on")
    set_offline(monkeypatch)
    before = len(hub.requests)
    offline = resolve_source(SourceSpec(dataset=REPO))
    assert len(hub.requests) == before
    assert offline.provenance["commit"] == head and offline.fingerprint == online.fingerprint
    assert offline.files == online.files
    with pytest.raises(CurateError, match="not fully in the local cache and the Hub is offline"):
        resolve_source(SourceSpec(dataset=REPO, config="extended"))


def test_offline_notices_a_missing_shard(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.seed("dataset", REPO, dataset_files(tmp_path))
    online = resolve_source(SourceSpec(dataset=REPO))
    online.files[1].unlink()  # an interrupted download or a pruned cache
    set_offline(monkeypatch)
    with pytest.raises(CurateError, match="not fully in the local cache"):
        resolve_source(SourceSpec(dataset=REPO))


def test_offline_with_an_empty_cache_is_one_clear_error(
    hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_offline(monkeypatch)
    with pytest.raises(CurateError) as caught:
        resolve_source(SourceSpec(dataset=REPO))
    message = str(caught.value)
    assert "\n" not in message and "HF_HUB_OFFLINE" in message and "--source sample" in message


def test_unreachable_hub_without_cache_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = dead_endpoint()
    point_client_at(monkeypatch, endpoint, tmp_path / "hf-home")
    with pytest.raises(CurateError) as caught:
        resolve_source(SourceSpec(dataset=REPO))
    message = str(caught.value)
    assert "\n" not in message and f"the Hub at {endpoint} cannot be reached" in message


def test_unreachable_hub_falls_back_to_the_cache(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = hub.seed("dataset", REPO, dataset_files(tmp_path))
    online = resolve_source(SourceSpec(dataset=REPO))
    point_client_at(monkeypatch, dead_endpoint(), tmp_path / "hf-home")
    fallback = resolve_source(SourceSpec(dataset=REPO))
    assert fallback.provenance["commit"] == head and fallback.files == online.files


def test_missing_repo_and_missing_revision(hub: HubServer, tmp_path: Path) -> None:
    hub.seed("dataset", REPO, dataset_files(tmp_path))
    with pytest.raises(CurateError, match="'acme/nope' not found"):
        resolve_source(SourceSpec(dataset="acme/nope"))
    with pytest.raises(CurateError, match="has no revision 'v9'"):
        resolve_source(SourceSpec(dataset=REPO, revision="v9"))
    with pytest.raises(CurateError, match="no files for config 'other'"):
        resolve_source(SourceSpec(dataset=REPO, config="other"))


def test_cli_reads_the_hub_environment_variables(hub: HubServer, tmp_path: Path) -> None:
    """The CLI in a fresh process: HF_ENDPOINT, HF_HOME and HF_TOKEN come from the environment only."""
    hub.seed("dataset", REPO, dataset_files(tmp_path), private=True)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"name: hub-cli\nsource: {{dataset: {REPO}}}\nfilters: []\noutput: {{dir: {tmp_path / 'out'}}}\n"
    )
    env = {**os.environ, "HF_TOKEN": TOKEN, "CURATE_PROGRESS": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "curate.cli", "-q", "run", str(recipe)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out" / "stats.json").read_text())["rows"]["train"] == 24
    assert TOKEN not in done.stdout + done.stderr

    env = {
        **env,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "empty-home"),
        "HF_HUB_CACHE": str(tmp_path / "empty"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "curate.cli", "-q", "run", str(recipe)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("curate: error: Hub dataset")
