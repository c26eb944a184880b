"""A local stand-in for the Hugging Face Hub, spoken to by the real `huggingface_hub` client via `HF_ENDPOINT`.

It implements the HTTP endpoints the client calls for what curate does (checked against huggingface_hub
1.x: `hf_api.py`, `_commit_api.py`, `file_download.py`, `_snapshot_download.py`), with the Hub's status
codes and `X-Error-Code` headers so the client raises its real exception types:

- `POST /api/repos/create`, `POST /api/validate-yaml`, `GET /api/agent-harnesses` (the client's registry fetch)
- `GET /api/{type}s/{id}[/revision/{rev}]` (repo info, siblings, cardData), `GET .../tree/{rev}[/{path}]`,
  `GET .../refs`, `POST .../branch/{name}`
- `POST .../preupload/{rev}` (always answers upload mode "regular", so no LFS or Xet transfer is needed) and
  `POST .../commit/{rev}` (the NDJSON commit: header, base64 files, deletions)
- `HEAD`/`GET /[{type}s/]{id}/resolve/{rev}/{path}` with `X-Repo-Commit` and `ETag` (git blob sha1). Files
  stored as LFS (seeded parquet shards, as on the real Hub) answer with a 302 to a "CDN" on another host
  name (`localhost` instead of `127.0.0.1`, same socket) carrying `X-Linked-Etag` (sha256) and
  `X-Linked-Size`, exactly the path a real parquet download takes, auth header stripped by the client.

Repos live in memory as commits of whole file maps. Tokens map to users; private repos, write rights on a
namespace and invalid tokens behave as on the Hub (401 for anonymous access to a private repo, 403 for a
write without rights). Every request is recorded (method, path, headers, body) for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n"
POINTER_SIZE = 134


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass(frozen=True)
class Blob:
    data: bytes
    lfs: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def pointer(self) -> bytes:
        return f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\nsize {len(self.data)}\n".encode()

    @property
    def oid(self) -> str:
        """The git object id: of the content, or of the LFS pointer for LFS files (as the Hub reports it)."""
        return git_blob_sha1(self.pointer if self.lfs else self.data)


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    description: str
    files: dict[str, Blob]


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision) or self.tags.get(revision) or revision
        return self.commits.get(oid)


@dataclass(frozen=True)
class User:
    name: str
    orgs: tuple[str, ...] = ()
    write: bool = True

    def may_write(self, namespace: str) -> bool:
        return self.write and (namespace == self.name or namespace in self.orgs)

    def member_of(self, namespace: str) -> bool:
        return namespace == self.name or namespace in self.orgs


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    host: str
    body: bytes


class HubError(Exception):
    """An error response: status, the Hub's X-Error-Code (drives the client's exception type) and message."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        commit: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.commit = status, message, code, commit
        self.extra = extra or {}


class HubServer:
    """Threaded HTTP server on 127.0.0.1 and a random port; use as a context manager."""

    def __init__(self, users: dict[str, User] | None = None) -> None:
        self.users = dict(users or {})
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.RLock()
        self._counter = 0
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._http.daemon_threads = True
        self._http.hub = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cdn_url(self) -> str:
        return f"http://localhost:{self.port}/cdn-lfs"

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    # --- direct state access for tests --------------------------------------------------------------------

    def create(self, repo_type: str, repo_id: str, *, private: bool = False) -> Repo:
        """A new repo with the Hub's initial commit (a `.gitattributes` tracking binaries with LFS)."""
        with self._lock:
            if (repo_type, repo_id) in self.repos:
                raise ValueError(f"{repo_type} {repo_id} exists")
            repo = Repo(repo_type, repo_id, private)
            self.repos[(repo_type, repo_id)] = repo
            self._commit(
                repo, "main", "initial commit", "", {".gitattributes": Blob(GITATTRIBUTES)}, deletions=()
            )
            return repo

    def seed(
        self,
        repo_type: str,
        repo_id: str,
        files: dict[str, bytes],
        *,
        message: str = "seed",
        branch: str = "main",
        private: bool = False,
    ) -> str:
        """Commit `files` (creating the repo if needed); `.parquet` files are stored as LFS, like the Hub does."""
        with self._lock:
            repo = self.repos.get((repo_type, repo_id)) or self.create(repo_type, repo_id, private=private)
            blobs = {path: Blob(data, lfs=path.endswith(".parquet")) for path, data in files.items()}
            return self._commit(repo, branch, message, "", blobs, deletions=())

    def repo(self, repo_type: str, repo_id: str) -> Repo:
        return self.repos[(repo_type, repo_id)]

    def files(self, repo_type: str, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        commit = self.repo(repo_type, repo_id).resolve(revision)
        assert commit is not None, revision
        return {path: blob.data for path, blob in commit.files.items()}

    def head(self, repo_type: str, repo_id: str, branch: str = "main") -> Commit:
        repo = self.repo(repo_type, repo_id)
        return repo.commits[repo.branches[branch]]

    def requests_to(self, fragment: str, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if fragment in r.path and (method is None or r.method == method)]

    # --- internals ---------------------------------------------------------------------------------------

    def _commit(
        self,
        repo: Repo,
        branch: str,
        title: str,
        description: str,
        additions: dict[str, Blob],
        deletions: tuple[str, ...],
    ) -> str:
        parent = repo.branches.get(branch)
        files = dict(repo.commits[parent].files) if parent else {}
        for path in deletions:
            if path.endswith("/"):
                files = {p: b for p, b in files.items() if not p.startswith(path)}
            elif files.pop(path, None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        files.update(additions)
        self._counter += 1
        listing = sorted((p, b.oid) for p, b in files.items())
        oid = hashlib.sha1(json.dumps([parent, title, listing, self._counter]).encode()).hexdigest()
        repo.commits[oid] = Commit(oid, parent, title, description, files)
        repo.branches[branch] = oid
        return oid


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubserver"

    @property
    def hub(self) -> HubServer:
        return self.server.hub  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on `HubServer.requests` instead."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # --- plumbing -----------------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""  # always drained: keep-alive stays in sync
        split = urlsplit(self.path)
        self.query = parse_qs(split.query)
        self.segments = [unquote(s) for s in split.path.strip("/").split("/")] if split.path != "/" else []
        with self.hub._lock:
            self.hub.requests.append(
                Recorded(
                    method,
                    unquote(split.path),
                    self.query,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.headers.get("Host", ""),
                    self.body,
                )
            )
        try:
            with self.hub._lock:
                self._route(method)
        except HubError as error:
            headers = {"X-Error-Message": error.message}
            if error.code:
                headers["X-Error-Code"] = error.code
            if error.commit:
                headers["X-Repo-Commit"] = error.commit
            self._json(
                {"error": error.message, **error.extra},
                status=error.status,
                headers=headers,
                head=method == "HEAD",
            )

    def _json(
        self, data: Any, *, status: int = 200, headers: dict[str, str] | None = None, head: bool = False
    ) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers or {}, head=head)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str], *, head: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _user(self) -> User | None:
        """The token's user; an unknown token is refused outright, as the Hub does."""
        auth = self.headers.get("Authorization", "")
        if not auth:
            return None
        token = auth.removeprefix("Bearer ").strip()
        user = self.hub.users.get(token)
        if user is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return user

    def _repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> Repo:
        user = self._user()
        repo = self.hub.repos.get((repo_type, repo_id))
        visible = repo is not None and (
            not repo.private or (user is not None and user.member_of(repo.id.split("/")[0]))
        )
        if not visible:
            # Anonymous callers get 401 and everyone else 404, for missing and private repos alike.
            raise HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")
        assert repo is not None
        if write and (user is None or not user.may_write(repo_id.split("/")[0])):
            raise HubError(403, f"You don't have the rights to write to {repo_type} {repo_id}")
        return repo

    @staticmethod
    def _commit_at(repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit

    # --- routes -------------------------------------------------------------------------------------------

    def _route(self, method: str) -> None:
        s = self.segments
        if s[:1] == ["cdn-lfs"] and len(s) == 2 and method in ("GET", "HEAD"):
            return self._cdn(s[1], method)
        if s[:1] == ["api"]:
            rest = s[1:]
            if rest == ["repos", "create"] and method == "POST":
                return self._create_repo()
            if rest == ["agent-harnesses"] and method == "GET":
                return self._json({"standardEnvVars": [], "harnesses": {}})
            if rest == ["validate-yaml"] and method == "POST":
                return self._validate_yaml()
            if len(rest) >= 3 and rest[0] in TYPES:
                return self._repo_api(method, TYPES[rest[0]], f"{rest[1]}/{rest[2]}", rest[3:])
            raise HubError(404, f"no route {method} {self.path}")
        repo_type = "model"
        if s[:1] and s[0] in ("datasets", "spaces"):
            repo_type, s = TYPES[s[0]], s[1:]
        if len(s) >= 5 and s[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(method, repo_type, f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]))
        raise HubError(404, f"no route {method} {self.path}")

    def _repo_api(self, method: str, repo_type: str, repo_id: str, rest: list[str]) -> None:
        if method == "GET" and not rest:
            return self._info(repo_type, repo_id, "main")
        if method == "GET" and len(rest) == 2 and rest[0] == "revision":
            return self._info(repo_type, repo_id, rest[1])
        if method == "GET" and len(rest) >= 2 and rest[0] == "tree":
            return self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]))
        if method == "GET" and rest == ["refs"]:
            return self._refs(repo_type, repo_id)
        if method == "POST" and len(rest) == 2 and rest[0] == "branch":
            return self._create_branch(repo_type, repo_id, rest[1])
        if method == "POST" and len(rest) == 2 and rest[0] == "preupload":
            return self._preupload(repo_type, repo_id, rest[1])
        if method == "POST" and len(rest) == 2 and rest[0] == "commit":
            return self._commit(repo_type, repo_id, rest[1])
        raise HubError(404, f"no route {method} {self.path}")

    def _create_repo(self) -> None:
        user = self._user()
        if user is None:
            raise HubError(401, "Invalid username or password.")
        payload = json.loads(self.body or b"{}")
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or user.name
        repo_id = f"{namespace}/{payload['name']}"
        if not user.may_write(namespace):
            raise HubError(
                403, f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"'
            )
        url = f"{self.hub.url}/{URL_PREFIX[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self.hub.repos:
            raise HubError(409, f"You already created this {repo_type} repo", extra={"url": url})
        private = payload.get("visibility") == "private" or payload.get("private") is True
        self.hub.create(repo_type, repo_id, private=private)
        self._json({"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self) -> None:
        payload = json.loads(self.body or b"{}")
        content = payload.get("content", "")
        errors = []
        try:
            meta = _front_matter(content)
        except yaml.YAMLError as exc:
            errors.append({"message": f"Invalid YAML: {exc}"})
            meta = None
        if meta is not None and not isinstance(meta, dict):
            errors.append({"message": "Metadata must be a YAML mapping"})
        elif isinstance(meta, dict):
            errors += [{"message": m} for m in _check_dataset_metadata(meta)]
        if errors:
            self._json({"errors": errors, "warnings": []}, status=400)
        else:
            warnings = [] if meta else [{"message": "empty or missing yaml metadata in repo card"}]
            self._json({"errors": [], "warnings": warnings})

    def _info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_type, repo_id)
        commit = self._commit_at(repo, revision)
        blobs = self.query.get("blobs", ["false"])[0].lower() in ("1", "true")
        siblings = []
        for path in sorted(commit.files):
            entry: dict[str, Any] = {"rfilename": path}
            if blobs:
                blob = commit.files[path]
                entry.update({"size": len(blob.data), "blobId": blob.oid})
                if blob.lfs:
                    entry["lfs"] = {
                        "size": len(blob.data),
                        "sha256": blob.sha256,
                        "pointerSize": POINTER_SIZE,
                    }
            siblings.append(entry)
        readme = commit.files.get("README.md")
        card = _front_matter(readme.data.decode("utf-8")) if readme else None
        self._json(
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "author": repo_id.split("/")[0],
                "sha": commit.oid,
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "tags": [],
                "cardData": card if isinstance(card, dict) else None,
                "siblings": siblings,
            }
        )

    def _tree(self, repo_type: str, repo_id: str, revision: str, prefix: str) -> None:
        repo = self._repo(repo_type, repo_id)
        commit = self._commit_at(repo, revision)
        recursive = self.query.get("recursive", ["false"])[0].lower() in ("1", "true")
        base = f"{prefix}/" if prefix else ""
        entries: dict[str, dict[str, Any]] = {}
        for path in sorted(commit.files):
            if not path.startswith(base):
                continue
            parts = path[len(base) :].split("/")
            for depth in range(1, len(parts)):
                folder = base + "/".join(parts[:depth])
                if recursive or depth == 1:
                    entries.setdefault(
                        folder,
                        {
                            "type": "directory",
                            "oid": git_blob_sha1(folder.encode()),
                            "size": 0,
                            "path": folder,
                        },
                    )
            if recursive or len(parts) == 1:
                blob = commit.files[path]
                entry: dict[str, Any] = {
                    "type": "file",
                    "oid": blob.oid,
                    "size": len(blob.data),
                    "path": path,
                }
                if blob.lfs:
                    entry["lfs"] = {"oid": blob.sha256, "size": len(blob.data), "pointerSize": POINTER_SIZE}
                entries[path] = entry
        if prefix and not entries:
            raise HubError(404, f"{prefix} does not exist", "EntryNotFound", commit.oid)
        self._json([entries[k] for k in sorted(entries)])

    def _refs(self, repo_type: str, repo_id: str) -> None:
        repo = self._repo(repo_type, repo_id)
        self._json(
            {
                "branches": [
                    {"name": n, "ref": f"refs/heads/{n}", "targetCommit": c}
                    for n, c in sorted(repo.branches.items())
                ],
                "converts": [],
                "tags": [
                    {"name": n, "ref": f"refs/tags/{n}", "targetCommit": c}
                    for n, c in sorted(repo.tags.items())
                ],
                "pullRequests": [],
            }
        )

    def _create_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        repo = self._repo(repo_type, repo_id, write=True)
        if branch in repo.branches:
            raise HubError(409, "Reference already exists")
        payload = json.loads(self.body or b"{}")
        start = self._commit_at(repo, payload.get("startingPoint") or "main")
        repo.branches[branch] = start.oid
        self._json({})

    def _preupload(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_type, repo_id, write=True)
        commit = self._commit_at(repo, revision)
        payload = json.loads(self.body or b"{}")
        files = []
        for item in payload.get("files", []):
            entry = {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False}
            existing = commit.files.get(item["path"])
            if existing is not None and not existing.lfs:
                entry["oid"] = existing.oid  # the client skips unchanged files
            files.append(entry)
        self._json({"files": files, "commitOid": commit.oid})

    def _commit(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_type, repo_id, write=True)
        if revision not in repo.branches:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        if self.query.get("create_pr"):
            raise HubError(400, "pull requests are not supported by this stand-in")
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        header = next((line["value"] for line in lines if line["key"] == "header"), None)
        if header is None or not header.get("summary"):
            raise HubError(400, "commit header with a summary is required")
        parent = header.get("parentCommit")
        if parent and not repo.branches[revision].startswith(parent):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        additions: dict[str, Blob] = {}
        deletions: list[str] = []
        lfs_store = {
            b.sha256: b
            for r in self.hub.repos.values()
            for c in r.commits.values()
            for b in c.files.values()
            if b.lfs
        }
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubError(400, f"unsupported encoding {value.get('encoding')!r}")
                data = base64.b64decode(value["content"])
                additions[value["path"]] = Blob(data, lfs=False)
            elif key == "lfsFile":
                blob = lfs_store.get(value["oid"])
                if blob is None:
                    raise HubError(422, f"LFS object {value['oid']} was never uploaded")
                additions[value["path"]] = blob
            elif key == "deletedFile":
                deletions.append(value["path"])
            elif key == "deletedFolder":
                deletions.append(value["path"].rstrip("/") + "/")
            elif key != "header":
                raise HubError(400, f"unknown commit operation {key!r}")
        oid = self.hub._commit(
            repo, revision, header["summary"], header.get("description", ""), additions, tuple(deletions)
        )
        url = f"{self.hub.url}/{URL_PREFIX[repo_type]}{repo_id}/commit/{oid}"
        self._json({"success": True, "commitOid": oid, "commitUrl": url, "hookOutput": ""})

    def _resolve(self, method: str, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._repo(repo_type, repo_id)
        commit = self._commit_at(repo, revision)
        blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, "Entry not found", "EntryNotFound", commit.oid)
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{blob.oid}"', "Accept-Ranges": "bytes"}
        if blob.lfs:
            headers.update(
                {
                    "Location": f"{self.hub.cdn_url}/{blob.sha256}",
                    "X-Linked-Etag": f'"{blob.sha256}"',
                    "X-Linked-Size": str(len(blob.data)),
                }
            )
            return self._send(302, b"", "text/plain", headers, head=method == "HEAD")
        self._bytes(blob.data, headers, method)

    def _cdn(self, sha256: str, method: str) -> None:
        for repo in self.hub.repos.values():
            for commit in repo.commits.values():
                for blob in commit.files.values():
                    if blob.lfs and blob.sha256 == sha256:
                        return self._bytes(
                            blob.data, {"ETag": f'"{sha256}"', "Accept-Ranges": "bytes"}, method
                        )
        raise HubError(404, "no such object")

    def _bytes(self, data: bytes, headers: dict[str, str], method: str) -> None:
        status, body = 200, data
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            start_text, _, end_text = wanted.removeprefix("bytes=").partition("-")
            start = int(start_text or 0)
            end = int(end_text) if end_text else len(data) - 1
            body = data[start : end + 1]
            status = 206
            headers = {**headers, "Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(data)}"}
        self._send(status, body, "application/octet-stream", headers, head=method == "HEAD")


def _front_matter(text: str) -> Any:
    """The YAML between the leading `---` lines of a card, or None when there is none."""
    if not text.startswith("---"):
        return None
    lines = text.splitlines()
    try:
        end = lines.index("---", 1)
    except ValueError:
        return None
    return yaml.safe_load("\n".join(lines[1:end]))


def _check_dataset_metadata(meta: dict[str, Any]) -> list[str]:
    """The structural checks the Hub applies to a dataset card's `configs` and `dataset_info`."""
    problems = []
    for config in meta.get("configs") or []:
        if not isinstance(config, dict) or "config_name" not in config:
            problems.append("configs: every entry needs a config_name")
            continue
        for entry in config.get("data_files") or []:
            if isinstance(entry, dict) and not {"split", "path"} <= set(entry):
                problems.append(
                    f"configs.{config['config_name']}.data_files: each entry needs split and path"
                )
    infos = meta.get("dataset_info")
    for info in infos if isinstance(infos, list) else [infos] if infos else []:
        for split in (info or {}).get("splits") or []:
            if not isinstance(split.get("num_examples"), int):
                problems.append(f"dataset_info.splits.{split.get('name')}: num_examples must be an integer")
    return problems


def point_client_at(monkeypatch: Any, url: str, hf_home: Path) -> None:
    """Aim the already-imported huggingface_hub at `url` with a private cache and no token.

    The client reads HF_ENDPOINT, HF_HOME and HF_HUB_OFFLINE into module constants at import, so the
    environment (for subprocesses such as the `curate` CLI) and those constants are both set."""
    from huggingface_hub import constants

    hub_cache = hf_home / "hub"
    settings = {
        "ENDPOINT": url,
        "HUGGINGFACE_CO_URL_TEMPLATE": url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HUB_CACHE": str(hub_cache),
        "HF_TOKEN_PATH": str(hf_home / "token"),
        "HF_STORED_TOKENS_PATH": str(hf_home / "stored_tokens"),
        "AGENT_HARNESSES_PATH": str(hf_home / ".agent_harnesses.json"),
        "HF_HUB_OFFLINE": False,
    }
    for name, value in settings.items():
        monkeypatch.setattr(constants, name, value)
    for name, value in {"HF_ENDPOINT": url, "HF_HOME": str(hf_home), "HF_HUB_CACHE": str(hub_cache)}.items():
        monkeypatch.setenv(name, value)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)


def set_offline(monkeypatch: Any, offline: bool = True) -> None:
    """HF_HUB_OFFLINE for this process (the client's constant) and for subprocesses (the environment)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
