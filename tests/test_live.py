"""The live view's engine without a browser: controls to configs, two models side by side."""

import dataclasses
import math
import socket

import pandas as pd
import pytest

import sim
from sim import live
from sim.effects import EFFECT_KPIS
from sim.kpis import KPIS
from sim.model import FunnelModel
from sim.params import ConfigError
from sim.space import ExperimentSpace
from sim.tactics import CONTRACT_LEVERS, REGISTRY, tactic_names
from sim.view import main as view_main
from sim.view import settings_from
from tests.conftest import run_module

SHORT = ("warmup_days=40",)
SMALL = {"org": "small", "seed": 3, "days": 120, "extra": SHORT}


def test_the_controls_come_from_the_registries():
    levers = live.tactic_levers()
    assert list(levers) == tactic_names()  # a new tactic gets its switch without editing
    for name, (switch, *strengths) in levers.items():
        assert switch.key == f"scenario.tactics.{name}" and switch.kind == "bool"
        assert {lv.name for lv in strengths} == set(REGISTRY[name].levers) | CONTRACT_LEVERS
    numbers = {o.name for o in live.org_numbers()}
    assert numbers == {o.name for o in ExperimentSpace.organisation() if o.kind in ("int", "float")}
    assert "full_alignment" in live.choices("scenario") and "small" in live.choices("org")
    model = FunnelModel(days=2, warmup_days=1, rng=1)
    model.run()
    for shown in live.SHOWN:  # every series drawn is a DataCollector column (or revenue to date)
        assert shown.column in live.frame(model).columns


@pytest.mark.parametrize("scenario", ["baseline", "liaison", "full_alignment"])
def test_a_scenario_with_its_own_switches_is_its_file(scenario):
    tactics = live.scenario_switches(scenario)
    controls = live.Controls(scenario=scenario, tactics=tactics, **SMALL)
    assert controls.scenario_overrides() == [f"scenario={scenario}"]
    base, chosen = controls.configs()
    expected = sim.load_config([f"scenario={scenario}", *controls.common()])
    assert chosen == expected and chosen.scenario.name == scenario
    assert base.scenario.name == "baseline" and not base.scenario.tactics
    assert (base.seed, base.days, base.org) == (chosen.seed, chosen.days, chosen.org)


def test_flipping_tactics_and_levers_changes_only_the_chosen_model():
    tactics = live.scenario_switches("liaison")
    tactics = {
        "liaison": {**tactics["liaison"], "n_liaisons": 3},
        "data_sharing": {},  # switched on: not in the liaison scenario's file
        "combined_funnel": {},
    }
    controls = live.Controls(
        scenario="liaison", tactics=tactics, org_numbers={"n_reps": 7}, **SMALL
    )
    base, chosen = controls.configs()
    assert set(chosen.scenario.tactics) == {"liaison", "data_sharing", "combined_funnel"}
    assert chosen.scenario.tactic_params()["liaison"].n_liaisons == 3
    assert chosen.scenario.funnel.value == "combined"
    assert chosen.scenario.name.startswith("liaison~")  # labelled as on the command line
    assert base.org.n_reps == chosen.org.n_reps == 7
    assert base == sim.load_config(["scenario=baseline", *controls.common()])
    # the data-sharing tactic switched on here has its conf/tactic file's values
    expected = sim.load_config(["scenario=data_sharing", *controls.common()])
    assert (
        chosen.scenario.tactic_params()["data_sharing"]
        == (expected.scenario.tactic_params()["data_sharing"])
    )
    off = dataclasses.replace(controls, tactics={})  # every tactic off
    assert not off.configs()[1].scenario.tactics
    liaison = live.tactic_file_levers("liaison")  # switched on: as conf/tactic/liaison.yaml
    on = dataclasses.replace(controls, scenario="baseline", tactics={"liaison": liaison})
    assert on.scenario_overrides() == [
        "scenario=baseline",
        "+tactic@scenario.tactics.liaison=liaison",
    ]
    for c in (controls, off, on):  # the printed command runs the chosen model's config
        assert sim.load_config(c.command().split()[3:]) == c.configs()[1]


def test_bad_controls_are_one_line_naming_the_key():
    with pytest.raises(ConfigError, match=r"^org.n_reps = -1"):
        live.Controls(org_numbers={"n_reps": -1}).configs()
    with pytest.raises(ConfigError, match="n_liaisons"):
        live.Controls(scenario="liaison", tactics={"liaison": {"n_liaisons": -2}}).configs()


def test_stepping_side_by_side_gives_the_same_runs_as_two_separate_ones():
    tactics = live.scenario_switches("full_alignment")
    controls = live.Controls(scenario="full_alignment", tactics=tactics, **SMALL)
    base_cfg, chosen_cfg = controls.configs()
    pair = live.Pair(base_cfg, chosen_cfg)
    assert pair.day == 0 and pair.frames()["baseline"].empty
    pair.step(1)
    pair.step(29)
    mid = pair.frames()
    pair.run_to_end()
    assert pair.done and pair.day == 120
    pair.step(5)  # nothing past the run length
    assert pair.day == 120
    for role, cfg in (("baseline", base_cfg), ("chosen", chosen_cfg)):
        alone = FunnelModel(cfg)
        alone.run()
        pd.testing.assert_frame_equal(pair.frames()[role], live.frame(alone))
        pd.testing.assert_frame_equal(mid[role], live.frame(alone).iloc[:30])
        assert pair.frames()[role]["day"].tolist() == list(range(1, 121))
    b, c = (live.latest(pair.frames()[r]) for r in ("baseline", "chosen"))
    assert b["n_lead"] + b["n_mql"] > 0
    assert any(b[s.column] != c[s.column] for s in live.SHOWN)  # the tactics did something
    # revenue to date is the collected days' bookings and renewals, summed
    df = pair.frames()["chosen"]
    assert df["revenue_to_date"].iloc[-1] == pytest.approx(
        (df["revenue"] + df["recurring_revenue"]).sum()
    )
    # the rates are the registry's KPIs measured so far: on the last day, the summary's
    summary = pair.chosen.kpis.summary()
    for name in ("win_rate", "mql_follow_up_rate"):
        assert c[name] == pytest.approx(summary[name], nan_ok=True)


def test_the_pair_refuses_models_that_do_not_share_a_market():
    base, chosen = live.Controls(**SMALL).configs()
    with pytest.raises(ConfigError, match="seed"):
        live.Pair(base, sim.build_config(chosen, seed=4))


def test_shown_values_are_formatted_from_the_registry():
    win = next(s for s in live.SHOWN if s.column == "win_rate")
    assert win.fmt == KPIS["win_rate"].fmt
    assert win.format(0.25) == "25.0%" and win.format(math.nan) == "n/a"
    assert win.difference(0.25, 0.34) == "+9.0 pts"
    assert live.REVENUE_TO_DATE.difference(1000.0, 250.0) == "-750"
    assert live.REVENUE_TO_DATE.difference(None, 1.0) == "n/a"


def test_the_paired_effect_over_replicate_seeds_is_the_comparisons():
    tactics = live.scenario_switches("data_sharing")
    controls = live.Controls(scenario="data_sharing", tactics=tactics, **SMALL)
    base, chosen = controls.configs()
    seen = []
    effects = live.replicate_effects(
        base, chosen, 2, n_jobs=1, progress=lambda d, t: seen.append(d)
    )
    assert seen == [1, 2, 3, 4]
    assert set(effects.kpi) == set(EFFECT_KPIS) and set(effects.scenario) == {"data_sharing"}
    revenue = effects.set_index("kpi").loc["revenue_per_year"]
    assert revenue.n == 2
    alone = [sim.run(sim.build_config(base, seed=s)).summary["revenue_per_year"] for s in (3, 4)]
    assert revenue.baseline_mean == pytest.approx(sum(alone) / 2)
    assert live.replicate_effects(base, base, 2, n_jobs=1).empty  # the baseline against itself
    with pytest.raises(ConfigError, match="replicates"):
        live.replicate_effects(base, chosen, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["org=nonesuch"], "org=nonesuch: no such org"),
        (["scenario=nonesuch"], "scenario=nonesuch: no such scenario"),
        (["replicates=1"], "replicates=1: must be at least 2"),
        (["port=70000"], "port=70000: must be in [1, 65535]"),
        (["days=0"], "days = 0"),
        (["seed=-1"], "seed=-1"),
        (["org.n_reps=-3"], "org.n_reps = -3"),
        (["replicates=ten"], "replicates=ten: must be a int"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args, message, capsys):
    assert view_main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1


def test_a_busy_port_is_refused_before_serving(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert settings_from([f"port={port}"]) == 2
    assert f"port={port}: cannot listen there" in capsys.readouterr().err


def test_the_real_entry_point_refuses_bad_input_and_prints_help():
    bad = run_module("sim.view", "scenario=nonesuch", timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("error: scenario=nonesuch") and bad.stderr.count("\n") == 1
    helped = run_module("sim.view", "--help", timeout=120)
    assert helped.returncode == 0 and "python -m sim.view" in helped.stdout
