"""The tactic contract's adoption day, ramp-up and hours (issue 17), for every tactic.

Each test fails when its mechanism is switched off or inverted: a tactic acting before its
adoption day, a ramp-up that changes a run at 0 (or 1) days, hours that are not taken.
"""

import pandas as pd
import pytest

import sim
from sim import FunnelModel
from sim.io import to_json
from sim.params import ConfigError
from sim.tactics import tactic_names
from tests.conftest import AT_ONCE

RUN = {"days": 160, "warmup_days": 20}
ADOPT = 60


def _series(tactics, seed=3, **kw):
    model = FunnelModel(tactics=tactics, seed=seed, **{**RUN, **kw})
    model.run()
    return model, model.datacollector.get_model_vars_dataframe()


@pytest.mark.parametrize("name", tactic_names())
def test_a_tactic_adopted_on_day_n_leaves_the_run_as_the_baseline_before_n(name):
    """Identical to the baseline (paired seed) through day N - 1; different after."""
    _, base = _series({})
    model, late = _series({name: {"adoption_day": ADOPT}})
    common = [c for c in base.columns if c in late.columns]
    before = base["day"] < ADOPT
    pd.testing.assert_frame_equal(base.loc[before, common], late.loc[before, common])
    assert not base.loc[~before, common].equals(late.loc[~before, common])
    assert all(t.adopted for t in model.tactics)


def test_a_tactic_not_yet_adopted_has_no_hooks_and_no_state():
    model = FunnelModel(tactics={"liaison": {"adoption_day": 30}}, seed=1, **RUN)
    liaison = model.tactics[0]
    assert not liaison.adopted and not model._hooks["route"] and not hasattr(liaison, "liaisons")
    model.run(29)
    assert not liaison.adopted
    model.run(1)
    assert liaison.adopted and model._hooks["route"] == [liaison] and len(liaison.liaisons) == 1


@pytest.mark.parametrize("name", tactic_names())
def test_a_ramp_up_of_one_day_is_the_same_run_as_none(name):
    """The ramp-up's machinery (gated hooks, per-agent days) changes nothing once at full
    strength: 1 day covers everything on the first day, bit for bit as 0 does."""
    runs = [
        to_json(sim.run(seed=5, tactics={name: {**AT_ONCE, "ramp_up_days": r}}, **RUN).summary)
        for r in (0, 1)
    ]
    assert runs[0] == runs[1]


def _briefings(spec, days):
    """The liaison's briefings on each day up to ``days`` (a counter, so read day by day)."""
    model = FunnelModel(tactics={"liaison": spec}, seed=3, days=days, warmup_days=0)
    daily = []
    for _ in range(days):
        before = model.kpis.c["liaison_briefings"]
        model.step()
        daily.append(model.kpis.c["liaison_briefings"] - before)
    return model, daily


def test_during_the_ramp_up_a_growing_share_of_leads_is_covered():
    """The liaison briefs few leads on its first days and all it can once ramped up."""
    spec = {**AT_ONCE, "adoption_day": 40, "ramp_up_days": 60}
    model, ramped = _briefings(spec, 200)
    _, at_once = _briefings({**spec, "ramp_up_days": 0}, 200)
    assert sum(ramped[:39]) == sum(at_once[:39]) == 0  # not adopted yet
    assert sum(ramped[39:59]) < 0.6 * sum(at_once[39:59])  # a third of the ramp-up
    assert sum(ramped[159:]) > 0.8 * sum(at_once[159:])  # ramped up: as many as at once
    liaison = model.tactics[0]
    shares = [liaison.ramp_share(d) for d in range(40, 110, 10)]
    assert shares == sorted(shares) and shares[0] < 0.05 and shares[-1] == 1.0


def test_a_ramp_up_changes_agents_one_by_one():
    spec = {**AT_ONCE, "ramp_up_days": 50}
    model = FunnelModel(tactics={"data_sharing": spec}, seed=2, **RUN)
    rekeying = lambda: sum(r.rekey_hours > 0 for r in model.reps)  # noqa: E731
    counts = [rekeying()]
    for _ in range(6):
        model.run(10)
        counts.append(rekeying())
    assert counts == sorted(counts, reverse=True) and counts[0] > 0 and counts[-1] == 0


def test_the_hours_a_tactic_takes_come_off_each_rep_s_day_and_each_marketer_s_capacity():
    base = FunnelModel(seed=1, **RUN)
    spec = {**AT_ONCE, "rep_hours_per_week": 5.0, "marketer_hours_per_week": 10.0}
    model = FunnelModel(tactics={"shared_goals": spec}, seed=1, **RUN)
    assert all(r.hours == b.hours - 1.0 for r, b in zip(model.reps, base.reps, strict=True))
    assert all(
        m.capacity == b.capacity - -(-b.capacity // 4)
        for m, b in zip(model.marketers, base.marketers, strict=True)
    )
    base.run(), model.run()
    assert model.kpis.c["rep_hours"] < base.kpis.c["rep_hours"]


def test_hours_are_taken_from_the_adoption_day_only():
    spec = {**AT_ONCE, "rep_hours_per_week": 10.0, "adoption_day": 50}
    base = FunnelModel(seed=3, **RUN)
    late = FunnelModel(tactics={"lead_validation": spec}, seed=3, **RUN)
    hours = lambda m: sum(r.hours for r in m.reps)  # noqa: E731
    for day in range(1, 70):
        base.step(), late.step()
        assert (hours(late) < hours(base)) == (day >= 50), day


def test_tactics_taking_more_than_a_rep_s_day_are_refused():
    spec = {"rep_hours_per_week": 30.0}
    with pytest.raises(ConfigError, match=r"rep_hours_per_week = 30: the tactics together take"):
        FunnelModel(tactics={"liaison": spec, "shared_goals": spec}, seed=1, **RUN)


def test_without_a_ramp_up_nothing_is_drawn_and_no_hook_is_wrapped():
    """Ramp-up 0 runs the tactic's own methods and draws nothing: today's behaviour exactly."""
    model = FunnelModel(tactics=dict.fromkeys(tactic_names(), AT_ONCE), seed=1, **RUN)
    model.run(30)
    for tactic in model.tactics:
        assert not {"route", "on_outcome", "on_rejected", "intercept_handoff"} & set(vars(tactic))
        assert not any(name.endswith("/ramp_up") for name in model.rngs)
        assert not any(name.startswith(f"{tactic.name}/ramp_up") for name, _ in model._keyed)
