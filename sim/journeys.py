"""The lead journey log: one row per lead, in memory or streamed to parquet in chunks.

Streaming keeps a long run's memory bounded by the open pipeline even when every lead's
journey is recorded: rows are buffered and written as a parquet row group every
``chunk_rows`` leads (``python -m sim`` streams into the run directory).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = (
    "lead_id", "source", "fit", "intent", "value", "nurtured", "recycled", "handoffs",
    "created_day", "mql_day", "followed_day", "sal_day", "sql_day", "closed_day",
    "churn_day", "outcome", "rep", "history_seen", "pitch_match", "promise_match",
    "window_day",
)  # fmt: skip


class JourneyLog:
    """Collects journey rows; ``close()`` returns them as a DataFrame, or None if streamed.

    Args:
        path: stream to this parquet file; keep rows in memory if None.
        chunk_rows: rows per written row group when streaming.
    """

    def __init__(self, path: str | Path | None = None, chunk_rows: int = 100_000) -> None:
        self.path = Path(path) if path is not None else None
        self.chunk_rows = chunk_rows
        self.rows: list[tuple] = []
        self.written = 0
        self._writer: pq.ParquetWriter | None = None

    def __len__(self) -> int:
        return self.written + len(self.rows)

    def append(self, row: tuple) -> None:
        """Log one lead's journey."""
        self.rows.append(row)
        if self.path is not None and len(self.rows) >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        table = pa.Table.from_pandas(self._frame(), preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.written += len(self.rows)
        self.rows = []

    def _frame(self) -> pd.DataFrame:
        return pd.DataFrame.from_records(self.rows, columns=list(COLUMNS))

    def close(self) -> pd.DataFrame | None:
        """Finish: the rows as a DataFrame (in memory), or None after writing the file."""
        if self.path is None:
            return self._frame()
        self._flush()
        if self._writer is None:  # no lead at all: still write a valid, empty file
            pq.write_table(pa.Table.from_pandas(self._frame(), preserve_index=False), self.path)
        else:
            self._writer.close()
        return None
