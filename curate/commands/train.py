"""`curate train DIR`: full-parameter SFT of a curated output with verl 0.9.x (verl.trainer.sft_trainer)."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.errors import CurateError


def register(app: typer.Typer) -> None:
    app.command("train")(train)


def train(
    out_dir: Path | None = typer.Argument(None, help="A `curate run` output folder (with train.parquet)."),
    extra: list[str] | None = typer.Argument(
        None, help="Extra Hydra overrides for verl, after `--` (e.g. -- optim.lr=2e-5)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Hugging Face id or local folder (default: the preset's model)."
    ),
    preset: str = typer.Option("default", "--preset", help="Bundled preset name or a preset YAML file."),
    nnodes: int | None = typer.Option(None, "--nnodes", min=1, help="Nodes (default: the preset's)."),
    gpus_per_node: int | None = typer.Option(
        None, "--gpus-per-node", min=1, help="GPUs per node (default: the preset's)."
    ),
    scheduler: str = typer.Option("local", "--scheduler", help="local (torchrun here) or slurm (sbatch)."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="trainer.total_epochs."),
    lr: float | None = typer.Option(None, "--lr", min=0.0, help="optim.lr (peak learning rate)."),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="data.train_batch_size: rows per step over all GPUs."
    ),
    max_length: int | None = typer.Option(
        None, "--max-length", min=1, help="data.max_length (default: the recipe's token_length bound)."
    ),
    ckpt_dir: Path | None = typer.Option(
        None, "--ckpt-dir", help="trainer.default_local_dir (default: ./checkpoints/PROJECT/EXPERIMENT)."
    ),
    project: str | None = typer.Option(None, "--project", help="trainer.project_name."),
    experiment: str | None = typer.Option(
        None, "--experiment", help="trainer.experiment_name (default: MODEL-DIRNAME)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write and print the launch script; do not run it."
    ),
    list_presets: bool = typer.Option(False, "--list-presets", help="List the bundled presets and exit."),
    force: bool = typer.Option(
        False,
        "--force",
        help="Write the launch files into a folder curate did not create, or over files it did not write.",
    ),
) -> None:
    """Write a verl launch script (and its resolved overrides) into DIR, then run it or submit it.

    The launch trains on the whole assistant turn, think block included: it sets a ChatML training
    template, under which verl's tokens equal the ones curate's token_length filter counted.
    """
    from curate.ownership import claim
    from curate.train.launch import prepare, start
    from curate.train.plan import Request
    from curate.train.presets import available, load_preset
    from curate.train.scripts import OVERRIDES

    if list_presets:
        for name in available():
            found = load_preset(name)
            typer.echo(f"{name}: {found.description}")
        return
    if out_dir is None:
        raise CurateError("missing DIR", hint="curate train OUT_DIR --model Qwen/Qwen3-4B-Base")
    if scheduler not in ("local", "slurm"):
        raise CurateError(f"--scheduler {scheduler}: expected local or slurm")
    request = Request(
        out_dir=out_dir,
        preset=preset,
        model=model,
        nnodes=nnodes,
        gpus_per_node=gpus_per_node,
        scheduler=scheduler,  # type: ignore[arg-type]
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        max_length=max_length,
        ckpt_dir=ckpt_dir,
        project=project,
        experiment=experiment,
        extra=tuple(extra or ()),
    )
    script = "train.sbatch" if scheduler == "slurm" else "train.sh"
    with claim(out_dir, command="train", force=force, writes=[script, OVERRIDES]) as folder:
        folder.record([script, OVERRIDES])
        prepared = prepare(request)
    plan, written = prepared.plan, prepared.written
    if dry_run:
        typer.echo(written.script.read_text(encoding="utf-8"), nl=False)
    data = plan.data
    typer.echo(
        f"curate train: {plan.model}, preset {plan.preset.name}, {plan.nnodes} node(s) x {plan.gpus_per_node} "
        f"GPUs; {data.train.rows} rows, longest {data.longest} tokens, data.max_length "
        f"{plan.overrides['data.max_length']}; {plan.steps_per_epoch} steps/epoch, {plan.total_steps} in all",
        err=True,
    )
    for note in prepared.notes:
        typer.echo(f"curate train: {note}", err=True)
    checked = f" (checked against verl {prepared.validated_with})" if prepared.validated_with else ""
    typer.echo(f"curate train: wrote {written.script} and {written.overrides}{checked}", err=True)
    typer.echo(
        f"curate train: after training, merge the last checkpoint:\n  {plan.merge_command()}", err=True
    )
    if dry_run:
        return
    code = start(prepared)
    if code:
        raise typer.Exit(code)
