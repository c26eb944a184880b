"""Output folders are curate's own: who may write where, one writer at a time, and a swap that never loses
the previous output.

Every folder curate writes carries `.curate/owner.json`, the list of files curate wrote there and which
command wrote each. A command writes only into a folder that does not exist, is empty, or carries that
marker; anything else is refused unless the user passes `--force`, and even then never the filesystem root,
the home folder, the current directory, the source data's or the recipe's folder, curate's cache, or a
folder holding any of them. Files the marker does not list (the user's own) are never touched, not even by
a name curate wants to write (that is an error, --force or not), and a rerun
of `curate run` replaces only the files an earlier run wrote, so files of other commands (`curate train`'s
launch script) survive it.

`.curate/lock` is held (flock) for as long as a command writes: a second command into the same folder
fails at once, naming the holder. `curate run` writes its files into `.curate/staging-*` and swaps them in
under a journal: once every new file is on disk, `.curate/journal.json` records the swap, the old files
move into `.curate/previous/` and the new ones into place, the marker is rewritten and the journal
removed. At every instant each old file is in place or in `previous/`, and each new one is staged or in
place; whoever next opens the folder (any curate command) finds an unfinished journal and completes it,
and sweeps away staging folders and temp files of runs that were killed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.cache import atomic_write_text, cache_root, is_temp, pid_alive, sweep_temps
from curate.errors import CurateError
from curate.outputs import is_run_file

if TYPE_CHECKING:
    from curate.recipe import Recipe

log = logging.getLogger("curate")

META = ".curate"
OWNER = "owner.json"
LOCK = "lock"
JOURNAL = "journal.json"
PREVIOUS = "previous"
STAGING = "staging-"
FORMAT = "curate-output/1"
LOCK_WAIT_SECONDS = 60.0  # how long a reader waits for a writer to finish its swap


def protected_paths(recipe: Recipe) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """For a run of `recipe`: the folders its output may neither be nor hold (the recipe's, the source's),
    and those it may not be inside (a folder source: the next run would read the outputs as input)."""
    keep: list[tuple[Path, str]] = []
    inside: list[tuple[Path, str]] = []
    if recipe.path is not None:
        keep.append((Path(recipe.path).resolve().parent, "the recipe's folder"))
    for source in (s.spec for s in recipe.sources):
        if source.kind == "path" and source.path:
            text = os.path.expanduser(source.path)
            wild = next((i for i, ch in enumerate(text) if ch in "*?["), None)
            if wild is not None:
                base = Path(text[:wild]) if text[:wild].endswith(os.sep) else Path(text[:wild]).parent
                keep.append((base, "the source data's folder"))
                if "**" in text:
                    inside.append((base, "the source data's folder"))
            elif Path(text).is_dir():
                keep.append((Path(text), "the source data"))
                inside.append((Path(text), "the source data's folder"))
            else:
                keep.append((Path(text).parent, "the source data's folder"))
        if source.kind == "hub":
            from huggingface_hub import constants

            hub_cache = Path(constants.HF_HUB_CACHE)
            keep.append((hub_cache, "the Hugging Face cache"))
            inside.append((hub_cache, "the Hugging Face cache"))
    return keep, inside


class OutputFolder:
    """A folder this process holds the lock of (see `claim`)."""

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.command = command
        self.meta = path / META
        self.files: dict[str, str] = {}

    def record(self, names: Iterable[str], owner: str | None = None) -> None:
        """Before writing `names` straight into the folder: refuse files curate did not write, and list
        them as curate's first, so a crash mid-write cannot leave an unlisted file."""
        names = list(names)
        self.check_foreign(names)
        new = {name: owner or self.command for name in names}
        if any(self.files.get(k) != v for k, v in new.items()):
            self.files.update(new)
            self._write_owner(self.files)

    def check_foreign(self, names: Iterable[str]) -> None:
        """Never overwrite a file curate did not write, --force or not: --force only opens a folder."""
        clash = [n for n in names if os.path.lexists(self.path / n) and n not in self.files]
        if clash:
            others = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
            raise CurateError(
                f"{clash[0]!r} is there and curate did not write it{others}",
                where=str(self.path),
                hint=f"move it away or choose another folder: `curate {self.command}` writes that name",
            )

    @contextmanager
    def staged(self, owner: str = "run") -> Iterator[Path]:
        """A staging folder for a whole set of files; on success they replace the files `owner` wrote
        before (see the module doc), on failure the staging folder is removed and nothing else changes."""
        staging = self.meta / f"{STAGING}{os.getpid()}-{time.time_ns()}"
        staging.mkdir()
        try:
            yield staging
            self._commit(staging, owner)
        except BaseException:
            journal = self.meta / JOURNAL
            if not journal.exists():
                shutil.rmtree(staging, ignore_errors=True)
                raise
            # The swap is decided (e.g. Ctrl-C during it): finish it now if the disk lets us; if not, the
            # next command on this folder does.
            with contextlib.suppress(OSError, ValueError):
                self._roll_forward(json.loads(journal.read_text(encoding="utf-8")))
            raise

    def _commit(self, staging: Path, owner: str) -> None:
        names = sorted(os.listdir(staging))
        self.check_foreign(names)
        stale = [n for n, who in self.files.items() if who == owner and n not in names]
        files = {n: who for n, who in self.files.items() if n not in stale}
        files.update({n: owner for n in names})
        for name in names:
            _fsync(staging / name)
        _fsync(staging)
        journal = {
            "format": FORMAT,
            "staging": staging.name,
            "install": names,
            "remove": stale,
            "files": files,
        }
        atomic_write_text(self.meta / JOURNAL, json.dumps(journal, indent=1))
        _fsync(self.meta)
        self._roll_forward(journal)

    def _roll_forward(self, journal: dict[str, Any]) -> None:
        """Complete a decided swap; safe to repeat after a crash at any point of it."""
        staging = self.meta / str(journal["staging"])
        previous = self.meta / PREVIOUS
        previous.mkdir(exist_ok=True)
        install = [str(n) for n in journal["install"]]
        for name in [*install, *(str(n) for n in journal["remove"])]:
            live, kept = self.path / name, previous / name
            if name in install and not os.path.lexists(staging / name):
                continue  # installed before the crash
            if os.path.lexists(live) and not os.path.lexists(kept):
                os.rename(live, kept)
        for name in install:
            if os.path.lexists(staging / name):
                os.replace(staging / name, self.path / name)
        _fsync(self.path)
        self.files = {str(k): str(v) for k, v in dict(journal["files"]).items()}
        self._write_owner(self.files)
        (self.meta / JOURNAL).unlink()
        _fsync(self.meta)
        shutil.rmtree(previous, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)

    def _recover(self) -> None:
        """Finish what an interrupted command left: a decided swap, staging folders, temp files."""
        journal_path = self.meta / JOURNAL
        if journal_path.exists():
            try:
                journal = json.loads(journal_path.read_text(encoding="utf-8"))
                if journal.get("format") != FORMAT:
                    raise ValueError(journal.get("format"))
            except (ValueError, AttributeError) as exc:
                raise CurateError(
                    f"the journal of an interrupted swap cannot be read ({exc})",
                    where=str(journal_path),
                    hint=f"the previous files are in {self.meta / PREVIOUS}; move back what you need and "
                    "delete the journal",
                ) from None
            log.warning("%s: completing the swap of an interrupted run", self.path)
            self._roll_forward(journal)
        for entry in os.listdir(self.meta):
            if entry.startswith(STAGING) or entry == PREVIOUS:
                shutil.rmtree(self.meta / entry, ignore_errors=True)
        sweep_temps(self.path, everything=True)
        sweep_temps(self.meta, everything=True)

    def _load_owner(self) -> None:
        """The marker, without entries whose files are gone (deleted by the user, or recorded by a command
        that failed before writing them); written if the folder had none."""
        listed = read_owner(self.path)
        self.files = {n: who for n, who in (listed or {}).items() if os.path.lexists(self.path / n)}
        if listed != self.files:
            self._write_owner(self.files)

    def _write_owner(self, files: dict[str, str]) -> None:
        record = {"format": FORMAT, "files": dict(sorted(files.items()))}
        atomic_write_text(self.meta / OWNER, json.dumps(record, indent=1) + "\n")


def read_owner(path: Path) -> dict[str, str] | None:
    """The files curate wrote in `path` (name -> command), or None where the folder carries no valid marker."""
    try:
        record = json.loads((path / META / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(record, dict)
        or record.get("format") != FORMAT
        or not isinstance(record.get("files"), dict)
    ):
        return None
    return {str(k): str(v) for k, v in record["files"].items()}


@contextmanager
def claim(
    path: str | Path,
    *,
    command: str,
    force: bool = False,
    keep_clear_of: Iterable[tuple[Path, str]] = (),
    inside_forbidden: Iterable[tuple[Path, str]] = (),
    writes: Iterable[str] = (),
) -> Iterator[OutputFolder]:
    """Hold `path` as `command`'s output folder for the duration: checked, locked, recovered.

    `keep_clear_of`: (folder, what it is) pairs the output may neither be nor contain (besides those every
    command keeps clear of); `inside_forbidden`: folders the output may not be inside either (a folder
    source, which the next run would read the outputs from); `writes`: names the command will write, checked
    now against files curate did not write, so a refusal comes before the work rather than after it."""
    target = check_output(
        path,
        command=command,
        force=force,
        keep_clear_of=keep_clear_of,
        inside_forbidden=inside_forbidden,
        restore=True,
    )
    existed = target.exists()
    created = [p for p in (target, *target.parents) if not p.exists()]
    folder = OutputFolder(target, command)
    try:
        folder.meta.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, target, "cannot create the output folder") from None
    failed = False
    try:
        with _locked(folder):
            folder._recover()
            folder._load_owner()
            if force and existed:
                foreign = _foreign(target, folder.files)
                if foreign:
                    log.warning(
                        "%s: writing into a folder curate did not create (--force); %d entries of "
                        "yours there are left as they are",
                        target,
                        len(foreign),
                    )
            folder.check_foreign(writes)
            yield folder
    except BaseException:
        failed = True
        raise
    finally:
        if failed and created:
            _remove_if_untouched(folder, created)


def check_output(
    path: str | Path,
    *,
    command: str,
    force: bool = False,
    keep_clear_of: Iterable[tuple[Path, str]] = (),
    inside_forbidden: Iterable[tuple[Path, str]] = (),
    restore: bool = False,
) -> Path:
    """Everything `claim` refuses before it writes anything (see there), for `curate validate` too; the
    resolved folder. With `restore`, first puts back an output an older curate's crash left hidden."""
    target = _checked_target(path)
    _check_clear(target, list(keep_clear_of), list(inside_forbidden))
    if restore:
        _restore_legacy(target)
    if target.exists() and not force:
        _check_owned(target, command)
    return target


def _checked_target(path: str | Path) -> Path:
    text = str(path)
    if not text.strip():
        raise CurateError("the output folder is empty", hint="set output.dir in the recipe or pass --out DIR")
    raw = Path(text).expanduser()
    for ancestor in [raw, *raw.parents]:
        if ancestor.exists() or ancestor.is_symlink():
            if ancestor.is_dir():
                break
            if not ancestor.exists():
                what = (
                    f"{'is' if ancestor == raw else f'is inside {ancestor}, which is'} a broken symbolic link"
                )
            else:
                what = (
                    "is a file, not a folder" if ancestor == raw else f"is inside {ancestor}, which is a file"
                )
            raise CurateError(what, where=text, hint="choose a folder for the output")
    return Path(os.path.realpath(raw))


def _check_clear(
    target: Path, keep_clear_of: list[tuple[Path, str]], inside_forbidden: list[tuple[Path, str]]
) -> None:
    """The folders an output may never take over: the root, the home folder and curate's cache, always;
    the current directory and `keep_clear_of` (and any folder holding one of them) unless the folder already
    is a curate output folder, which takes over nothing (only curate's own files in it are ever replaced),
    e.g. the folder of a recipe.lock.yaml run again; and never a folder inside `inside_forbidden`."""
    hint = "choose a folder of its own, e.g. out/NAME"
    cache = Path(os.path.realpath(cache_root()))
    never = [(Path(os.path.realpath(Path.home())), "your home folder"), (cache, "curate's cache")]
    unless_owned = [(Path(os.path.realpath(Path.cwd())), "the current directory"), *keep_clear_of]
    if target == Path(target.anchor):
        raise CurateError(
            "refusing to use the filesystem root as an output folder", where=str(target), hint=hint
        )
    owned = read_owner(target) is not None
    for folder, what in [*never, *([] if owned else unless_owned)]:
        folder = Path(os.path.realpath(folder))
        if target == folder:
            raise CurateError(f"refusing to write the output into {what}", where=str(target), hint=hint)
        if target in folder.parents:
            raise CurateError(
                f"refusing to write the output into a folder that holds {what} ({folder})",
                where=str(target),
                hint=hint,
            )
    for folder, what in [*inside_forbidden, (cache, "curate's cache")]:
        if Path(os.path.realpath(folder)) in target.parents:
            raise CurateError(
                f"refusing to write the output inside {what} ({folder})", where=str(target), hint=hint
            )


def _check_owned(target: Path, command: str) -> None:
    if not target.is_dir():
        raise CurateError("is not a folder", where=str(target), hint="choose a folder for the output")
    if read_owner(target) is not None:
        return
    try:
        entries = sorted(e for e in os.listdir(target) if e != META)
    except OSError as exc:
        raise os_error(exc, target, "cannot read the output folder") from None
    if entries:
        raise CurateError(
            f"the output folder holds files curate did not write ({_entries(len(entries))}, e.g. {entries[0]!r})",
            where=str(target),
            hint=f"choose a new or empty folder, or pass --force to let `curate {command}` add its files there; "
            "nothing else in it is touched",
        )


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _foreign(target: Path, files: dict[str, str]) -> list[str]:
    return [n for n in os.listdir(target) if n != META and n not in files]


@contextmanager
def _locked(folder: OutputFolder, wait: float = 0.0) -> Iterator[None]:
    """The folder's lock, for as long as the command writes (or, with `wait`, up to that many seconds)."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one writer at a time is the user's business
        yield
        return
    lock_path = folder.meta / LOCK
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise os_error(exc, folder.path, "cannot lock the output folder") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CurateError(
                        f"another curate command is writing this folder ({_holder(lock_path)})",
                        where=str(folder.path),
                        hint="wait for it to finish, or choose another output folder",
                    ) from None
                time.sleep(0.2)
        holder = {
            "command": folder.command,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text(encoding="utf-8"))
        return (
            f"`curate {holder['command']}`, pid {holder['pid']} on {holder['host']}, since {holder['since']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def settle(path: str | Path) -> None:
    """For commands that read an output folder: complete a swap a killed run left half done, so they never
    read a mix of two runs. Waits briefly for a run that is swapping right now."""
    target = Path(path)
    if not (target / META / JOURNAL).exists():
        return
    folder = OutputFolder(Path(os.path.realpath(target)), "settle")
    with _locked(folder, wait=LOCK_WAIT_SECONDS):
        folder._recover()


def _remove_if_untouched(folder: OutputFolder, created: list[Path]) -> None:
    """A failed command leaves no folder it created and wrote nothing lasting into."""
    if any(os.path.lexists(folder.path / n) for n in folder.files):
        return
    try:
        if sorted(os.listdir(folder.path)) != [META]:
            return
        shutil.rmtree(folder.meta)
        for path in created:  # deepest first
            os.rmdir(path)
    except OSError:
        return


_LEGACY = re.compile(r"^\.(?P<name>.+)\.(?P<kind>staging|previous)-(?P<pid>\d+)$")


def _restore_legacy(target: Path) -> None:
    """Earlier curate versions swapped `.NAME.staging-PID` in through `.NAME.previous-PID`, beside the
    output; a crash between the two renames left the previous output only under the hidden name. Put it
    back, and remove staging folders of dead writers (they hold nothing but curate's own files)."""
    parent = target.parent
    if not parent.is_dir():
        return
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in sorted(entries):
        match = _LEGACY.match(entry)
        if not match or match["name"] != target.name:
            continue
        leftover = parent / entry
        pid = int(match["pid"])
        if pid_alive(pid):
            continue
        if match["kind"] == "previous" and not target.exists():
            os.rename(leftover, target)
            log.warning("%s: restored the previous output an interrupted run had left in %s", target, entry)
        elif match["kind"] == "staging" and _only_curate_files(leftover):
            shutil.rmtree(leftover, ignore_errors=True)


def _only_curate_files(folder: Path) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return all(is_run_file(n) or is_temp(n) for n in names)


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def os_error(exc: OSError, path: Path, doing: str) -> CurateError:
    """An OSError met while writing `path` as the one line the user sees."""
    reason = exc.strerror or str(exc)
    hint = {
        errno.EROFS: "the disk is read-only: choose an output folder on a writable disk",
        errno.EACCES: "you may not write there: choose a folder you own",
        errno.ENOSPC: "the disk is full: free space or choose another disk",
    }.get(exc.errno or 0)
    return CurateError(f"{doing} ({reason})", where=str(exc.filename or path), hint=hint)
