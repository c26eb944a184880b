"""`curate push DIR`: publish a curated output as a Hugging Face dataset repo, in one commit."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("push")(push)


def push(
    out_dir: Path = typer.Argument(..., help="A `curate run` output folder."),
    repo_id: str | None = typer.Option(
        None, "--repo-id", help="OWNER/NAME of the dataset repo (default: the recipe's hub.repo_id)."
    ),
    private: bool | None = typer.Option(
        None,
        "--private/--public",
        help="Visibility when the repo is created (default: the recipe's hub.private, else public).",
    ),
    revision: str = typer.Option("main", "--revision", help="Branch to commit to; created if missing."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be uploaded (paths, sizes, commit message); no network."
    ),
) -> None:
    """Upload the parquet splits, the data card and its plot, stats.json, recipe.lock.yaml and the filter
    reports to a dataset repo in one commit named after the recipe and its hash. The token comes from
    HF_TOKEN or `hf auth login`."""
    import logging

    from curate.card import TOKEN_PLOT
    from curate.hub import ensure_card, plan_push
    from curate.hub import push as do_push
    from curate.ownership import claim, settle

    settle(out_dir)
    if out_dir.is_dir() and not (out_dir / "README.md").is_file():
        names = ["README.md", TOKEN_PLOT]
        with claim(out_dir, command="push", writes=names) as folder:
            folder.record(names, owner="run")
            if ensure_card(out_dir):
                logging.getLogger("curate").info("wrote the missing data card %s", out_dir / "README.md")
    plan = plan_push(out_dir, repo_id, private=private, revision=revision)
    visibility = "private" if plan.private else "public"
    header = f"datasets/{plan.repo_id}@{plan.revision} ({visibility} if created): {plan.commit_message}"
    if dry_run:
        typer.echo(f"dry run, nothing uploaded: {header}")
        width = max(len(u.path_in_repo) for u in plan.uploads)
        for upload in plan.uploads:
            typer.echo(f"  {upload.path_in_repo:<{width}}  {upload.size:>14,} bytes")
        typer.echo(f"  {len(plan.uploads)} files, {plan.total_bytes:,} bytes")
        return
    result = do_push(plan)
    if result.changed:
        typer.echo(f"pushed {len(plan.uploads)} files ({plan.total_bytes:,} bytes) to {header}")
    else:
        typer.echo(f"nothing to push: datasets/{plan.repo_id}@{plan.revision} already holds these files")
    typer.echo(result.commit_url)
