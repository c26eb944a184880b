"""What checking a source at its boundary costs, beside reading the columns it reads.

`curate run` checks every source before any filter: column types (the files' schemas) and the row values
every step relies on (`uuid` present, non-empty and unique; `problem` present; label lists of one length).
This times those checks on a parquet source next to a plain read of the same columns, best of `--repeats`.

    python scripts/measure_source_checks.py FILE.parquet [FILE.parquet ...] [--repeats 3]

(`curate bench` leaves its generated corpora in ~/.cache/curate/bench/, e.g. openr1-225000-0-v1.parquet.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from curate import schema
from curate.table import SourceTable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    table = SourceTable(args.files)
    labels = [c for c in schema.LABELS if c in table.common_columns()]
    columns = ["uuid", "problem", *labels]
    checks, reads = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        table.check_columns({})
        checks.append(time.perf_counter() - started)
        started = time.perf_counter()
        table.read(columns)
        reads.append(time.perf_counter() - started)
    print(
        f"{table.num_rows:,} rows: schema and row checks {min(checks):.2f} s; "
        f"reading {', '.join(columns)} alone {min(reads):.2f} s"
    )


if __name__ == "__main__":
    main()
