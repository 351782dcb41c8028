"""Limits and resources: absurd sizes, runs too large for the machine and overflowing results
are refused up front with one line, never met with a MemoryError, a run that never ends or a
null in the outputs."""

import math
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd
import pytest

import sim
import sim.limits
from sim import FunnelModel
from sim.cli import main as cli_main
from sim.config import validate_overrides
from sim.io import to_json
from sim.params import ConfigError
from sim.runner import check_finite
from sim.tactics import Tactic
from tests.conftest import run_cli

# (overrides, the key the one-line error must name). Integers are written out: Hydra refuses
# 1e9 for a whole-number field by itself, and the point is what the model does with the value.
REFUSED = [
    (["org.n_reps=1000000000"], "org.n_reps"),
    (["org.inbound_leads_per_day=1e7"], "org.inbound_leads_per_day"),
    (["behaviour.prospect_leads_per_hour=1e6"], "behaviour.prospect_leads_per_hour"),
    (["days=1000000000"], "days"),
    (["org.n_marketers=100000000"], "org.n_marketers"),
    (
        ["scenario=liaison", "scenario.tactics.liaison.n_liaisons=100000000"],
        "scenario.tactics.liaison.n_liaisons",
    ),
    ([f"org.n_reps={2**63}"], "org.n_reps"),
    (["org.nurture_capacity_per_marketer=1000000000000"], "org.nurture_capacity_per_marketer"),
    (["org.deal_value_mean=1e308"], "org.deal_value_mean"),
    ([f"seed={2**63}"], "seed"),
    # Each value in range, together a run that needs terabytes (16 million prospects a day
    # for a century): the memory estimate refuses it on any machine.
    (
        ["org.n_reps=50000", "behaviour.prospect_leads_per_hour=60", "days=25000"],
        "org.n_reps",
    ),
    # Nurturing that doubles a deal's value at each daily touch for ten years.
    (
        [
            "behaviour.nurture_value_gain=1",
            "behaviour.nurture_touch_days=1",
            "behaviour.nurture_max_days=2500",
        ],
        "behaviour.nurture_value_gain",
    ),
]


@pytest.mark.parametrize(("overrides", "key"), REFUSED, ids=lambda x: str(x))
def test_absurd_sizes_are_refused_in_one_line_before_anything_is_written(
    tmp_path, monkeypatch, capsys, overrides, key
):
    monkeypatch.chdir(tmp_path)
    if not any(o.startswith("days=") for o in overrides):
        overrides = [*overrides, "days=20", "warmup_days=5"]  # short, should one slip through
    status = cli_main(overrides)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"error: {key} = "), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir())


def test_the_real_entry_point_refuses_too(tmp_path):
    proc = run_cli("org.inbound_leads_per_day=1e7", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: org.inbound_leads_per_day = 10000000.0: must be in [0, ")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert not any(tmp_path.iterdir())


def test_an_unlimited_nurture_capacity_allocates_only_what_is_used():
    model = FunnelModel(nurture_capacity_per_marketer=10_000_000, days=40, warmup_days=5, seed=1)
    model.run()
    pool = model.nurture_pool
    assert len(pool) > 0  # leads were nurtured
    assert len(pool.leads) <= 4096  # slots: what was used, doubled; not 6 x 10 million
    assert pool.intent.nbytes + pool.value.nbytes <= 2 * 4096 * 8


def test_a_run_too_large_for_the_machine_is_refused_unless_allowed(monkeypatch):
    monkeypatch.setattr(sim.limits, "available_memory", lambda: 2 * 10**9)
    big = ["org.inbound_leads_per_day=100000"]
    with pytest.raises(
        ConfigError,
        match=r"^org\.inbound_leads_per_day = 100000: the run would need about [\d.]+ GB of "
        r"memory for its open pipeline; this machine has 2 GB free "
        r"\(set allow_large_runs=true to run it anyway\)$",
    ):
        validate_overrides(big, multirun=False)
    assert validate_overrides([*big, "allow_large_runs=true"], multirun=False) == 1
    # the model checks too, for runs that do not come through the command line
    with pytest.raises(ConfigError, match=r"^org\.inbound_leads_per_day = "):
        FunnelModel(inbound_leads_per_day=100_000)


def test_the_organisation_profiles_pass_the_memory_check_easily():
    for org in ("small", "default", "large"):
        cfg = sim.load_config([f"org={org}", "scenario=full_alignment"])
        assert sim.limits.estimate_memory(cfg).total < 1e9  # well under a gigabyte
        sim.limits.check_fits(cfg)


def test_keeping_every_journey_in_memory_counts_against_the_machine(monkeypatch):
    monkeypatch.setattr(sim.limits, "available_memory", lambda: 2 * 10**9)
    cfg = sim.build_config(record_journeys=True, days=25_000, inbound_leads_per_day=1_000)
    sim.limits.check_fits(cfg)  # streamed to a file (as python -m sim does): it fits
    with pytest.raises(ConfigError, match=r"^record_journeys = true: .* journey in memory"):
        sim.limits.check_fits(cfg, journeys_in_memory=True)


@dataclass
class Inflate(Tactic):
    """A (misbehaving) extension that blows deal values up after validation."""

    name: ClassVar[str] = "inflate"

    def setup(self, model):
        model.org.deal_value_mean = 1e308


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_an_overflowing_result_is_an_error_not_a_null():
    with pytest.raises(ConfigError, match=r"^revenue = inf: a result overflowed"):
        sim.run(days=60, warmup_days=5, seed=1, tactics={"inflate": Inflate()})
    with pytest.raises(ConfigError, match=r"^timeseries\.revenue = inf"):
        check_finite({"revenue": 1.0}, pd.DataFrame({"revenue": [1.0, math.inf]}))
    with pytest.raises(ValueError, match=r"^revenue = inf: an infinite result cannot be written"):
        to_json({"revenue": math.inf})
    assert to_json({"win_rate": math.nan}) == '{\n  "win_rate": null\n}\n'  # no events: null


def test_a_machine_with_too_little_memory_for_python_itself_is_named_as_such(monkeypatch):
    monkeypatch.setattr(sim.limits, "available_memory", lambda: 100 * 10**6)
    with pytest.raises(ConfigError, match=r"^the run would need .* most of it for Python") as err:
        sim.limits.check_fits(sim.load_config(["org=small"]))
    assert "org." not in str(err.value)  # no parameter is to blame
