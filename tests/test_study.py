"""The study runner and its tidy outputs: one table per study, readable in one call."""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd
import pyarrow.dataset as ds
import pytest

import sim
from sim import tidy
from sim.batch import FAILED_RUNS, Backend, RunSpec, plan_chunks, run_study
from sim.kpis import KPIS
from sim.policies import FollowUpPolicy

TINY = ["org=small", "days=40", "warmup_days=10"]
SCENARIOS = ("baseline", "liaison", "full_alignment")


def _specs(*extra: str, seeds=(1, 2), journeys=False) -> list[RunSpec]:
    specs = []
    for scenario in SCENARIOS:
        cfg = sim.load_config(
            [*TINY, f"scenario={scenario}", *extra, f"record_journeys={str(journeys).lower()}"]
        )
        for seed in seeds:
            specs.append(RunSpec(dataclasses.replace(cfg, seed=seed), f"{scenario}_seed{seed}"))
    return specs


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A study with journeys on two local workers, in chunks that mix scenarios."""
    root = tmp_path_factory.mktemp("study")
    specs = _specs(journeys=True)
    done = run_study(specs, root, backend=Backend(n_jobs=2), chunk_size=4, progress=False)
    assert done.complete and done.ran == len(specs) and not done.failures
    return root, specs


def test_the_tidy_table_equals_the_per_run_summaries(study):
    root, specs = study
    runs = pd.read_parquet(root / tidy.RUNS_PARQUET)
    assert list(runs.run_id) == [s.run_id for s in specs]  # the specs' order
    for i, spec in enumerate(specs):
        row = runs.iloc[i]
        result = sim.run(spec.config)
        for name in KPIS:
            expected = result.summary[name]
            if expected is None or (isinstance(expected, float) and math.isnan(expected)):
                assert pd.isna(row[name]), name
            else:
                assert row[name] == pytest.approx(expected, rel=0, abs=0), name
        cfg = spec.config
        assert (row["scenario"], row["org"], row["seed"], row["draw"]) == (
            cfg.scenario.name,
            cfg.org.name,
            cfg.seed,
            0,
        )
        assert row["org.n_reps"] == cfg.org.n_reps
        assert row["behaviour.follow_up_hours"] == cfg.behaviour.follow_up_hours
        on = cfg.scenario.tactics
        assert row["tactics"] == ("+".join(sorted(on)) or "none")
        for name, tactic in cfg.scenario.tactic_params().items():
            for f in dataclasses.fields(tactic):
                value = getattr(tactic, f.name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    assert row[f"tactic.{name}.{f.name}"] == value
        off = [c for c in runs.columns if c.startswith("tactic.") and c.split(".")[1] not in on]
        assert all(pd.isna(row[c]) for c in off)


def test_the_table_has_every_declared_column_and_typed_strings(study):
    root, _ = study
    runs = pd.read_parquet(root / tidy.RUNS_PARQUET)
    assert list(runs.columns[: len(tidy.KEYS)]) == list(tidy.KEYS)
    assert set(tidy.input_fields()) <= set(runs.columns)
    assert set(KPIS) <= set(runs.columns)
    for col in ("run_id", "scenario", "org", "tactics", "funnel", "settings_hash"):
        assert isinstance(runs[col].dtype, pd.CategoricalDtype), col
    assert runs["tactic.liaison.n_liaisons"].dtype == "Int64"
    assert runs.settings_hash.nunique() == 1  # scenario and seed aside, the same settings
    csv = pd.read_csv(root / tidy.RUNS_CSV)
    assert len(csv) == len(runs) and not csv.tactics.isna().any()  # 'none', not ''


def test_pandas_pyarrow_and_duckdb_read_the_journeys_in_one_call(study):
    duckdb = pytest.importorskip("duckdb")
    root, specs = study
    path = root / tidy.JOURNEYS
    by_pandas = pd.read_parquet(path)
    by_arrow = ds.dataset(path, partitioning="hive").to_table()
    by_duckdb = duckdb.sql(
        f"select * from read_parquet('{path}/**/*.parquet', hive_partitioning=true)"
    ).df()
    expected = sum(len(sim.run(s.config).journeys) for s in specs)
    assert len(by_pandas) == by_arrow.num_rows == len(by_duckdb) == expected
    assert {"run_id", "draw", "seed", "scenario"} <= set(by_pandas.columns)
    assert set(by_duckdb.scenario) == set(SCENARIOS) == set(by_pandas.scenario.astype(str))
    # "never" is null, not -1: a difference of two days is right or missing
    assert by_pandas.sql_day.dtype == "Int64" and by_pandas.sql_day.isna().any()
    assert not (by_pandas.select_dtypes("Int64") == -1).any().any()
    assert ((by_pandas.sql_day - by_pandas.mql_day).dropna() >= 0).all()
    assert by_duckdb.scenario.notna().all()


def test_the_timeseries_dataset_holds_every_run_once(study):
    root, specs = study
    ts = pd.read_parquet(root / tidy.TIMESERIES)
    assert len(ts) == len(specs) * 40
    assert ts.groupby("run_id", observed=True).size().eq(40).all()


def test_reading_the_rows_a_group_of_parts_at_a_time_gives_the_same_table(study, monkeypatch):
    # The study's two parts: baselines with liaison runs (its columns set), then runs of
    # another scenario; read as one group, and each part its own group joined afterwards.
    root, _ = study
    assert len(tidy.committed_parts(root)) == 2
    whole = tidy.read_rows(root)
    monkeypatch.setattr(tidy, "JOIN_PARTS", 1)
    pd.testing.assert_frame_equal(tidy.read_rows(root), whole)


def test_a_resumed_study_runs_only_what_is_not_committed(tmp_path):
    specs = _specs(seeds=(1,))
    first = run_study(specs[:2], tmp_path, backend=Backend(n_jobs=1), progress=False)
    assert first.ran == 2 and first.complete  # complete for the specs it was given
    # a part written without its rows (a kill between the two) is removed, not read twice
    orphan = tmp_path / tidy.TIMESERIES / "scenario=baseline" / tidy.part_name(99)
    orphan.write_bytes(b"half")
    again = run_study(specs, tmp_path, backend=Backend(n_jobs=1), progress=False)
    assert (again.reused, again.ran) == (2, 1) and again.complete
    assert not orphan.exists()
    assert len(pd.read_parquet(tmp_path / tidy.TIMESERIES)) == 3 * 40


class Boom(FollowUpPolicy):
    """Fails on the tenth day."""

    def choose(self, rep, queue, n):
        if rep.model.day >= 10:
            raise RuntimeError("boom")
        return super().choose(rep, queue, n)


def test_a_failed_run_is_recorded_and_the_others_are_committed(tmp_path):
    good = _specs(seeds=(1,))
    bad_cfg = sim.load_config([*TINY, f"policies.follow_up._target_={__name__}.Boom"])
    specs = [*good, RunSpec(bad_cfg, "boom")]
    done = run_study(specs, tmp_path, backend=Backend(n_jobs=1), chunk_size=4, progress=False)
    assert [r for r, _ in done.failures] == ["boom"] and not done.complete
    assert "RuntimeError: boom" in (tmp_path / FAILED_RUNS).read_text()
    assert tidy.committed_ids(tmp_path) == {s.run_id for s in good}


def test_guided_chunks_shrink_to_single_runs():
    specs = list(range(100))
    chunks = plan_chunks(specs, workers=2)
    assert [x for c in chunks for x in c] == specs
    sizes = [len(c) for c in chunks]
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1 and sizes[0] <= 32
    assert [len(c) for c in plan_chunks(specs, 2, chunk_size=30)] == [30, 30, 30, 10]


def test_run_ids_must_be_unique(tmp_path):
    spec = _specs(seeds=(1,))[0]
    with pytest.raises(ValueError, match="given twice"):
        run_study([spec, spec], tmp_path, progress=False)


def test_the_launcher_settings_choose_the_study_runners_workers():
    from experiments.compare_tactics import backend_of

    assert backend_of(["hydra/launcher=basic"]).n_jobs == 1
    assert backend_of(["hydra.launcher.n_jobs=3"]) == Backend(n_jobs=3)
    assert backend_of([]).kind == "local"
    ray = backend_of(["hydra/launcher=ray", "hydra.launcher.ray.init.address=h:1"])
    assert ray.kind == "ray" and ray.ray_init["address"] == "h:1"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        (["hydra.launcher.batch_size=4"], "hydra.launcher.batch_size=4"),
        (["hydra.launcher.backend=threading"], "hydra.launcher.backend=threading"),
        (["+hydra.launcher.foo=1"], "hydra.launcher.foo=1"),
        (["hydra/launcher=ray", "+hydra.launcher.ray.bogus=1"], "hydra.launcher.ray.bogus=1"),
    ],
)
def test_launcher_settings_the_study_runner_ignores_are_refused(overrides, key):
    from experiments.compare_tactics import backend_of
    from sim.params import ConfigError

    with pytest.raises(ConfigError, match=rf"^{re.escape(key)}: .*does not use this setting"):
        backend_of(overrides)


def test_boolean_options_read_true_and_false():
    from experiments.common import split_args
    from sim.params import ConfigError

    opts, rest = split_args(["keep_runs=false", "x=1"], {"keep_runs": True})
    assert opts == {"keep_runs": False} and rest == ["x=1"]
    assert split_args(["keep_runs=true"], {"keep_runs": False})[0]["keep_runs"] is True
    with pytest.raises(ConfigError, match="must be true or false"):
        split_args(["keep_runs=maybe"], {"keep_runs": False})
