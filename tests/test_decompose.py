"""The effect decomposition: its program end to end, its arithmetic, its refusals, its report."""

import json

import numpy as np
import pandas as pd
import pytest

import sim
from experiments.decompose import main as decompose_main
from sim import decomposition as dec
from sim.compare import aggregate
from sim.io import write_outputs
from sim.tactics import tactic_class
from tests.conftest import run_module

SMALL = ["org=small", "days=150", "warmup_days=25"]
TACTICS = ["data_sharing", "lead_validation"]  # several mechanisms, and a single one


@pytest.fixture(scope="module")
def decomposed(tmp_path_factory):
    """One decomposition made through the real entry point, shared by the tests below."""
    out = tmp_path_factory.mktemp("decomp") / "d"
    proc = run_module(
        "experiments.decompose",
        *SMALL,
        "replicates=3",
        f"tactics={','.join(TACTICS)}",
        f"hydra.run.dir={out}",
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_the_program_writes_the_table_from_each_tactics_mechanisms(decomposed):
    out, proc = decomposed
    table = pd.read_csv(out / dec.TABLE)
    for column in ("tactic", "mechanism", "effect_alone", "effect_without", "lo95", "hi95"):
        assert column in table, column
    assert list(table.columns) == dec.COLUMNS
    for tactic in TACTICS:  # one row per mechanism the class declares, in its order
        rows = table.loc[table.tactic == tactic]
        assert list(rows.mechanism) == list(tactic_class(tactic).mechanisms)
        assert rows.full.nunique() == 1 and rows.interaction.nunique() == 1
    assert (table.n == 3).all()
    np.testing.assert_allclose(table.lo95, table.alone_lo95)
    np.testing.assert_allclose(table.hi95, table.alone_hi95)
    assert (
        (table.alone_lo95 <= table.effect_alone) & (table.effect_alone <= table.alone_hi95)
    ).all()
    # switching a mechanism off changes the effect: data sharing without its re-keying
    # saving is not data sharing in full
    ds = table.loc[table.tactic == "data_sharing"].set_index("mechanism")
    assert ds.loc["rekeying", "effect_without"] != pytest.approx(ds.loc["rekeying", "full"])
    assert not np.allclose(ds.effect_alone, ds.full)
    # a tactic with one mechanism: alone is the full tactic (run once); without it, the gate
    # checks nothing, but the tactic still takes its hours and ramps up (the tactic contract,
    # issue 17: adopting it costs meeting time whatever its mechanisms do), so "without" is
    # the effect of those hours, not exactly nothing
    lv = table.loc[table.tactic == "lead_validation"].iloc[0]
    assert lv.effect_alone == lv.full
    assert lv.interaction == pytest.approx(0.0, abs=1e-12)
    runs = pd.read_csv(out / dec.RUNS)
    gate_off = runs.loc[runs.switched_off.fillna("").str.contains("lead_validation:gate")]
    assert len(gate_off) == 3 and (gate_off.validation_blocked == 0).all()
    assert lv.effect_without != pytest.approx(lv.full)
    # the record says where it came from
    record = json.loads((out / dec.RECORD).read_text())
    assert record["org"] == "small" and record["kpi"] == "revenue_per_year"
    assert record["seeds"] == [1, 2, 3] and record["replicates"] == 3
    assert record["version"] == sim.__version__
    assert {"source_digest", "settings_hash", "config_hash", "created"} <= set(record)
    # identical configs ran once: lead validation's "gate alone" is its full scenario
    runs = pd.read_csv(out / dec.RUNS)
    n_variants = 1 + sum(1 + 2 * len(tactic_class(t).mechanisms) for t in TACTICS)
    assert len(runs) == 3 * (n_variants - 1)
    for suffix in (".png", ".svg"):
        assert (out / f"{dec.FIGURE}{suffix}").stat().st_size > 0
    assert "runs" in proc.stderr  # progress went to stderr
    assert "interaction" in proc.stdout


def test_interaction_is_full_minus_the_sum_of_the_mechanisms_alone():
    rng = np.random.default_rng(0)
    seeds = range(8)
    base = 100 + rng.normal(0, 10, len(seeds))
    plan = dec.variants("t", ["a", "b", "c"])
    level = {"t": 1.30, "t~alone-a": 1.10, "t~alone-b": 1.05, "t~alone-c": 1.02}
    rows = [{"variant": "baseline", "seed": s, "k": b} for s, b in zip(seeds, base, strict=True)]
    for v in plan:
        factor = level.get(v.label, 1.2)
        noise = rng.normal(0, 2, len(seeds))
        rows += [
            {"variant": v.label, "seed": s, "k": b * factor + e}
            for s, b, e in zip(seeds, base, noise, strict=True)
        ]
    runs = pd.DataFrame(rows)
    table = dec.decomposition_table(runs, plan, "k")
    assert list(table.mechanism) == ["a", "b", "c"]
    expected = table.full.iloc[0] - table.effect_alone.sum()
    assert table.interaction.iloc[0] == pytest.approx(expected, abs=1e-12)
    mean = runs.groupby("variant").k.mean()
    rel = mean / mean["baseline"] - 1
    assert table.full.iloc[0] == pytest.approx(rel["t"])
    assert table.effect_alone.tolist() == pytest.approx(
        [rel["t~alone-a"], rel["t~alone-b"], rel["t~alone-c"]]
    )
    assert table.interaction_lo95.iloc[0] < expected < table.interaction_hi95.iloc[0]


def test_variants_switch_off_the_others_or_the_one():
    plan = {v.label: v for v in dec.variants("t", ["a", "b"], already_off=("z",))}
    assert plan["t"].switched_off == ("z",)
    assert plan["t~alone-a"].switched_off == ("z", "b")
    assert plan["t~without-a"].switched_off == ("z", "a")


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["tactics=nope"], "tactics=nope"),
        (["replicates=1"], "replicates=1"),
        (["kpi=profit"], "kpi=profit"),
        (["seed_base=-1"], "seed_base=-1"),
        (["org=nope"], "org=nope"),
        (["org.n_reps=-3"], "org.n_reps"),
        (["seed=4"], "seed=4"),
        (["scenario.tactics.liaison.n_liaisons=3"], "scenario.tactics.liaison"),
        (["days=200,300"], "days=200,300"),
        (["replicates=many"], "replicates=many"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_nothing_is_written(
    args, key, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    status = decompose_main([*SMALL, *args, "hydra.run.dir=out"])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert key in err
    assert list(tmp_path.iterdir()) == []


def test_bad_input_through_the_entry_point_and_no_overwrite(decomposed, tmp_path):
    proc = run_module(
        "experiments.decompose", *SMALL, "tactics=nope", f"hydra.run.dir={tmp_path}/x"
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: tactics=nope") and "data_sharing" in proc.stderr
    assert not (tmp_path / "x").exists()
    out, _ = decomposed
    before = (out / dec.TABLE).read_bytes()
    status = decompose_main([*SMALL, "tactics=lead_validation", f"hydra.run.dir={out}"])
    assert status == 2
    assert (out / dec.TABLE).read_bytes() == before


@pytest.fixture(scope="module")
def comparison_runs(tmp_path_factory):
    """A tiny comparison written as python -m sim writes it, with the decomposition's setup."""
    root = tmp_path_factory.mktemp("cmp")
    for name in ("baseline", "data_sharing"):
        for seed in (1, 2):
            cfg = sim.load_config([f"scenario={name}", f"seed={seed}", *SMALL])
            write_outputs(sim.run(cfg), root / "runs" / f"{name}_seed{seed}")
    return root


def test_the_report_embeds_the_latest_decomposition_of_its_org(
    decomposed, comparison_runs, tmp_path
):
    out, _ = decomposed
    root = tmp_path / "decompositions"
    older = root / "older"
    older.mkdir(parents=True)
    for name in (dec.TABLE, f"{dec.FIGURE}.png"):
        (older / name).write_bytes((out / name).read_bytes())
    record = json.loads((out / dec.RECORD).read_text())
    (older / dec.RECORD).write_text(json.dumps({**record, "created": "2000-01-01T00:00:00"}))
    other = root / "other_org"
    other.mkdir()
    (other / dec.TABLE).write_bytes((out / dec.TABLE).read_bytes())
    (other / dec.RECORD).write_text(json.dumps({**record, "org": "default", "created": "2999"}))
    newest = root / "newest"
    newest.mkdir()
    for name in (dec.TABLE, dec.RECORD, f"{dec.FIGURE}.png", f"{dec.FIGURE}.svg"):
        (newest / name).write_bytes((out / name).read_bytes())
    assert dec.find_latest("small", root).path == newest

    report_dir = tmp_path / "report"
    aggregate(comparison_runs / "runs", report_dir, decompositions=root)
    md = (report_dir / "report.md").read_text()
    assert "Why each tactic works: effect decomposition" in md
    assert str(newest.name) in md and record["created"] in md
    assert f"model version {record['version']}" in md
    assert "same model version and settings" in md and "Caution" not in md
    assert "but on other seeds" in md  # the decomposition ran seeds 1-3, this comparison 1-2
    assert "interaction (full - sum alone)" in md and "rekeying" in md
    assert "figures/decomposition.png" in md
    assert (report_dir / "figures" / "decomposition.png").exists()
    assert "data:image/png;base64" in (report_dir / "report.html").read_text()


def test_the_report_says_when_the_decomposition_differs_or_is_missing(
    decomposed, comparison_runs, tmp_path
):
    out, _ = decomposed
    record = json.loads((out / dec.RECORD).read_text())
    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / dec.TABLE).write_bytes((out / dec.TABLE).read_bytes())
    (changed / dec.RECORD).write_text(
        json.dumps({**record, "days": 300, "version": "0.0.1", "source_digest": "abc"})
    )
    aggregate(comparison_runs / "runs", tmp_path / "r1", decomposition=changed)
    md = (tmp_path / "r1" / "report.md").read_text()
    assert "Caution: this decomposition was made with other settings" in md
    assert "days = 300 (this comparison: 150)" in md and "another model version" in md

    aggregate(comparison_runs / "runs", tmp_path / "r2", decompositions=tmp_path / "none")
    md = (tmp_path / "r2" / "report.md").read_text()
    assert "No effect decomposition of the 'small' organisation was found" in md
    assert "python -m experiments.decompose org=small days=150 warmup_days=25" in md


def test_compare_tactics_refuses_a_decomposition_that_is_not_one(tmp_path):
    from experiments.compare_tactics import main as compare_main

    status = compare_main([*SMALL, f"decomposition={tmp_path}", "replicates=2"])
    assert status == 2
    assert not any(tmp_path.iterdir())
