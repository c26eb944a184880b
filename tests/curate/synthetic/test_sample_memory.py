"""The writer streams: peak memory does not grow with the number of rows (measured in fresh processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# VmHWM, not ru_maxrss: the latter survives exec, so a child forked from a big pytest starts "at" its size.
SCRIPT = """
import json, re, sys
from pathlib import Path
from curate.synthetic import write_sample
summary = write_sample(Path(sys.argv[1]), rows=int(sys.argv[2]), seed=5, workers=1)
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) * 1024
print(json.dumps({"peak": peak, "text": summary.text_bytes}))
"""


def _peak(path: Path, rows: int) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path), str(rows)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from Linux's /proc")
def test_peak_memory_is_flat_in_the_number_of_rows(tmp_path: Path) -> None:
    small, large = _peak(tmp_path / "small.parquet", 1000), _peak(tmp_path / "large.parquet", 6000)
    assert large["text"] > 5 * small["text"] > 250_000_000  # 6,000 rows are over 300 MB of text
    # Holding 6,000 rows would add over 300 MB (their text, twice: Python strings and Arrow); streamed, the
    # peak is one chunk's worth and only drifts up with the largest chunk seen (measured: about +60 MB).
    assert large["peak"] - small["peak"] < 200_000_000, (small, large)
    assert large["peak"] < 700_000_000
