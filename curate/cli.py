"""The `curate` command. Each module of `curate.commands` adds its commands through `register(app)`."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sys

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


def main() -> None:
    try:
        app()
    except CurateError as exc:
        typer.echo(f"curate: error: {exc}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        typer.echo("curate: interrupted; existing outputs were left untouched", err=True)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
