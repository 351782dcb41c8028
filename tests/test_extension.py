"""Extension points: a policy or a tactic defined outside the package, chosen by _target_."""

import json

import pytest

import sim
from sim import FunnelModel
from sim.params import ConfigError
from tests.conftest import run_cli
from tests.outside_rules import OldestFirst

SHORT = ["seed=4", "days=150", "warmup_days=30"]


def _summary(tmp_path, name, *args):
    out = tmp_path / name
    proc = run_cli(*SHORT, *args, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "summary.json").read_text())


def test_an_outside_follow_up_policy_changes_results_through_target_alone(tmp_path):
    default = _summary(tmp_path, "default")
    oldest = _summary(
        tmp_path, "oldest", "policies.follow_up._target_=tests.outside_rules.OldestFirst"
    )
    assert oldest["inbound_leads"] == default["inbound_leads"]  # same market
    assert oldest["mql_follow_up_rate"] != default["mql_follow_up_rate"]
    config = json.loads((tmp_path / "oldest" / "config.json").read_text())
    assert config["policies"]["follow_up"]["_target_"] == "tests.outside_rules.OldestFirst"


def test_an_outside_tactic_runs_through_target_alone(tmp_path):
    default = _summary(tmp_path, "default")
    mine = _summary(
        tmp_path,
        "mine",
        "+scenario.tactics.fewer_meetings._target_=tests.outside_rules.FewerMeetings",
        "+scenario.tactics.fewer_meetings.admin_share_cut=0.2",
    )
    assert mine["rep_selling_share"] != default["rep_selling_share"]


def test_policies_can_be_passed_from_python_too():
    model = FunnelModel(days=20, warmup_days=0, follow_up_policy=OldestFirst())
    assert isinstance(model.follow_up_policy, OldestFirst)
    cfg = sim.build_config(
        {"policies": {"follow_up": {"_target_": "tests.outside_rules.OldestFirst"}}},
        days=20,
        warmup_days=0,
    )
    assert isinstance(FunnelModel(cfg).follow_up_policy, OldestFirst)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"follow_up": {"_target_": "nowhere.Nothing"}}, "cannot import that class"),
        (
            {"follow_up": {"_target_": "sim.policies.ThresholdPolicy"}},
            "not a subclass of sim.policies.FollowUpPolicy",
        ),
        ({"follow_up": {"_target_": "sim.policies.FollowUpPolicy", "x": 1}}, "does not take"),
        ({"triage": {"_target_": "sim.policies.FollowUpPolicy"}}, "policies.triage: unknown"),
        ({"follow_up": {"x": 1}}, "must be a mapping with a _target_"),
    ],
)
def test_bad_policies_are_refused(spec, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        sim.build_config({"policies": spec})
