"""One embedded sample shared by the sample tests: 3,000 rows written by the real writer with two worker
processes, read back whole, with its manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from curate.synthetic import manifest_path, write_sample

ROWS, SEED = 3000, 11


@dataclass
class Sample:
    path: Path
    rows: list[dict[str, Any]]
    manifest: dict[str, Any]

    @property
    def planted(self) -> dict[str, dict[str, Any]]:
        return self.manifest["planted"]

    def by_uuid(self) -> dict[str, dict[str, Any]]:
        return {row["uuid"]: row for row in self.rows}

    def of_kind(self, kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(row, manifest entry) for every planted row of `kind`."""
        rows = self.by_uuid()
        return [(rows[uuid], entry) for uuid, entry in self.planted.items() if entry["kind"] == kind]

    def clean(self) -> list[dict[str, Any]]:
        """Rows with no planted defect (real and templated problems, natural generations)."""
        return [row for row in self.rows if row["uuid"] not in self.planted]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    path = tmp_path_factory.mktemp("sample") / "sample.parquet"
    write_sample(path, rows=ROWS, seed=SEED, workers=2)
    return Sample(path, pq.read_table(path).to_pylist(), json.loads(manifest_path(path).read_text()))
