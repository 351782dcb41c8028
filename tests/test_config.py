"""Every config group composes into a valid config, and the scenario files say what they are."""

import pytest

import sim
from sim.params import ConfigError, Funnel
from sim.tactics import tactic_names
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
    assert set(cfg.scenario.tactics) == set(tactic_names())


def test_a_tactic_can_be_added_from_the_command_line():
    cfg = sim.load_config(
        ["+tactic@scenario.tactics.liaison=liaison", "scenario.tactics.liaison.n_liaisons=3"]
    )
    assert cfg.scenario.tactics["liaison"]["n_liaisons"] == 3


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("org.n_repz=3", "org.n_repz: unknown key; allowed keys are"),
        ("org.n_reps=-2", "org.n_reps = -2: must be in [0, 50000]"),
        ("behaviour.decay_floor=2", "behaviour.decay_floor = 2.0: must be in [0, 1]"),
        ("scenario=nope", "scenario=nope: no such scenario; choose one of: baseline"),
        ("org=nope", "org=nope: no such org; choose one of: default, large, misaligned, small"),
        ("scenario.funnel=merged", "expected one of [separate, combined]"),
        ("days=ten", "days=ten: Value 'ten' of type 'str' could not be converted to Integer"),
    ],
)
def test_bad_overrides_give_one_clear_message(override, fragment):
    with pytest.raises(ConfigError) as err:
        sim.load_config([override])
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


# Jobs of one sweep that share config-group choices reuse one composition (SweepComposer).
# Whatever the mix of group and value overrides, the result and the error must be Hydra's.
COMPOSER_JOBS = [
    [],
    ["seed=3", "days=40"],
    ["org=small", "org.n_reps=7"],
    ["org.n_reps=7", "org=small"],  # a value override before its group: still applied after
    ["scenario=liaison", "scenario.tactics.liaison.n_liaisons=3", "seed=2"],
    ["+tactic@scenario.tactics.liaison=liaison", "scenario.tactics.liaison.sla_days=4"],
    ["behaviour=default", "behaviour.contact_rate=0.5"],
    ["hydra.launcher.n_jobs=1", "seed=9"],
    ["policies.follow_up={_target_: sim.policies.FollowUpPolicy}"],
    ["~policies.threshold"],
]
COMPOSER_BAD_JOBS = [
    ["org.n_reps=abc"],
    ["org=small", "org.n_repz=3"],
    ["scenario.tactics.liaison.n_liaisons=2"],
    ["scenario=liaison", "scenario.tactics.liaison.n_liason=2"],
    ["foo=1"],
    ["+seed=3"],
    ["seed=1,2"],  # sweep syntax without -m: Hydra refuses it, on value keys too
    ["scenario.name=a,b"],
]


def _composed_or_error(compose, job):
    from omegaconf import OmegaConf

    try:
        return OmegaConf.to_container(compose(job), resolve=True)
    except ConfigError as exc:
        return ("error", str(exc))


def _checked(composer, job):
    from sim.config import config_errors

    with config_errors():
        return composer.compose(job)


def test_sweep_composer_gives_hydras_composition_and_errors():
    from sim.config import compose_raw, conf_composer

    composer = conf_composer()
    for job in COMPOSER_JOBS + COMPOSER_BAD_JOBS:
        fast = _composed_or_error(lambda j: _checked(composer, j), job)
        full = _composed_or_error(compose_raw, job)
        assert fast == full, job
        if job in COMPOSER_BAD_JOBS:
            assert fast[0] == "error", job
    # the group choices of the good jobs, composed once each
    assert len(composer._cache) < len(COMPOSER_JOBS)


def test_sweep_composer_jobs_do_not_share_state():
    from sim.config import conf_composer

    composer = conf_composer()
    a = composer.compose(["org.n_reps=7"])
    b = composer.compose(["seed=2"])
    assert a.org.n_reps == 7
    assert b.org.n_reps == sim.load_config([]).org.n_reps


def test_sweep_composer_composes_in_full_with_another_search_path(tmp_path):
    from sim.config import conf_composer

    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "foo.yaml").write_text("# @package _global_\nseed: 77\n")
    job = [f"hydra.searchpath=[file://{tmp_path}]", "+extra=foo"]
    assert conf_composer().compose(job).seed == 77


def test_sweep_syntax_in_a_single_run_says_to_add_m():
    from sim.config import validate_overrides

    with pytest.raises(
        ConfigError, match=r"^seed=1,2: a list of values; to sweep over them add -m"
    ):
        validate_overrides(["seed=1,2"], multirun=False)
