import dataclasses

import pytest
import yaml

from sim.params import (
    CAUSES,
    BehaviourParams,
    ConfigError,
    Funnel,
    OrgParams,
    SimConfig,
    build_config,
    leaf_names,
)
from sim.tactics import make_tactic, tactic_class, tactic_names
from tests.conftest import ROOT


def test_defaults_are_valid():
    cfg = build_config()
    assert isinstance(cfg, SimConfig)
    assert cfg.scenario.funnel is Funnel.separate


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"n_reps": -1}, "org.n_reps = -1: must be in [0, 50000]"),
        ({"n_marketers": 0}, "org.n_marketers = 0: must be in [1, 10000]"),
        ({"rep_hours_per_day": 0.0}, "org.rep_hours_per_day = 0.0: must be in (0, 24]"),
        ({"contact_rate": 1.5}, "behaviour.contact_rate = 1.5: must be in [0, 1]"),
        ({"win_base": -0.1}, "behaviour.win_base = -0.1: must be in [0, 1]"),
        ({"n_reps": 2.5}, "org.n_reps = 2.5: must be a whole number"),
        ({"n_reps": "many"}, "org.n_reps = 'many': must be a whole number"),
        (
            {"warmup_days": 500, "days": 500},
            "warmup_days = 500: must be a whole number in [0, days)",
        ),
        ({"seed": -4}, "seed = -4"),
        ({"n_reps": 0}, "org.n_reps = 0: at least one rep is needed"),
        ({"funnel": "merged"}, "scenario.funnel = 'merged': must be one of separate, combined"),
        ({"tactics": ["bogus"]}, "scenario.tactics.bogus: unknown tactic"),
        (
            {"tactics": {"liaison": {"n_liason": 2}}},
            "scenario.tactics.liaison.n_liason: unknown parameter",
        ),
        ({"tactics": {"liaison": {"n_liaisons": -1}}}, "scenario.tactics.liaison.n_liaisons = -1"),
        ({"n_repz": 3}, "n_repz: unknown parameter"),
    ],
)
def test_bad_values_are_refused_with_the_key_and_the_rule(overrides, fragment):
    with pytest.raises(ConfigError) as err:
        build_config(**overrides)
    assert fragment in str(err.value)


def test_unknown_nested_key_is_refused():
    with pytest.raises(ConfigError, match=r"org.n_repz: unknown parameter; allowed keys are"):
        build_config({"org": {"n_repz": 3}})
    with pytest.raises(ConfigError, match=r"colour: unknown key"):
        build_config({"colour": "blue"})


def test_zero_reps_is_allowed_without_leads():
    cfg = build_config(n_reps=0, inbound_leads_per_day=0.0)
    assert cfg.org.n_reps == 0


def test_flat_names_are_unique_across_sections():
    names = [
        f.name
        for cls in (OrgParams, BehaviourParams)
        for f in dataclasses.fields(cls)
        if f.name != "name"
    ]
    assert len(names) == len(set(names))
    assert set(leaf_names()) == set(names)


def test_every_parameter_declares_its_meaning():
    tactics = [tactic_class(n) for n in tactic_names()]
    for cls in (OrgParams, BehaviourParams, *tactics):
        for f in dataclasses.fields(cls):
            if f.name != "name":
                assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no doc"


def test_default_org_yaml_matches_the_schema_defaults():
    data = yaml.safe_load((ROOT / "conf/org/default.yaml").read_text())
    # named by its file; the causes of misalignment are left out, so off (their defaults)
    causes = {c: getattr(OrgParams(), c) for c in CAUSES}
    assert {"name": "default", **data, **causes} == dataclasses.asdict(OrgParams())


@pytest.mark.parametrize("name", tactic_names())
def test_tactic_yaml_matches_the_tactic_defaults(name):
    data = yaml.safe_load((ROOT / f"conf/tactic/{name}.yaml").read_text())
    defaults = dataclasses.asdict(tactic_class(name)())
    assert data == {**defaults, "switched_off": list(defaults["switched_off"])}
    assert make_tactic(name, data) == tactic_class(name)()
