"""The embedded offline sample: a deterministic generator of OpenR1-Math-220k-shaped rows with planted
defects, so `curate run` works with no network and every filter has cases it must catch.

`write_sample(path, rows, seed)` streams a parquet file plus `<stem>.planted.json` (which rows were
planted, of what kind, and which filters must drop them); `generate(rows, seed)` returns a table.
"""

from curate.synthetic.generator import GENERATOR_VERSION, generate, manifest_path, write_sample
from curate.synthetic.schema import OPENR1_SCHEMA

__all__ = ["GENERATOR_VERSION", "OPENR1_SCHEMA", "generate", "manifest_path", "write_sample"]
