"""`curate run`, `curate validate`, `curate filters`: run or check a recipe, list the filters."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.errors import CurateError


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("validate")(validate)
    app.command("filters")(list_filters)


def run(
    recipe: Path = typer.Argument(..., help="Recipe YAML file."),
    source: list[str] = typer.Option(
        [],
        "--source",
        help="Override the source: `sample`, `sample:ROWS`, a path or glob, or OWNER/NAME[:CONFIG][@REV]; "
        "for a mixed recipe NAME=SOURCE, once per source to replace. The recipe's `schema:` is kept.",
    ),
    out: str | None = typer.Option(None, "--out", help="Override output.dir."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes (default: all cores)."
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Recompute every step instead of reusing cached results."
    ),
    executor: str | None = typer.Option(
        None, "--executor", help="`local` (worker processes here) or `ray` (Ray Data on a cluster)."
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray-address",
        help="Ray cluster address, e.g. `auto` or ray://host:10001 (with --executor ray).",
    ),
    allow_smaller: bool = typer.Option(
        False, "--allow-smaller", help="Write what survives when the pool is smaller than sample.size."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write into an existing folder curate did not create (its other files are left as they are).",
    ),
) -> None:
    """Run a recipe: filter, sample, and write verl-ready parquet plus the data card."""
    from curate.engine import run_recipe
    from curate.recipe import load_recipe, parse_source_overrides

    single, named = parse_source_overrides(source)
    loaded = load_recipe(recipe).with_overrides(
        source=single,
        named_sources=named,
        out=out,
        workers=workers,
        executor=executor,
        address=ray_address,
        allow_smaller=allow_smaller,
    )
    result = run_recipe(loaded, use_cache=not no_cache, force=force)
    rows = result.stats["rows"]
    typer.echo(
        f"{result.out_dir}: train {rows['train']}, test {rows['test']} (pool {rows['pool']} of {rows['source']})"
    )


def validate(recipe: Path = typer.Argument(..., help="Recipe YAML file.")) -> None:
    """Check a recipe (names, parameters, types, files, the source path and the output folder) without
    reading any data: what `curate run` would refuse, `validate` refuses."""
    from curate.mix import check_headers
    from curate.ownership import check_output, protected_paths
    from curate.recipe import load_recipe
    from curate.source import local_files

    loaded = load_recipe(recipe)
    spec = loaded.model
    for source in loaded.sources:
        if source.spec.kind == "path":
            local_files(source.spec.path or "")
    check_headers(loaded)
    keep_clear_of, inside_forbidden = protected_paths(loaded)
    check_output(
        spec.output.dir, command="run", keep_clear_of=keep_clear_of, inside_forbidden=inside_forbidden
    )
    steps = loaded.all_steps()
    names = ", ".join(f"{owner}/{s.name}" if owner else s.name for owner, s in steps)
    mix = (
        f"; {len(loaded.sources)} sources: {', '.join(s.name for s in loaded.sources)}"
        if loaded.mixed
        else ""
    )
    typer.echo(f"{recipe}: ok ({len(steps)} filters: {names}{mix})")


def list_filters() -> None:
    """List the filters, curate's own and those of installed plugins, with their parameters and defaults."""
    from curate import filters

    for name in filters.available():
        try:
            info = filters.resolve(name)
        except CurateError as exc:  # a plugin that is installed but broken: listed, with why, not fatal
            typer.echo(f"{name} [plugin, cannot be loaded]\n    {exc.args[0]}")
            continue
        cls = info.cls
        params = ", ".join(
            f"{key}={field.get_default(call_default_factory=True)!r}"
            if not field.is_required()
            else f"{key} (required)"
            for key, field in cls.Params.model_fields.items()
        )
        origin = f" (plugin: {info.distribution} {info.version})" if info.origin == "plugin" else ""
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        typer.echo(f"{name} [{cls.level}]{origin} {params}\n    {doc}")
