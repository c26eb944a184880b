"""Resolve a recipe's `source` to a list of local parquet files plus a fingerprint and provenance.

Hub datasets are downloaded through huggingface-hub (its cache, revision pinning, `HF_TOKEN`,
`HF_HUB_OFFLINE`); local jsonl is converted to parquet once and cached; the embedded sample is generated
deterministically into the cache.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.cache import cache_root, digest, file_hash, is_sealed, seal, temp_path_for
from curate.errors import CurateError, redact
from curate.jsonl import iter_jsonl
from curate.limits import SAMPLE_BYTES_PER_ROW
from curate.recipe import SourceSpec
from curate.yamlpos import parse_yaml

log = logging.getLogger("curate")

# OpenR1-Math-220k's configs, used when a dataset card declares none.
_DEFAULT_PATTERNS = {"default": ["data/{split}-*.parquet"], "all": ["**/{split}-*.parquet"]}


@dataclass
class ResolvedSource:
    files: list[Path]
    fingerprint: str
    provenance: dict[str, Any] = field(default_factory=dict)


def resolve_source(spec: SourceSpec) -> ResolvedSource:
    if spec.kind == "sample":
        return _sample_source(spec)
    if spec.kind == "path":
        return _path_source(spec.path or "")
    return _hub_source(spec)


def _finish(files: list[Path], provenance: dict[str, Any]) -> ResolvedSource:
    hashes = {str(f): file_hash(f) for f in files}
    provenance["files"] = [{"path": str(f), "xxh3_128": hashes[str(f)]} for f in files]
    return ResolvedSource(files, digest(sorted(hashes.values())), provenance)


def _sample_source(spec: SourceSpec) -> ResolvedSource:
    from curate.synthetic import GENERATOR_VERSION, write_sample

    target = (
        cache_root() / "sample" / f"openr1-sample-{spec.rows}-{spec.sample_seed}-v{GENERATOR_VERSION}.parquet"
    )
    if not is_sealed(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        check_space(target.parent, spec.rows * SAMPLE_BYTES_PER_ROW, f"a sample of {spec.rows:,} rows")
        log.info("generating the embedded offline sample: %d rows, seed %d", spec.rows, spec.sample_seed)
        write_sample(target, rows=spec.rows, seed=spec.sample_seed)
        seal(target)
    provenance = {
        "kind": "sample",
        "rows": spec.rows,
        "seed": spec.sample_seed,
        "generator_version": GENERATOR_VERSION,
        "note": "embedded offline sample: synthetic OpenR1-shaped rows, not the real dataset",
    }
    return _finish([target], provenance)


def check_space(folder: Path, needed: int, what: str) -> None:
    """Refuse to start writing `needed` bytes where they cannot fit (rather than fill the disk)."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise CurateError(
            f"{what} needs about {needed / 1e9:.1f} GB, and only {free / 1e9:.1f} GB are free here",
            where=str(folder),
            hint="free space, point CURATE_CACHE at a larger disk, or ask for fewer rows",
        )


def _path_source(text: str) -> ResolvedSource:
    files = local_files(text)
    converted = [_jsonl_to_parquet(f) if f.suffix in {".jsonl", ".json"} else f for f in files]
    return _finish(converted, {"kind": "path", "path": text, "inputs": [str(f) for f in files]})


def local_files(text: str) -> list[Path]:
    """The files a `path` source names (a file, a folder or a glob), checked without reading them: what
    `curate validate` and `curate run` both refuse."""
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in {".parquet", ".jsonl"} and p.is_file())
    elif path.is_file():
        files = [path]
    elif path.exists():  # a pipe or a device: reading it would never end
        raise CurateError(
            "not a regular file", where=text, hint="give a .parquet or .jsonl file, a folder or a glob"
        )
    elif not any(ch in text for ch in "*?["):
        raise CurateError(
            "source path does not exist", where=text, hint="check the path (relative to where you run curate)"
        )
    else:
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    if not files:
        raise CurateError(
            f"source path {text!r} matches no .parquet or .jsonl file",
            hint="give a file, a folder or a glob such as 'data/train-*.parquet'",
        )
    for f in files:
        if f.suffix not in {".parquet", ".jsonl", ".json"}:
            raise CurateError(
                f"unsupported file type {f.suffix!r}", where=str(f), hint="use .parquet or .jsonl"
            )
    return files


def _jsonl_to_parquet(path: Path) -> Path:
    target = cache_root() / "jsonl" / f"{path.stem}-{file_hash(path)}.parquet"
    if is_sealed(target):
        return target
    import polars as pl

    try:
        frame = pl.read_ndjson(path, infer_schema_length=None)
    except Exception as exc:  # polars raises several types for malformed JSON, without a usable line
        _explain_jsonl(path)
        reason = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise CurateError(
            f"cannot be read as JSON lines ({reason})",
            where=str(path),
            hint="every line must be a JSON object with the same fields and types",
        ) from None
    tmp = temp_path_for(target)
    try:
        frame.write_parquet(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    seal(target)
    return target


def _explain_jsonl(path: Path) -> None:
    """Find the first line of `path` that is not UTF-8, not JSON or not an object, and name it."""
    for where, _, value in iter_jsonl(path):
        if not isinstance(value, dict):
            raise CurateError(f"a line must be a JSON object, not {type(value).__name__}", where=where)


def _hub_source(spec: SourceSpec) -> ResolvedSource:
    import httpx
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo = spec.dataset or ""
    offline_hint = "download the parquet files and use `--source PATH`, or run offline with `--source sample`"
    try:
        files, sha = _hub_files(repo, spec)
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise CurateError(
            f"Hub dataset {repo!r} not found or not accessible ({type(exc).__name__})",
            hint="check the name, and set HF_TOKEN for private or gated datasets",
        ) from None
    except RevisionNotFoundError:
        raise CurateError(f"Hub dataset {repo!r} has no revision {spec.revision!r}") from None
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, httpx.TransportError):
        state = (
            "the Hub is offline (HF_HUB_OFFLINE)"
            if constants.is_offline_mode()
            else f"the Hub at {constants.ENDPOINT} cannot be reached"
        )
        raise CurateError(
            f"Hub dataset {repo!r}@{spec.revision} ({spec.config}/{spec.split}) is not fully in the local "
            f"cache and {state}",
            hint=offline_hint,
        ) from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        said = redact(exc.server_message or "", limit=120)
        raise CurateError(
            f"the Hub answered {status} for dataset {repo!r}" + (f": {said}" if said else ""),
            hint=offline_hint,
        ) from None
    provenance = {
        "kind": "hub",
        "dataset": repo,
        "config": spec.config,
        "split": spec.split,
        "revision": spec.revision,
        "commit": sha,
    }
    return _finish(files, provenance)


def _hub_files(repo: str, spec: SourceSpec) -> tuple[list[Path], str]:
    """The config/split's files at one commit, and that commit.

    One path for every network state: online, the client resolves the revision (recording
    `refs/<revision>` and the commit's file listing in the Hugging Face cache) and downloads; with
    HF_HUB_OFFLINE or an unreachable Hub it answers from that cache, and refuses when the revision or any
    file of the config is missing from it."""
    from huggingface_hub import constants, get_cached_repo_tree, snapshot_download
    from huggingface_hub.errors import CachedRepoTreeNotFoundError, LocalEntryNotFoundError

    folder = Path(
        snapshot_download(repo, repo_type="dataset", revision=spec.revision, allow_patterns=["README.md"])
    )
    sha = folder.name  # snapshots/<commit>
    try:
        names = [f.path for f in get_cached_repo_tree(repo, repo_type="dataset", revision=sha)]
    except CachedRepoTreeNotFoundError:  # a cache filled file by file: what is on disk is all there is
        names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    wanted = _match(_patterns(_read_card(folder / "README.md"), spec), names, spec)
    snapshot_download(
        repo,
        repo_type="dataset",
        revision=sha,
        allow_patterns=wanted,
        local_files_only=constants.is_offline_mode(),
    )
    missing = [name for name in wanted if not (folder / name).is_file()]
    if missing:
        raise LocalEntryNotFoundError(
            f"{len(missing)} file(s) missing from the cached snapshot: {missing[0]}"
        )
    return [folder / name for name in wanted], sha


def _read_card(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    front = text.split("---", 2)[1]
    try:  # the card comes from the Hub: read within the bounds of a recipe (no alias bombs)
        meta = parse_yaml(front, str(path)).value
    except CurateError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _patterns(meta: dict[str, Any], spec: SourceSpec) -> list[str]:
    """File patterns of `spec.config`/`spec.split`, from the dataset card's `configs:` when it has them."""
    for config in meta.get("configs") or []:
        if config.get("config_name") != spec.config:
            continue
        data_files = config.get("data_files")
        if isinstance(data_files, str):
            return [data_files]
        for entry in data_files or []:
            if isinstance(entry, dict) and entry.get("split") == spec.split:
                paths = entry.get("path")
                return [paths] if isinstance(paths, str) else list(paths or [])
    defaults = _DEFAULT_PATTERNS.get(spec.config, [f"{spec.config}/{{split}}-*.parquet"])
    return [p.format(split=spec.split) for p in defaults]


def _match(patterns: list[str], names: list[str], spec: SourceSpec) -> list[str]:
    wanted = sorted({n for n in names for p in patterns if fnmatch.fnmatch(n, p)})
    if not wanted:
        raise CurateError(
            f"no files for config {spec.config!r} split {spec.split!r} (patterns {patterns})",
            hint="check `config` and `split` in the recipe's source",
        )
    return wanted


def open_parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CurateError(
            f"not a readable parquet file ({str(exc).splitlines()[0]})",
            where=str(path),
            hint="re-download it or remove it from the source",
        ) from None
