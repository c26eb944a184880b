"""`curate sample`: write the embedded offline sample (OpenR1-shaped rows with planted defects)."""

from __future__ import annotations

from pathlib import Path

import typer

from curate.errors import CurateError
from curate.limits import MAX_SAMPLE_ROWS, SAMPLE_BYTES_PER_ROW


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)


def sample(
    out: Path = typer.Option(
        ..., "--out", "-o", help="Parquet file to write (a .planted.json manifest goes beside it)."
    ),
    rows: int = typer.Option(3000, "--rows", "-n", help=f"Number of rows (1 to {MAX_SAMPLE_ROWS:,})."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same rows and seed give byte-identical files."),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Generator processes (default: up to 2, the cores available)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite files at OUT that curate did not write."),
) -> None:
    """Generate the offline sample: OpenR1-Math-220k's schema and length profile, 2-4 R1-style traces per
    row, and planted duplicates, benchmark copies, wrong/missing answers, broken and overlong traces."""
    import resource
    import time

    from curate.source import check_space
    from curate.synthetic import manifest_path, write_sample

    if out.is_dir():
        raise CurateError(
            "is a folder, not a file", where=str(out), hint="give a file path ending in .parquet"
        )
    if out.suffix != ".parquet":
        raise CurateError(
            "the sample is written as parquet", where=str(out), hint="give a path ending in .parquet"
        )
    if not 1 <= rows <= MAX_SAMPLE_ROWS:
        raise CurateError(f"--rows {rows}: the sample has 1 to {MAX_SAMPLE_ROWS:,} rows")
    if not force:
        _check_overwrite(out)
    start_wall, start_cpu = time.perf_counter(), _cpu_seconds()
    try:
        check_space(
            out.parent if out.parent.exists() else Path("."), rows * SAMPLE_BYTES_PER_ROW, f"{rows:,} rows"
        )
        summary = write_sample(out, rows=rows, seed=seed, workers=workers)
    except OSError as exc:
        raise CurateError(f"cannot write the sample ({exc.strerror or exc})", where=str(out)) from None
    wall, cpu = time.perf_counter() - start_wall, _cpu_seconds() - start_cpu
    peak_mb = max(_own_peak_kb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    text_mb = summary.text_bytes / 1e6
    planted = ", ".join(f"{kind} {count}" for kind, count in summary.planted.items())
    typer.echo(
        f"{out}: {summary.rows} rows, {text_mb:.1f} MB of text ({summary.file_bytes / 1e6:.1f} MB on disk) in "
        f"{wall:.1f} s: {text_mb / wall:.0f} MB/s, {text_mb / max(cpu, 1e-9):.0f} MB per CPU-second, peak RSS "
        f"{peak_mb:.0f} MB; planted {sum(summary.planted.values())} rows ({planted}); "
        f"{summary.accidental_duplicates} accidental duplicates; manifest {manifest_path(out)}"
    )


def _check_overwrite(out: Path) -> None:
    """Replace a sample curate wrote, never a file of the user's: an existing OUT (and its manifest) must
    be a curate sample, i.e. the OpenR1 schema beside a manifest of the generator."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.synthetic import OPENR1_SCHEMA, manifest_path

    manifest = manifest_path(out)
    if not out.exists() and not manifest.exists():
        return
    try:
        ours = pq.read_schema(out).equals(OPENR1_SCHEMA, check_metadata=False)
        record = json.loads(manifest.read_text(encoding="utf-8"))
        ours = ours and isinstance(record, dict) and {"generator_version", "planted"} <= record.keys()
    except (OSError, ValueError, pa.ArrowException):
        ours = False
    if not ours:
        taken = out if out.exists() else manifest
        raise CurateError(
            "is there and is not a sample curate wrote",
            where=str(taken),
            hint="choose another path, or pass --force to overwrite it",
        )


def _cpu_seconds() -> float:
    """CPU time of this process and its finished worker processes."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _own_peak_kb() -> int:
    """This process's peak RSS in KiB: Linux's VmHWM where there is one (ru_maxrss survives exec, so a
    process started from a big parent would report the parent's size), else ru_maxrss."""
    import re
    import resource

    status = Path("/proc/self/status")
    match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text()) if status.exists() else None
    return int(match.group(1)) if match else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
