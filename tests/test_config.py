"""Every config group composes into a valid config, and the scenario files say what they are."""

import pytest

import sim
from sim.params import ConfigError, Funnel
from tests.conftest import ROOT

SCENARIO_FILES = sorted(p.stem for p in (ROOT / "conf/scenario").glob("*.yaml"))
ORG_FILES = sorted(p.stem for p in (ROOT / "conf/org").glob("*.yaml"))


def test_the_required_groups_exist():
    assert {
        "baseline",
        "combined_funnel",
        "liaison",
        "shared_goals",
        "lead_validation",
        "data_sharing",
        "full_alignment",
    } <= set(SCENARIO_FILES)
    assert {"default", "small", "large"} <= set(ORG_FILES)


@pytest.mark.parametrize("scenario", SCENARIO_FILES)
def test_every_scenario_composes(scenario):
    cfg = sim.load_config([f"scenario={scenario}"])
    assert cfg.scenario.name == scenario


@pytest.mark.parametrize("org", ORG_FILES)
def test_every_org_composes_and_runs(org):
    cfg = sim.load_config([f"org={org}", "days=30", "warmup_days=5"])
    assert cfg.org.name == org
    assert sim.run(cfg).summary["org"] == org


def test_full_alignment_has_every_tactic_and_a_combined_funnel():
    cfg = sim.load_config(["scenario=full_alignment"])
    assert cfg.scenario.funnel is Funnel.combined
    assert set(cfg.scenario.tactics) == {
        "liaison",
        "shared_goals",
        "lead_validation",
        "data_sharing",
    }


def test_a_tactic_can_be_added_from_the_command_line():
    cfg = sim.load_config(
        ["+tactic@scenario.tactics.liaison=liaison", "scenario.tactics.liaison.n_liaisons=3"]
    )
    assert cfg.scenario.tactics["liaison"]["n_liaisons"] == 3


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("org.n_repz=3", "org.n_repz: unknown key; allowed keys are"),
        ("org.n_reps=-2", "org.n_reps = -2: must be >= 0"),
        ("behaviour.decay_floor=2", "behaviour.decay_floor = 2.0: must be in [0, 1]"),
        ("scenario=nope", "scenario=nope: no such scenario; choose one of: baseline"),
        ("org=nope", "org=nope: no such org; choose one of: default, large, small"),
        ("scenario.funnel=merged", "expected one of [separate, combined]"),
        ("days=ten", "days=ten: Value 'ten' of type 'str' could not be converted to Integer"),
    ],
)
def test_bad_overrides_give_one_clear_message(override, fragment):
    with pytest.raises(ConfigError) as err:
        sim.load_config([override])
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)
