"""The CRM export: the model's journeys as a client's CSV, read back, and its statistics.

A statistic named like a KPI must have that KPI's definition exactly: on a baseline run, the
export's statistic equals the run's summary.json value (same events, same warm-up window).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim import export as ex
from sim.kpis import KPIS
from sim.params import ConfigError
from sim.runner import run


@pytest.fixture(scope="module")
def baseline():
    cfg = sim.load_config(["org=small", "days=320", "warmup_days=60", "record_journeys=true"])
    return run(cfg)


@pytest.fixture(scope="module")
def csv_text(baseline, tmp_path_factory):
    path = ex.write_export(baseline.journeys, tmp_path_factory.mktemp("e") / "export.csv")
    return path.read_text()


def _window(result) -> ex.Window:
    cfg = result.config
    return ex.Window(
        cfg.warmup_days, cfg.days, cfg.org.contract_days, cfg.behaviour.mql_expiry_days
    )


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)


def test_statistics_named_like_a_kpi_equal_the_kpi(baseline):
    named = [s for s in ex.STATISTICS.values() if s.kpi]
    assert len(named) >= 8
    got = ex.values(ex.journey_frame(baseline.journeys), _window(baseline))
    for stat in named:
        want = baseline.summary[stat.name]
        assert _same(got[stat.name], float(want)), (stat.name, got[stat.name], want)


def test_the_window_is_what_makes_them_equal(baseline):
    """Counting the warm-up days too gives other values: the window is part of the definition."""
    w = _window(baseline)
    everything = ex.Window(0, w.end, w.contract_days, w.mql_expiry_days)
    frame = ex.journey_frame(baseline.journeys)
    assert ex.values(frame, everything, ["win_rate"]) != ex.values(frame, w, ["win_rate"])


def test_csv_round_trip_keeps_every_day_and_outcome(baseline, tmp_path):
    path = ex.write_export(baseline.journeys, tmp_path / "e.csv")
    back = ex.read_export(path)
    direct = ex.journey_frame(baseline.journeys)
    assert back.rows == len(direct) and not back.skipped and not back.missing
    for col in (*ex.DAYS, "outcome", "source", "lead_id"):
        assert (back.frame[col].to_numpy() == direct[col].to_numpy()).all(), col
    np.testing.assert_allclose(back.frame["amount"], direct["amount"], atol=0.005)  # cents
    assert back.end_day == baseline.config.days


def test_calendar_dates_skip_weekends(baseline, tmp_path):
    path = ex.write_export(baseline.journeys, tmp_path / "e.csv", start="2024-01-05")  # a Friday
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    created = pd.to_datetime(table["created_date"])
    assert created.min() == pd.Timestamp("2024-01-05")
    assert (created.dt.day_of_week < 5).all()
    second = ex.journey_frame(baseline.journeys)["created"] == 2
    assert set(created[second.to_numpy()]) == {pd.Timestamp("2024-01-08")}  # Monday


# --- structural faults: one line, ConfigError --------------------------------------------------


def _write(tmp_path, text: str, name: str = "e.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("column", ex.REQUIRED)
def test_a_missing_required_column_is_refused(csv_text, tmp_path, column):
    table = pd.read_csv(pd.io.common.StringIO(csv_text), dtype=str, keep_default_na=False)
    path = tmp_path / "e.csv"
    table.drop(columns=column).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=rf"no column '{column}'; required: "):
        ex.read_export(path)


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="the file is empty"):
        ex.read_export(_write(tmp_path, ""))
    with pytest.raises(ConfigError, match="a header and no leads"):
        ex.read_export(_write(tmp_path, ",".join(ex.COLUMNS) + "\n"))


def test_a_file_too_small_to_fit_is_refused(csv_text, tmp_path):
    ten = "\n".join(csv_text.splitlines()[:11]) + "\n"
    with pytest.raises(ConfigError, match=r"10 usable leads; at least 200"):
        ex.read_export(_write(tmp_path, ten))


def test_an_unreadable_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        ex.read_export(tmp_path / "nope.csv")
    with pytest.raises(ConfigError, match="not a readable CSV"):
        ex.read_export(_binary(tmp_path))
    with pytest.raises(ConfigError, match="is a directory"):
        ex.read_export(tmp_path)


def _binary(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"lead_id,created_date\n\xff\xfe\x00\x81\n")
    return path


def test_optional_columns_may_be_missing(csv_text, tmp_path):
    table = pd.read_csv(pd.io.common.StringIO(csv_text), dtype=str, keep_default_na=False)
    path = tmp_path / "e.csv"
    table.drop(columns=["churn_date", "amount"]).to_csv(path, index=False)
    export = ex.read_export(path)
    assert export.missing == ("amount", "churn_date")
    stats = ex.statistics(export, ex.Window(50, export.end_day, 250, 10)).set_index("statistic")
    assert stats.loc["retention_12m", "missing_column"] == "churn_date"
    assert math.isnan(stats.loc["retention_12m", "value"])
    assert stats.loc["win_rate", "missing_column"] == ""


# --- row faults: skipped and counted -----------------------------------------------------------


def _damage(csv_text, tmp_path, edits):
    table = pd.read_csv(pd.io.common.StringIO(csv_text), dtype=str, keep_default_na=False)
    for row, column, value in edits:
        table.loc[row, column] = value
    path = tmp_path / "e.csv"
    table.to_csv(path, index=False)
    return path, len(table)


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("mql_date", "31/02/2024", "unparsable mql_date"),
        ("mql_date", "2024-02-31", "unparsable mql_date"),
        ("created_date", "soon", "unparsable created_date"),
        ("created_date", "", "empty created_date"),
        ("sql_date", "2000-01-03", "sql_date before created_date"),
        ("outcome", "maybe", "unknown outcome"),
        ("source", "partner", "unknown source"),
        ("amount", "lots", "unparsable or negative amount"),
    ],
)
def test_a_row_fault_skips_the_row_and_says_where(csv_text, tmp_path, column, value, reason):
    path, n = _damage(csv_text, tmp_path, [(3, column, value), (7, column, value)])
    export = ex.read_export(path)
    assert export.rows == n and len(export.frame) == n - 2
    (found,) = [k for k in export.skipped if k.startswith(reason)]
    assert export.skipped[found] == [5, 9]  # file lines: header is line 1, row 0 is line 2
    assert export.skipped_lines()[0].startswith(f"2 row(s) skipped: {reason}")


def test_timestamps_count_on_the_day_they_name(csv_text, tmp_path):
    table = pd.read_csv(pd.io.common.StringIO(csv_text), dtype=str, keep_default_na=False)
    plain = ex.read_export(_damage(csv_text, tmp_path, [])[0]).frame
    stamps = [(0, "created_date", table.loc[0, "created_date"] + "T23:59:00.000+0000")]
    stamps += [(1, "created_date", table.loc[1, "created_date"] + " 08:00:00-05:00")]
    stamped = ex.read_export(_damage(csv_text, tmp_path, stamps)[0])
    assert not stamped.skipped
    assert (stamped.frame["created"] == plain["created"]).all()


def test_a_duplicate_lead_id_is_a_row_fault(csv_text, tmp_path):
    table = pd.read_csv(pd.io.common.StringIO(csv_text), dtype=str, keep_default_na=False)
    path, _ = _damage(csv_text, tmp_path, [(4, "lead_id", table.loc[2, "lead_id"])])
    assert ex.read_export(path).skipped == {"duplicate lead_id": [6]}


def test_more_than_a_fifth_of_rows_faulty_is_structural(csv_text, tmp_path):
    table = pd.read_csv(pd.io.common.StringIO(csv_text), dtype=str, keep_default_na=False)
    bad = int(len(table) * 0.25)
    path, _ = _damage(csv_text, tmp_path, [(i, "outcome", "??") for i in range(bad)])
    with pytest.raises(ConfigError, match=rf"{bad} of {len(table)} rows are faulty"):
        ex.read_export(path)
    few = int(len(table) * 0.15)
    path, _ = _damage(csv_text, tmp_path, [(i, "outcome", "??") for i in range(few)])
    assert len(ex.read_export(path).frame) == len(table) - few


# --- the team file -----------------------------------------------------------------------------


def test_team_file_keys(tmp_path):
    path = _write(tmp_path, "n_reps: 5\nn_marketers: 2\n", "team.yaml")
    assert ex.read_team(path, {"contract_days": 200}) == {
        "n_reps": 5,
        "n_marketers": 2,
        "contract_days": 200,
    }
    with pytest.raises(ConfigError, match=r"team\.deal_value_mean: not a team key; allowed"):
        ex.read_team(_write(tmp_path, "deal_value_mean: 5\n", "t.yaml"))
    with pytest.raises(ConfigError, match=r"org\.n_reps = -1"):
        ex.read_team(_write(tmp_path, "n_reps: -1\n", "t.yaml"))
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        ex.read_team(_write(tmp_path, "n_reps: [1\n", "t.yaml"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        ex.read_team(_write(tmp_path, "- 1\n", "t.yaml"))
    with pytest.raises(ConfigError, match="no such file"):
        ex.read_team(tmp_path / "none.yaml")


# --- intervals ---------------------------------------------------------------------------------


def test_intervals_contain_the_value_and_are_exact_for_rates(baseline):
    w = _window(baseline)
    stats = ex.statistics(ex.journey_frame(baseline.journeys), w)
    finite = stats.dropna(subset=["value"])
    assert (finite.lo <= finite.value).all() and (finite.value <= finite.hi).all()
    row = stats.set_index("statistic").loc["win_rate"]
    k, n = ex.STATISTICS["win_rate"].compute(ex.journey_frame(baseline.journeys), w)
    from scipy.stats import beta

    assert math.isclose(row.lo, beta.ppf(0.025, k, n - k + 1), rel_tol=1e-9)
    assert set(stats.statistic[stats.kpi]) <= set(KPIS)
