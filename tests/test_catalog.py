"""The files derived from the tactic registry are current (``python -m sim.catalog``)."""

import sim
from sim.catalog import FULL_ALIGNMENT, README, full_alignment, readme, tactic_list
from sim.tactics import REGISTRY, tactic_names


def test_full_alignment_is_every_tactic_and_current():
    text = FULL_ALIGNMENT.read_text()
    assert text == full_alignment(text), "full_alignment.yaml is stale: run python -m sim.catalog"
    cfg = sim.load_config(["scenario=full_alignment"])
    assert set(cfg.scenario.tactics) == set(tactic_names())


def test_a_new_tactic_is_appended_and_the_order_kept():
    kept = "defaults:\n  - /tactic@tactics.shared_goals: s\n  - /tactic@tactics.gone: x\n"
    lines = [ln for ln in full_alignment(kept).splitlines() if "@tactics." in ln]
    names = [ln.split("@tactics.")[1].split(":")[0] for ln in lines]
    assert names[0] == "shared_goals" and "gone" not in names
    assert sorted(names) == tactic_names()


def test_the_readme_tactic_list_is_current():
    text = README.read_text()
    assert text == readme(text), "README's tactic list is stale: run python -m sim.catalog"
    listed = tactic_list()
    for name in tactic_names():
        assert f"**`{name}`**" in listed
        for mechanism in REGISTRY[name].mechanisms:
            assert f"`{mechanism}`" in listed
