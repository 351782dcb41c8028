"""The declared experiment space (sim.space): sound ranges, levers apart, a good sample."""

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from experiments.calibrate import SPACE
from sim.params import BehaviourParams, build_config, config_dict
from sim.schema import ConfigError, param
from sim.space import ODD, ExperimentSpace, check_plausible, odd_table, tactic_uncertainties
from sim.tactics import (
    CONTRACT_FIELDS,
    CONTRACT_LEVERS,
    COST_FIELDS,
    REGISTRY,
    Tactic,
    is_declared,
    tactic_class,
    tactic_names,
)

ALL_TACTICS = tactic_names()


@pytest.fixture(scope="module")
def space() -> ExperimentSpace:
    return ExperimentSpace()


@pytest.fixture(scope="module")
def design(space):
    return space.sample(64, seed=3)


# --- the declarations ----------------------------------------------------------------------


def test_every_uncertainty_has_a_plausible_range_in_bounds_containing_its_default(space):
    uncertainties = space.uncertainties()
    assert len(uncertainties) > 40
    for u in uncertainties:
        assert u.low < u.high, u.key
        assert u.low <= u.default <= u.high, f"{u.key}: default {u.default} outside the range"
        if u.lo is not None:
            assert u.low > u.lo if u.lo_open else u.low >= u.lo, f"{u.key}: below its bound"
        if u.hi is not None:
            assert u.high <= u.hi, f"{u.key}: above its bound"
        assert u.source.strip(), f"{u.key}: no source"
        assert u.distribution in ("uniform", "triangular", "loguniform")
        assert u.kind in ("int", "float")


def test_every_behavioural_parameter_is_fitted_or_an_uncertainty(space):
    uncertain = {u.name for u in space.uncertainties() if u.tactic is None}
    fitted = {f.name for f in dataclasses.fields(BehaviourParams) if f.metadata.get("fitted")}
    assert fitted == set(SPACE)
    assert uncertain.isdisjoint(fitted)
    assert uncertain | fitted == {f.name for f in dataclasses.fields(BehaviourParams)}
    for f in dataclasses.fields(BehaviourParams):
        if f.name in fitted:
            assert not f.metadata.get("plausible"), f"{f.name}: fitted, yet a plausible range"


@pytest.mark.parametrize("name", ALL_TACTICS)
def test_every_tactic_parameter_is_a_lever_a_switch_or_an_uncertainty(space, name):
    cls = tactic_class(name)
    uncertain = {u.name for u in space.uncertainties([name]) if u.tactic == name}
    levers = {lv.name for lv in space.levers([name]) if lv.tactic == name}
    assert levers == set(cls.levers) | CONTRACT_LEVERS
    assert uncertain.isdisjoint(levers), "a lever is not an uncertainty"
    params = {f.name for f in dataclasses.fields(cls)}
    # the contract's costs (money, drawn by the portfolio) and its undeclared ramp-up and
    # hours (fixed at their configured values) are neither
    fixed = set(COST_FIELDS) | {
        n for n in CONTRACT_FIELDS if n not in CONTRACT_LEVERS and not is_declared(cls, n)
    }
    assert uncertain | levers | {"switched_off"} | fixed == params


def test_levers_are_not_uncertainties(space):
    keys = {u.key for u in space.uncertainties()}
    lever_keys = {lv.key for lv in space.levers()}
    assert keys.isdisjoint(lever_keys)
    assert "scenario.tactics.liaison.n_liaisons" in lever_keys
    assert "scenario.tactics.liaison" in lever_keys  # the tactic on or off
    assert "scenario.tactics.combined_funnel" in lever_keys  # the funnel is a tactic


def test_kpis_and_organisation_come_from_their_registries(space):
    assert "revenue_per_year" in [k.name for k in space.kpis()]
    assert all("effect" in k.roles for k in space.kpis("effect"))
    org = {o.key for o in space.organisation()}
    assert "org.n_reps" in org and not org & {u.key for u in space.uncertainties()}


def _field(**kwargs):
    @dataclass
    class Holder:
        x: float = param(**kwargs)

    return dataclasses.fields(Holder)[0]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"default": 0.5, "lo": 0.0, "hi": 1.0}, "no plausible range"),
        ({"default": 0.5, "plausible": ("uniform", 0.2, 0.8)}, "no source"),
        (
            {"default": 0.5, "hi": 1.0, "plausible": ("uniform", 0.2, 1.5), "source": "s"},
            "outside the validity bounds",
        ),
        (
            {"default": 0.5, "lo": 0.0, "plausible": ("uniform", -0.1, 0.8), "source": "s"},
            "outside the validity bounds",
        ),
        (
            {"default": 1.0, "lo": 0.0, "lo_open": True, "plausible": ("uniform", 0.0, 2.0)}
            | {"source": "s"},
            "outside the validity bounds",
        ),
        (
            {"default": 0.9, "plausible": ("uniform", 0.2, 0.8), "source": "s"},
            "does not contain the default",
        ),
        ({"default": 0.5, "plausible": ("normal", 0.5, 0.1), "source": "s"}, "must be"),
        ({"default": 0.5, "plausible": ("triangular", 0.2, 0.9, 0.8), "source": "s"}, "mode"),
        ({"default": 0.5, "plausible": ("loguniform", 0.0, 0.8), "source": "s"}, "> 0"),
        (
            {"default": 0.5, "plausible": ("uniform", 0.2, 0.8), "source": "s", "fitted": (0, 1)},
            "fitted",
        ),
    ],
)
def test_an_unsound_plausible_range_is_refused_naming_the_key(kwargs, says):
    with pytest.raises(ConfigError, match=rf"^behaviour\.x: .*{says}"):
        check_plausible("behaviour.x", _field(**kwargs))


def test_a_tactic_parameter_without_a_range_or_a_lever_is_refused():
    @dataclass
    class Bare(Tactic):
        name: ClassVar[str] = "bare"
        levers: ClassVar[frozenset[str]] = frozenset({"people"})
        people: int = param(1, lo=0)
        strength: float = param(0.1, lo=0.0)

    with pytest.raises(ConfigError, match=r"scenario\.tactics\.bare\.strength: no plausible"):
        tactic_uncertainties("bare", Bare)

    @dataclass
    class Typo(Tactic):
        name: ClassVar[str] = "typo"
        levers: ClassVar[frozenset[str]] = frozenset({"peple"})

    with pytest.raises(ConfigError, match=r"scenario\.tactics\.typo\.peple: named in"):
        tactic_uncertainties("typo", Typo)
    assert "bare" not in REGISTRY and "typo" not in REGISTRY


def test_the_odd_parameter_table_is_current():
    text = ODD.read_text(encoding="utf-8")
    assert odd_table(text) == text, (
        "docs/ODD.md's parameter table is out of date: run `python -m sim.space --odd`"
    )


def test_the_odd_table_shows_every_plausible_range(space):
    text = ODD.read_text(encoding="utf-8").split("## Parameter table", 1)[1]
    for u in space.uncertainties():
        assert f"`{u.name}`" in text and f"({u.describe()})" in text, u.key


# --- the sample ----------------------------------------------------------------------------


def test_draw_0_is_the_defaults_and_the_columns_are_the_uncertainties(space, design):
    assert list(design.columns) == [u.key for u in space.uncertainties()]
    assert list(design.index) == list(range(65)) and design.index.name == "draw"
    for u in space.uncertainties():
        assert design.loc[0, u.key] == u.default, u.key
    assert len(space.sample(0)) == 1


def test_the_sample_is_seeded(space, design):
    again = space.sample(64, seed=3)
    assert design.equals(again)
    assert not design.iloc[1:].equals(space.sample(64, seed=4).iloc[1:])
    sobol = space.sample(16, seed=3, method="sobol")
    assert sobol.equals(space.sample(16, seed=3, method="sobol"))


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_draws_lie_in_their_plausible_ranges_and_respect_int_kinds(space, method):
    frame = space.sample(64, seed=1, method=method).iloc[1:]
    for u in space.uncertainties():
        col = frame[u.key]
        assert col.min() >= u.low and col.max() <= u.high, u.key
        if u.kind == "int":
            assert col.dtype == np.int64, u.key
        else:
            assert col.dtype == np.float64 and col.nunique() == len(col), u.key


def test_a_latin_hypercube_fills_each_uniform_range(space):
    n = 50
    frame = space.sample(n, seed=11).iloc[1:]
    for u in space.uncertainties():
        if u.distribution != "uniform" or u.kind != "float":
            continue
        width = u.high - u.low
        col = frame[u.key]
        assert col.min() - u.low < width / n and u.high - col.max() < width / n, u.key
        slices = np.floor((col - u.low) / width * n).astype(int)
        assert sorted(slices) == list(range(n)), f"{u.key}: not one draw per slice"


def test_each_distribution_has_its_shape(space):
    frame = space.sample(400, seed=5).iloc[1:]
    by_key = {u.key: u for u in space.uncertainties()}
    tri = by_key["scenario.tactics.liaison.brief_hours"]  # triangular 0.15, 0.33, 0.75
    assert frame[tri.key].mean() == pytest.approx(sum(tri.values) / 3, rel=0.02)
    log = by_key["behaviour.feedback_learning"]  # log-uniform
    assert np.exp(np.log(frame[log.key]).mean()) == pytest.approx(
        np.sqrt(log.low * log.high), rel=0.03
    )
    days = by_key["behaviour.qualify_days"]  # discrete uniform 5..20
    assert set(frame[days.key]) == set(range(int(days.low), int(days.high) + 1))


def test_bad_sample_arguments_are_refused(space):
    with pytest.raises(ConfigError, match="method"):
        space.sample(4, method="grid")
    with pytest.raises(ConfigError, match="draws"):
        space.sample(-1)


# --- one draw's configuration --------------------------------------------------------------


def test_overrides_build_a_valid_config_for_each_draw(space, design):
    cfg = build_config(tactics=ALL_TACTICS)
    for draw in (1, 17, 64):
        row = design.loc[draw]
        out = space.overrides(row, cfg)
        out.check()
        assert out.behaviour.promise_noise == row["behaviour.promise_noise"]
        assert out.behaviour.qualify_days == row["behaviour.qualify_days"]
        assert isinstance(out.behaviour.qualify_days, int)
        tactics = out.scenario.tactic_params()
        assert tactics["liaison"].brief_hours == row["scenario.tactics.liaison.brief_hours"]
        assert tactics["liaison"].n_liaisons == 1  # a lever: untouched
        assert tactics["lead_validation"].noise == row["scenario.tactics.lead_validation.noise"]
        assert cfg.behaviour.promise_noise == BehaviourParams().promise_noise  # not changed


def test_overrides_leave_tactics_that_are_off_untouched(space, design):
    cfg = build_config(tactics={"liaison": {"n_liaisons": 2}}, seed=7)
    out = space.overrides(design.loc[5], cfg)
    assert list(out.scenario.tactics) == ["liaison"]
    assert out.scenario.tactic_params()["liaison"].n_liaisons == 2
    assert out.seed == 7
    baseline = space.overrides(design.loc[5], build_config())
    assert baseline.scenario.tactics == {}


def test_overrides_accept_tactic_instances(space, design):
    from sim.tactics.liaison import LiaisonTactic

    cfg = build_config(tactics={"liaison": LiaisonTactic(n_liaisons=3)})
    out = space.overrides(design.loc[2], cfg)
    liaison = out.scenario.tactic_params()["liaison"]
    assert liaison.n_liaisons == 3
    assert liaison.route_hours == design.loc[2, "scenario.tactics.liaison.route_hours"]


def test_draw_0_reproduces_each_scenario_config(space, design):
    import sim

    for scenario in ("baseline", "liaison", "full_alignment"):
        cfg = sim.load_config([f"scenario={scenario}"])
        assert config_dict(space.overrides(design.loc[0], cfg)) == config_dict(cfg), scenario


def test_draw_0_keeps_a_config_s_own_values_when_given_as_base(space):
    cfg = build_config(promise_noise=1.1, tactics={"liaison": {"brief_hours": 0.5}})
    frame = space.sample(4, seed=0, base=cfg)
    assert frame.loc[0, "behaviour.promise_noise"] == 1.1
    assert frame.loc[0, "scenario.tactics.liaison.brief_hours"] == 0.5
    assert _same(space.overrides(frame.loc[0], cfg), cfg)


def _same(a, b) -> bool:
    """Whether two configs run the same model (tactic specs compared as built)."""
    parts = ("org", "behaviour", "policies", "seed", "days", "warmup_days")
    return (
        all(getattr(a, p) == getattr(b, p) for p in parts)
        and a.scenario.funnel == b.scenario.funnel
        and a.scenario.tactic_params() == b.scenario.tactic_params()
    )


def test_overrides_refuse_an_unknown_key(space):
    with pytest.raises(ConfigError, match=r"behaviour\.n_reps: not an uncertainty"):
        space.overrides({"behaviour.n_reps": 3}, build_config())
    with pytest.raises(ConfigError, match=r"behaviour\.win_base: not an uncertainty"):
        space.overrides({"behaviour.win_base": 0.5}, build_config())


def test_the_odd_table_marks_every_tactic_lever(space):
    text = ODD.read_text(encoding="utf-8").split("## Parameter table", 1)[1]
    for lever in space.levers():
        if lever.tactic is None:
            continue
        rows = [line for line in text.splitlines() if line.startswith(f"| `{lever.name}` |")]
        assert any("a lever" in row for row in rows), f"{lever.key}: not marked 'a lever'"
