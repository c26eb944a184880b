"""The `curate` command. Each module of `curate.commands` adds its commands through `register(app)`."""

from __future__ import annotations

import errno
import importlib
import logging
import multiprocessing.process
import pkgutil
import signal
import sys
from typing import NoReturn

import typer

import curate.commands
from curate.errors import CurateError

app = typer.Typer(
    name="curate",
    help="Curate reasoning-trace datasets into clean, decontaminated, verl-ready SFT sets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors; no progress bars."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="curate: %(message)s", stream=sys.stderr, force=True)
    for noisy in ("httpx", "urllib3", "filelock", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if quiet:
        import os

        os.environ["CURATE_PROGRESS"] = "0"


for _module in pkgutil.iter_modules(curate.commands.__path__):
    importlib.import_module(f"curate.commands.{_module.name}").register(app)


INTERRUPTED = "curate: interrupted; existing outputs were left untouched"
# Errors of the machine rather than of curate: said in one line, naming the path.
_ENVIRONMENT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the disk is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EFBIG: "the file is larger than this system allows",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
}


def main() -> None:
    """The CLI entry point: every failure the user can act on ends in one `curate: error:` line and exit
    code 2, Ctrl-C in one `curate: interrupted` line and exit code 130; only a bug shows a traceback."""
    _shield_helper_processes()
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130 and _interrupted(exc):  # typer turns Ctrl-C into a silent exit 130
            typer.echo(INTERRUPTED, err=True)
        raise
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        raise SystemExit(130) from None
    except CurateError as exc:
        _fail(str(exc))
    except OSError as exc:
        if exc.errno not in _ENVIRONMENT:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{_ENVIRONMENT[exc.errno]} ({exc.strerror or exc})")
    except Exception as exc:
        cause = getattr(exc, "cause", None)  # Ray wraps a worker's exception in a RayTaskError
        if not isinstance(cause, CurateError):
            raise
        _fail(str(cause))


def _shield_helper_processes() -> None:
    """Ctrl-C reaches every process of the terminal's group. It is the driver's to handle: it stops its
    worker pools, which would otherwise each print a KeyboardInterrupt traceback (a fork server importing
    its preloads, a worker still starting). So helper processes start with SIGINT blocked: they, and
    whatever they fork (a fork server's children), inherit the block. The driver's own mask is restored
    once the process has started, so a Ctrl-C pressed meanwhile is delivered, not lost. Commands that
    hand the terminal to another program (`curate train` running the launch script) use subprocess,
    which this leaves alone."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    start = multiprocessing.process.BaseProcess.start
    if getattr(start, "shielded", False):
        return

    def shielded(self: multiprocessing.process.BaseProcess) -> None:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            start(self)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    shielded.shielded = True  # type: ignore[attr-defined]
    multiprocessing.process.BaseProcess.start = shielded  # type: ignore[method-assign]


def _fail(message: str) -> NoReturn:
    typer.echo(f"curate: error: {message}", err=True)
    raise SystemExit(2) from None


def _interrupted(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


if __name__ == "__main__":
    main()
