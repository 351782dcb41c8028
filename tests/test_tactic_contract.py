"""The tactic contract: parameters fixed, state per model, own randomness, public seams."""

import dataclasses
import re

import pytest

import sim
import sim.params
from sim import FunnelModel
from sim.io import to_json
from sim.params import ConfigError
from sim.rng import KeyedNormals
from sim.tactics import REGISTRY, make_tactic, tactic_names
from sim.tactics.lead_validation import LeadValidation
from sim.tactics.liaison import LiaisonTactic
from tests.conftest import AT_ONCE, ROOT

RUN = {"days": 200, "warmup_days": 40}


def _summary(model):
    return to_json(model.kpis.summary())


def test_two_models_from_one_config_share_nothing():
    """Interleaved step by step, each gives what it gives alone (instances in the config)."""
    cfg = sim.build_config(
        tactics={"liaison": LiaisonTactic(n_liaisons=2), "lead_validation": LeadValidation()},
        funnel="combined",
        seed=5,
        **RUN,
    )
    alone = FunnelModel(cfg)
    alone.run()
    a, b = FunnelModel(cfg), FunnelModel(sim.build_config(cfg, seed=6))
    assert not set(map(id, a.tactics)) & set(map(id, b.tactics))
    for _ in range(RUN["days"]):
        a.step(), b.step()
    assert _summary(a) == _summary(alone)
    other = FunnelModel(sim.build_config(cfg, seed=6))
    other.run()
    assert _summary(b) == _summary(other)
    # the config's own instances were never run
    assert "liaisons" not in vars(cfg.scenario.tactics["liaison"])


def test_a_tactics_parameters_are_fixed_once_built():
    tactic = make_tactic("liaison", {"n_liaisons": 2})
    with pytest.raises(AttributeError, match="fixed once built"):
        tactic.n_liaisons = 3
    assert dataclasses.replace(tactic, n_liaisons=3).n_liaisons == 3


def test_keyed_draws_depend_only_on_the_seed_the_name_and_the_key():
    one, two = KeyedNormals(1, "x"), KeyedNormals(1, "x")
    for key in (5, 700, 3, 100_000):  # any order, across blocks
        assert one[key] == two[key]
    assert [two[k] for k in range(300)] == [one[k] for k in range(300)]
    assert KeyedNormals(1, "y")[5] != one[5] and KeyedNormals(2, "x")[5] != one[5]


def test_validation_draws_the_same_number_for_the_same_lead_whatever_else_runs():
    """Switching another tactic on changes which leads meet the gate, not their draws."""
    seen = {}
    for tactics in (["lead_validation"], ["lead_validation", "liaison", "shared_goals"]):
        model = FunnelModel(tactics=tactics, seed=3, **RUN)
        draws = {}
        original = model.keyed_normal

        def spy(name, lead, original=original, draws=draws):
            value = original(name, lead)
            draws[(name, lead.source, lead.market_index)] = value
            return value

        model.keyed_normal = spy
        model.run()
        seen[len(tactics)] = draws
    common = set(seen[1]) & set(seen[3])
    assert len(common) > 100
    assert all(seen[1][k] == seen[3][k] for k in common)


MECHANISMS = [(name, m) for name in tactic_names() for m in REGISTRY[name].mechanisms]


# Some mechanisms act on a cause of misalignment (a revenue leader's budget owner on a budget
# dispute): they run on an organisation with every cause, as conf/org/misaligned.yaml has them.
_MISALIGNED = sim.load_config(["org=misaligned"]).org
CAUSES_ON = {c: getattr(_MISALIGNED, c) for c in sim.params.CAUSES}


@pytest.mark.parametrize(("tactic", "mechanism"), MECHANISMS)
def test_switching_a_mechanism_off_changes_the_run(tactic, mechanism):
    """Each named mechanism acts: off, the run differs (the decomposition's switches work)."""
    base = {"seed": 2, **RUN, **CAUSES_ON}
    on = sim.run(tactics={tactic: {}}, **base).summary
    off = sim.run(tactics={tactic: {"switched_off": [mechanism]}}, **base).summary
    assert to_json(on) != to_json(off)


def test_switching_every_mechanism_off_is_the_baseline_for_setup_only_tactics():
    base = {"seed": 2, **RUN}
    plain = sim.run(**base).summary
    for name in ("shared_goals", "data_sharing"):
        # with no ramp-up and no hours taken (the contract's, not a mechanism of the tactic)
        spec = {"switched_off": list(REGISTRY[name].mechanisms), **AT_ONCE}
        off = sim.run(tactics={name: spec}, **base).summary
        assert to_json(off) == to_json(plain), name


def test_an_unknown_mechanism_is_refused():
    with pytest.raises(ConfigError, match=r"'nope' is not a mechanism of this tactic"):
        sim.build_config(tactics={"liaison": {"switched_off": ["nope"]}})


def test_every_tactic_declares_its_levers_among_its_parameters():
    for name in tactic_names():
        cls = REGISTRY[name]
        params = {f.name for f in dataclasses.fields(cls)}
        assert cls.levers <= params, name
        assert cls.mechanisms, f"{name} declares no mechanisms"


def test_the_registry_the_files_and_full_alignment_agree():
    names = set(tactic_names())
    assert names == {p.stem for p in (ROOT / "conf" / "tactic").glob("*.yaml")}
    assert names <= {p.stem for p in (ROOT / "conf" / "scenario").glob("*.yaml")}
    assert set(sim.load_config(["scenario=full_alignment"]).scenario.tactics) == names


def test_tactics_and_policies_use_only_the_models_public_surface():
    offenders = []
    for path in [*(ROOT / "sim" / "tactics").glob("*.py"), ROOT / "sim" / "policies.py"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"model\._", line):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_a_tactics_counters_are_kpis_of_every_run():
    plain = sim.run(seed=1, **RUN).summary
    for name in tactic_names():
        for counter in REGISTRY[name].counters:
            assert plain[counter] == 0
    gated = sim.run(tactics=["lead_validation"], seed=1, **RUN).summary
    assert gated["validation_blocked"] > 0


def test_a_run_builds_each_tactic_once_and_still_sees_changes_made_in_place(monkeypatch):
    import sim.tactics

    cfg = sim.load_config(["scenario=full_alignment", "days=30", "warmup_days=5"])
    built = []
    real_make = sim.tactics.make_tactic
    monkeypatch.setattr(sim.tactics, "make_tactic", lambda *a: built.append(a) or real_make(*a))
    monkeypatch.setattr(sim.params, "make_tactic", sim.tactics.make_tactic)
    sim.run(cfg)
    assert built == []  # built when the config was loaded, not again for the run
    cfg.scenario.tactics["liaison"]["n_liaisons"] = -1  # changed in place: checked again
    with pytest.raises(ConfigError, match="n_liaisons"):
        sim.run(cfg)
    cfg.scenario.tactics["liaison"]["n_liaisons"] = 0
    model = FunnelModel(cfg)
    assert model.tactics[0].n_liaisons == 0
    cfg.org.n_reps = -1
    with pytest.raises(ConfigError, match=r"org\.n_reps"):
        sim.run(cfg)
