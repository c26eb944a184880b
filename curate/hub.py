"""Publish a curated output folder as a Hugging Face dataset repo: one commit with the parquet splits, the
card, its plot and the run's provenance files.

The token comes from `HF_TOKEN` or the huggingface-hub login and is only ever handed to the client: it is
never part of a message, a log line or an error. Every failure the user can act on (no token, a rejected
token, no write access, a repo id that names a model or Space, an unreachable Hub) is one CurateError line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.errors import CurateError, redact
from curate.outputs import RunOutput

log = logging.getLogger("curate")

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_URL = re.compile(r"^https?://[^/]+/(?:(datasets|spaces|models)/)?([^/]+/[^/]+?)(?:/.*)?$")


@dataclass(frozen=True)
class Upload:
    path_in_repo: str
    local: Path
    size: int


@dataclass(frozen=True)
class PushPlan:
    repo_id: str
    private: bool
    revision: str
    uploads: list[Upload]
    commit_message: str
    commit_description: str

    @property
    def total_bytes(self) -> int:
        return sum(u.size for u in self.uploads)


@dataclass(frozen=True)
class PushResult:
    plan: PushPlan
    commit_url: str
    commit_oid: str
    repo_url: str
    changed: bool


def plan_push(
    out_dir: Path, repo_id: str | None = None, *, private: bool | None = None, revision: str = "main"
) -> PushPlan:
    """What a push would do: resolved repo id and visibility (command line, else the recipe's `hub:`),
    the files with their sizes and the commit message. Reads only the output folder."""
    output = RunOutput(out_dir)
    stats = output.stats()
    hub = _recipe_hub(output)
    repo_id = normalize_repo_id(repo_id or hub.get("repo_id") or "")
    uploads = _uploads(output)
    recipe = stats.get("recipe", "?")
    recipe_hash = stats.get("recipe_sha256", "?")
    rows = stats.get("rows") or {}
    source = stats.get("source") or {}
    origin = source.get("dataset") or source.get("path") or source.get("kind", "?")
    if source.get("commit"):
        origin += f"@{source['commit']}"
    description = "\n".join(
        [
            f"Recipe `{recipe}` (hash {recipe_hash}), curate {(stats.get('versions') or {}).get('curate', '?')}.",
            f"Source: {origin}.",
            f"Rows: train {rows.get('train', '?')}, test {rows.get('test', '?')} "
            f"(pool {rows.get('pool', '?')} of {rows.get('source', '?')}).",
        ]
    )
    return PushPlan(
        repo_id=repo_id,
        private=bool(hub.get("private")) if private is None else private,
        revision=revision,
        uploads=uploads,
        commit_message=f"curate: {recipe} (recipe {recipe_hash})",
        commit_description=description,
    )


def ensure_card(out_dir: Path) -> bool:
    """Write the card if the folder has none (e.g. an output from before cards existed); True if written."""
    if RunOutput(out_dir).card.is_file():
        return False
    from curate.card import write_card

    write_card(Path(out_dir))
    return True


def normalize_repo_id(text: str) -> str:
    """`OWNER/NAME`, also accepted as `datasets/OWNER/NAME` or a Hub dataset URL. A model or Space id or URL
    is refused: curate publishes datasets, and pushing one under a model's address is almost always a slip."""
    text = text.strip().rstrip("/")
    if not text:
        raise CurateError(
            "no repo id: give --repo-id OWNER/NAME or set `hub: {repo_id: OWNER/NAME}` in the recipe"
        )
    kind = None
    match = _URL.match(text)
    if match:
        kind, text = match.group(1) or "models", match.group(2)
    elif text.split("/", 1)[0] in ("datasets", "models", "spaces") and text.count("/") == 2:
        kind, text = text.split("/", 1)
    if kind in ("models", "spaces"):
        raise CurateError(
            f"{text!r} is addressed as a {kind[:-1]} repo, but curate pushes datasets",
            hint=f"use --repo-id {text} (it becomes https://huggingface.co/datasets/{text})",
        )
    if not _REPO_ID.match(text) or "--" in text or ".." in text:
        raise CurateError(
            f"invalid repo id {text!r}", hint="use OWNER/NAME with letters, digits, '-', '_' and '.'"
        )
    return text


def push(plan: PushPlan) -> PushResult:
    """Create the dataset repo (and branch) if needed, then upload everything in one commit."""
    from huggingface_hub import CommitOperationAdd, HfApi, constants
    from huggingface_hub.utils import get_token

    if constants.is_offline_mode():
        raise CurateError("HF_HUB_OFFLINE is set, so nothing can be pushed", hint="unset HF_HUB_OFFLINE")
    token = get_token()
    if not token:
        raise CurateError(
            "no Hugging Face token", hint="set HF_TOKEN to a token with write access, or run `hf auth login`"
        )
    api = HfApi(token=token)
    with _hub_errors(plan, api.endpoint):
        repo_url = api.create_repo(plan.repo_id, repo_type="dataset", private=plan.private, exist_ok=True)
        if plan.revision != "main":
            api.create_branch(plan.repo_id, branch=plan.revision, repo_type="dataset", exist_ok=True)
        info = api.dataset_info(plan.repo_id, revision=plan.revision)
        if plan.private and not info.private:
            log.warning("%s already exists and is public: --private does not change it", plan.repo_id)
        operations = [CommitOperationAdd(u.path_in_repo, str(u.local)) for u in plan.uploads]
        commit = api.create_commit(
            plan.repo_id,
            operations,
            commit_message=plan.commit_message,
            commit_description=plan.commit_description,
            repo_type="dataset",
            revision=plan.revision,
        )
    # The client skips files the branch already holds; with nothing left it makes no commit at all.
    return PushResult(plan, commit.commit_url, commit.oid, str(repo_url), changed=commit.oid != info.sha)


@contextmanager
def _hub_errors(plan: PushPlan, endpoint: str) -> Iterator[None]:
    """Turns the client's exceptions into one-line CurateErrors that name the repo and what to do."""
    import httpx
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

    repo = f"dataset repo {plan.repo_id!r}"
    try:
        yield
    except (httpx.TransportError, OfflineModeIsEnabled) as error:
        raise CurateError(
            f"cannot reach the Hugging Face Hub at {endpoint} ({type(error).__name__})",
            hint="check the network or HF_ENDPOINT; `--dry-run` lists the upload without the network",
        ) from None
    except RepositoryNotFoundError:
        raise CurateError(
            f"{repo} was not found after creating it: the token cannot see it",
            hint="check that the token belongs to the owner or an organization member with write access",
        ) from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status == 401:
            raise CurateError(
                "the Hub rejected the token (401 Unauthorized)",
                hint="set HF_TOKEN to a valid token or run `hf auth login`",
            ) from None
        if status == 403:
            raise CurateError(
                f"the token may not write to {repo} (403 Forbidden)",
                hint="use a token with write access to that namespace, or push to your own namespace",
            ) from None
        detail = redact(error.server_message or str(error), limit=160)
        raise CurateError(f"the Hub refused the push to {repo} ({status}: {detail})") from None
    except ValueError as error:
        if "README.md" not in str(error):
            raise
        card = next((u.local for u in plan.uploads if u.path_in_repo == "README.md"), None)
        raise CurateError(
            f"the Hub rejected the card's metadata: {redact(str(error), limit=240)}",
            where=str(card) if card else None,
            hint="regenerate it with `curate card DIR`",
        ) from None


def _uploads(output: RunOutput) -> list[Upload]:
    found = output.uploads()
    missing = [p.name for p in (output.split_path("train"), output.card) if not p.is_file()]
    if missing:
        raise CurateError(
            f"{', '.join(missing)} missing", where=str(output.path), hint="run `curate run RECIPE` first"
        )
    return [Upload(p.name, p, p.stat().st_size) for p in found]


def _recipe_hub(output: RunOutput) -> dict[str, Any]:
    """The recipe's `hub:` section from recipe.lock.yaml: the defaults for --repo-id and --private. A lock that
    cannot be read leaves the defaults to the command line."""
    try:
        return output.hub_settings()
    except CurateError:
        return {}
