"""The drop record, in every place drops are kept: one definition of its fields, and the schemas built from it.

A filter's `Drop` becomes `reason`, `detail` and `info` (its structured data as JSON). A step's drops carry
the source row id (`VERDICT_SCHEMA`); the trace chain's per-row results add the generation chosen and how far
the row got (`CHAIN_SCHEMA`); merged across steps they carry the step's name (`DROP_SCHEMA`); and the output's
`rejections.parquet` names the row by uuid and leaves `info` to the reports (`REJECTION_SCHEMA`).
"""

from __future__ import annotations

import pyarrow as pa

DROP_FIELDS = [pa.field("reason", pa.string()), pa.field("detail", pa.string()), pa.field("info", pa.string())]
_ROW_ID = pa.field("row_id", pa.int64())
_FILTER = pa.field("filter", pa.string())

VERDICT_SCHEMA = pa.schema([_ROW_ID, *DROP_FIELDS])
DROP_SCHEMA = pa.schema([_ROW_ID, _FILTER, *DROP_FIELDS])
CHAIN_SCHEMA = pa.schema(
    [
        _ROW_ID,
        pa.field("selected", pa.int64()),  # the chosen generation, -1 for a dropped row
        pa.field("depth", pa.int64()),  # how many trace filters the row's best generation passed
        _FILTER,
        *DROP_FIELDS,
        pa.field("fields", pa.string()),  # values the filters added to the kept row (JSON), e.g. num_tokens
    ]
)
REJECTION_SCHEMA = pa.schema([pa.field("uuid", pa.string()), _FILTER, *DROP_FIELDS[:2]])
