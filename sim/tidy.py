"""A study's tidy outputs: one row per run, and every run's daily series and journeys as datasets.

The shape EMA Workbench ("experiments + outcomes") and NetLogo BehaviorSpace users expect:

- ``runs.parquet`` (and ``runs.csv``): one row per run: its identity (``run_id``,
  ``scenario``, ``org``, ``tactics``, ``funnel``, ``seed``, ``draw``), the run length, every
  organisation, behaviour, tactic and decision-rule parameter as a flat column
  (``org.n_reps``, ``behaviour.follow_up_hours``, ``tactic.liaison.n_liaisons``: missing when
  the tactic is off), the settings hash, and every KPI of the registry (``sim.kpis``).
- ``timeseries/scenario=<name>/part-NNNNN.parquet`` and ``journeys/...``: the daily series
  and the lead journeys of every run, partitioned by scenario (hive style) and chunked, with
  ``run_id``, ``draw`` and ``seed`` columns, so one call reads a whole study::

      pd.read_parquet(study / "journeys")
      pyarrow.dataset.dataset(study / "journeys", partitioning="hive").to_table()
      duckdb.sql(f"select * from read_parquet('{study}/journeys/**/*.parquet',
                 hive_partitioning=true)")

Every column list here is derived (the parameter dataclasses, the tactic registry, the KPI
registry, the model's own output columns), never written out, so a new parameter, tactic or
KPI reaches the tables without an edit. Strings are categoricals (parquet dictionaries), and
the journey log's integer columns, which use -1 for "never" in memory, hold nulls instead
(pandas ``Int64``), so ``sql_day - mql_day`` is right or missing, never wrong.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.inputs import default_of, dtype_of, input_fields, run_inputs, tactics_label
from sim.kpis import KPIS

if TYPE_CHECKING:
    from sim.params import SimConfig

RUNS_PARQUET = "runs.parquet"
RUNS_CSV = "runs.csv"
ROWS = "rows"  # committed row parts: a run is done when its row is here
TIMESERIES = "timeseries"
JOURNEYS = "journeys"
DATASETS = (TIMESERIES, JOURNEYS)
PARTITION = "scenario"
#: The identity of a run, the first columns of the table.
KEYS = ("run_id", "scenario", "org", "tactics", "funnel", "seed", "draw")
#: The run settings that shape results, after the identity.
RUN_SETTINGS = ("days", "warmup_days", "version")
HASHES = ("settings_hash", "config_hash")
NEVER = -1  # what the journey log holds in memory for "never" (a day) or "none" (a rep)
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
#: Row parts read and joined into one table at a time when a study is read. A part read
#: costs about half a MiB of arrow's column objects (some 230 columns, each an array, its
#: buffers and its field) whatever its few rows: the 1,720 parts of a 40,000-run study took
#: 773 MiB to read at once, 352 MiB a group at a time (each group's columns one chunk).
JOIN_PARTS = 64


# --- the columns ------------------------------------------------------------------------------


def run_row(
    cfg: SimConfig,
    summary: Mapping[str, Any],
    run_id: str,
    draw: int = 0,
    hashes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One run's row of the tidy table (before ``normalise`` gives the columns their types).

    Args:
        cfg: the run's config.
        summary: its summary (``RunResult.summary``): identity and every KPI.
        run_id: its id within the study.
        draw: its parameter draw (0 when the study has none).
        hashes: its ``settings_hash`` and ``config_hash`` (``sim.io.run_hashes``).
    """
    row: dict[str, Any] = {
        "run_id": run_id,
        "scenario": cfg.scenario.name,
        "org": cfg.org.name,
        "tactics": tactics_label(cfg.scenario.tactics),
        "funnel": cfg.scenario.funnel.value,
        "seed": cfg.seed,
        "draw": draw,
        "days": cfg.days,
        "warmup_days": cfg.warmup_days,
        "version": summary.get("version"),
    }
    row.update(run_inputs(cfg))
    for key in HASHES:
        row[key] = (hashes or {}).get(key)
    for name in KPIS:
        row[name] = summary.get(name)
    for key, value in summary.items():  # anything a newer model reports beyond the registry
        row.setdefault(key, value)
    return row


def normalise(rows: pd.DataFrame | list[dict[str, Any]]) -> pd.DataFrame:
    """The tidy table's columns in their order and types, whatever the runs it holds.

    Every declared input column is present (missing where a tactic is off), with the type of
    its declared default, so tables of any subset of a study's runs agree on their columns
    and types; columns beyond the declarations (a custom tactic's, a rule's arguments) get
    the type of their values.
    """
    df = pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows.copy()
    declared = input_fields()
    inputs = list(declared) + sorted(
        c
        for c in df.columns
        if c.startswith(("org.", "behaviour.", "tactic.", "policies.")) and c not in declared
    )
    first = [*KEYS, *RUN_SETTINGS]
    kpis = list(KPIS)
    rest = [c for c in df.columns if c not in {*first, *inputs, *HASHES, *kpis}]
    df = df.reindex(columns=[*first, *inputs, *HASHES, *kpis, *rest])
    types: dict[str, str] = dict.fromkeys(("run_id", "scenario", "org", "tactics"), "category")
    types |= {"funnel": "category", "version": "category", "seed": "int64", "draw": "int64"}
    types |= {"days": "int64", "warmup_days": "int64"}
    types |= dict.fromkeys(HASHES, "category")
    types |= {c: dtype_of(default_of(f)) for c, f in declared.items()}
    for name, kpi in KPIS.items():
        types[name] = "int64" if kpi.kind == "count" and df[name].notna().all() else "float64"
    for col in [*inputs, *rest]:
        if col not in types:
            seen = df[col].dropna()
            types[col] = dtype_of(seen.iloc[0]) if len(seen) else "float64"
    for col, dtype in types.items():
        df[col] = _as(df[col], dtype)
    return df.reset_index(drop=True)


def _as(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "category":
        values = series.astype(object).where(series.notna(), None)
        return values.map(lambda v: v if v is None else str(v)).astype("category")
    if dtype in ("Int64", "boolean") and series.dtype == object:
        series = series.where(series.notna(), None)
    if dtype == "int64" and series.dtype == object:
        series = series.astype("Int64")
    if dtype == "float64" and series.dtype == object:
        series = pd.to_numeric(series.where(series.notna(), math.nan), errors="coerce")
    return series.astype(dtype)


# --- the datasets -----------------------------------------------------------------------------


def _with_ids(frame: pd.DataFrame, run_id: str, draw: int, seed: int) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "seed", seed)
    out.insert(0, "draw", draw)
    out.insert(0, "run_id", run_id)
    return out


def timeseries_frame(ts: pd.DataFrame, run_id: str, draw: int, seed: int) -> pd.DataFrame:
    """A run's daily series with its ``run_id``, ``draw`` and ``seed``."""
    return _with_ids(ts, run_id, draw, seed)


def journeys_frame(journeys: pd.DataFrame, run_id: str, draw: int, seed: int) -> pd.DataFrame:
    """A run's journey log with its ids; every integer -1 ("never", "none") becomes null."""
    out = journeys.copy()
    for col in out.columns:
        if pd.api.types.is_integer_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype("Int64").mask(out[col] == NEVER)
    return _with_ids(out, run_id, draw, seed)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as an arrow table with every string column a dictionary of int32 indices.

    One index width for every part, so the parts of a dataset share one schema.
    """
    frame = frame.copy()
    for col in frame.columns:
        dtype = frame[col].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            continue
        if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
            frame[col] = frame[col].astype("category")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        pa.field(f.name, _DICTIONARY) if pa.types.is_dictionary(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def part_name(number: int) -> str:
    """The file name of part ``number``, shared by a chunk's rows and its datasets' parts."""
    return f"part-{number:05d}.parquet"


def part_number(path: Path) -> int | None:
    """The number of a part file, or None if ``path`` is not one."""
    stem = path.name.removesuffix(".parquet")
    if path.suffix != ".parquet" or not stem.startswith("part-"):
        return None
    digits = stem.removeprefix("part-")
    return int(digits) if digits.isdigit() else None


# --- reading a study ----------------------------------------------------------------------------


def committed_parts(study: Path) -> dict[int, Path]:
    """The committed row parts of a study, by part number."""
    found = {}
    for path in sorted((Path(study) / ROWS).glob("part-*.parquet")):
        number = part_number(path)
        if number is not None:
            found[number] = path
    return found


def committed_ids(study: Path) -> set[str]:
    """The run ids whose rows are committed (only that column is read)."""
    ids: set[str] = set()
    for path in committed_parts(study).values():
        ids.update(pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist())
    return ids


def rows_table(rows: list[dict[str, Any]]) -> pa.Table | None:
    """A chunk's rows (``run_row``) as they are committed: plain arrow columns, untyped.

    Typing waits for the whole table (``read_rows``): a part holds values, so a chunk of
    baseline runs (every tactic column null) and a chunk of tactic runs agree once read.
    Values arrow cannot put in one column (a text and a number) are typed here instead.
    """
    if not rows:
        return None
    columns = dict.fromkeys(key for row in rows for key in row)  # every row's, in order
    try:  # column by column: Table.from_pylist takes the columns of the first row only
        return pa.table({c: pa.array([row.get(c) for row in rows]) for c in columns})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return to_arrow(normalise(rows))


def read_rows(study: Path) -> pd.DataFrame:
    """Every committed row of a study, in the tidy table's columns and types.

    The parts are joined with arrow's type promotion (a column null in one part takes the
    other parts' type; integers meet floats as floats), then typed once for the whole
    table (``normalise``), so the table does not depend on how the runs were chunked.
    """
    paths = list(committed_parts(study).values())
    if not paths:
        raise FileNotFoundError(f"no committed runs under {Path(study) / ROWS}")
    groups = []
    for i in range(0, len(paths), JOIN_PARTS):  # a study's parts a group at a time: see JOIN_PARTS
        tables = [pq.read_table(path) for path in paths[i : i + JOIN_PARTS]]
        groups.append(pa.concat_tables(tables, promote_options="permissive").combine_chunks())
    table = pa.concat_tables(groups, promote_options="permissive")
    return normalise(table.to_pandas())


def has_table(root: Path) -> bool:
    """Whether ``root`` holds a study made by the study runner (a tidy table or row parts)."""
    return (Path(root) / RUNS_PARQUET).exists() or bool(committed_parts(root))


def read_runs(root: str | Path) -> pd.DataFrame:
    """A study's tidy table: ``runs.parquet`` if written, else its committed row parts."""
    root = Path(root)
    if (root / RUNS_PARQUET).exists():
        return pd.read_parquet(root / RUNS_PARQUET)
    return read_rows(root)


def read_dataset(root: str | Path, name: str, scenarios: Iterable[str] | None = None):
    """A study's dataset (``timeseries`` or ``journeys``) as one frame, optionally filtered."""
    path = Path(root) / name
    filters = [(PARTITION, "in", sorted(set(scenarios)))] if scenarios is not None else None
    return pd.read_parquet(path, filters=filters)
