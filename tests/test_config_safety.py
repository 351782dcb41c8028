"""Never wrong in silence: config can only build what it should, and every refusal is clear.

Config is code (see the README's Security section), so a ``_target_`` must name the right
kind of class, checked before anything is built; a decision rule that breaks its contract
stops the run; vague refusals name the key, the file or what is allowed.
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import pytest

import sim
from sim import FunnelModel
from sim.cli import main as cli_main
from sim.config import CONF_DIR
from sim.params import ConfigError, param
from sim.policies import FollowUpPolicy, PolicyError, RoutingPolicy, ThresholdPolicy
from sim.tactics import Tactic
from tests.conftest import conf_file, run_cli

QUICK = {"days": 40, "warmup_days": 5}


def _refused(capsys, argv, cwd):
    """Run ``python -m sim argv`` in-process; return its one error line, checking the rest."""
    status = cli_main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert not any(cwd.iterdir()), "a refused command wrote files"
    return err.strip()


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    path = tmp_path / "cwd"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


# --- A. a _target_ builds only the kind of class it should ---------------------------------


def test_a_policy_target_must_subclass_the_default_before_anything_is_built(tmp_path):
    box = tmp_path / "box"
    # mailbox.Maildir has an update() method and creates a directory at the path it is given
    with pytest.raises(ConfigError, match=r"not a subclass of sim.policies.ThresholdPolicy"):
        sim.load_config(
            ["policies.threshold._target_=mailbox.Maildir", f"+policies.threshold.dirname={box}"]
        )
    assert not box.exists()


def test_the_cli_refuses_a_foreign_policy_class(capsys, cwd):
    err = _refused(
        capsys,
        ["policies.threshold._target_=mailbox.Maildir", "+policies.threshold.dirname=box"],
        cwd,
    )
    assert "policies.threshold._target_ = 'mailbox.Maildir': not a subclass" in err


class TwoArgs(FollowUpPolicy):
    def choose(self, rep, queue):  # the model calls choose(rep, queue, n)
        return []


class Tuned(FollowUpPolicy):
    built = 0

    def __init__(self, depth, *, order="best"):
        Tuned.built += 1
        self.depth, self.order = depth, order


def test_a_policy_method_must_take_the_defaults_parameters():
    with pytest.raises(ConfigError, match=r"its choose\(\) must take \(self, rep, queue, n\)"):
        sim.build_config({"policies": {"follow_up": {"_target_": f"{__name__}.TwoArgs"}}})


def test_policy_arguments_are_checked_against_the_constructor_naming_the_key():
    target = f"{__name__}.Tuned"
    with pytest.raises(ConfigError, match=r"^policies.follow_up.x: FollowUpPolicy does not take"):
        sim.load_config(["+policies.follow_up.x=1"])
    with pytest.raises(
        ConfigError, match=r"^policies.follow_up.depht: Tuned does not take .*depth, order"
    ):
        sim.build_config({"policies": {"follow_up": {"_target_": target, "depht": 2}}})
    with pytest.raises(ConfigError, match=r"missing a required argument: 'depth'"):
        sim.build_config({"policies": {"follow_up": {"_target_": target}}})
    Tuned.built = 0
    cfg = sim.build_config({"policies": {"follow_up": {"_target_": target, "depth": 2}}})
    assert cfg.policies.follow_up["depth"] == 2 and Tuned.built == 1


@dataclass
class Counted(Tactic):
    name: ClassVar[str] = "counted"
    share: float = param(0.1, lo=0.0, hi=1.0, doc="a share")
    seen: int = dataclasses.field(default=0, init=False)  # run-time state, not a parameter


def test_a_tactic_target_is_a_tactic_subclass_and_its_arguments_are_checked(tmp_path):
    box = tmp_path / "box"
    spec = {"_target_": "mailbox.Maildir", "dirname": str(box)}
    with pytest.raises(ConfigError, match=r"not a subclass of sim.tactics.Tactic"):
        sim.build_config({"scenario": {"tactics": {"x": spec}}})
    assert not box.exists()
    target = {"_target_": f"{__name__}.Counted"}
    with pytest.raises(ConfigError, match=r"^scenario.tactics.counted.seen: unknown parameter"):
        sim.build_config({"scenario": {"tactics": {"counted": {**target, "seen": 3}}}})
    cfg = sim.build_config({"scenario": {"tactics": {"counted": {**target, "share": 0.5}}}})
    assert cfg.scenario.tactics["counted"]["share"] == 0.5


# --- A. what a policy returns is checked -----------------------------------------------------


class Greedy(FollowUpPolicy):
    """More leads than the rep can work."""

    def choose(self, rep, queue, n):
        return list(queue[: n + 3])


class SameLeadFiveTimes(FollowUpPolicy):
    def choose(self, rep, queue, n):
        return [queue[0]] * 5 if queue and n >= 5 else []


class SomeoneElses(FollowUpPolicy):
    """Works a lead from another rep's queue."""

    def choose(self, rep, queue, n):
        for other in rep.model.reps:
            if other is not rep and other.queue and n > 0:
                return [other.queue[0]]
        return []


class NotALeadList(FollowUpPolicy):
    def choose(self, rep, queue, n):
        return None


class Threshold(ThresholdPolicy):
    def __init__(self, value):
        self.value = value

    def update(self, marketer):
        return self.value


class Elsewhere(RoutingPolicy):
    def choose_rep(self, model, lead):
        return "rep 3"


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (Greedy(), r"Greedy.choose\(\) returned \d+ leads, more than the n = \d+"),
        (
            SameLeadFiveTimes(),
            r"SameLeadFiveTimes.choose\(\) returned the same lead more than once",
        ),
        (SomeoneElses(), r"SomeoneElses.choose\(\) returned <.*>, which is not in the rep's queue"),
        (NotALeadList(), r"NotALeadList.choose\(\) returned None, not a list of leads"),
    ],
)
def test_a_follow_up_policy_that_breaks_its_contract_stops_the_run(policy, message):
    model = FunnelModel(follow_up_policy=policy, **QUICK)
    with pytest.raises(PolicyError, match=message):
        model.run()


@pytest.mark.parametrize("value", [2.0, -0.1, math.nan, "0.5", None])
def test_a_threshold_outside_0_1_stops_the_run(value):
    model = FunnelModel(threshold_policy=Threshold(value), **QUICK)
    with pytest.raises(
        PolicyError, match=r"Threshold.update\(\) returned .*; it must return a number in \[0, 1\]"
    ):
        model.run()


def test_a_threshold_in_range_is_accepted():
    model = FunnelModel(threshold_policy=Threshold(0.5), **QUICK)
    model.run()
    assert all(m.threshold == 0.5 for m in model.marketers)


def test_routing_to_something_not_a_rep_of_the_model_stops_the_run():
    model = FunnelModel(routing_policy=Elsewhere(), tactics=["liaison"], **QUICK)
    with pytest.raises(PolicyError, match=r"Elsewhere.choose_rep\(\) returned 'rep 3'"):
        model.run()
    other = FunnelModel(**QUICK)

    class OtherModels(RoutingPolicy):
        def choose_rep(self, model, lead):
            return other.reps.to_list()[0]

    model = FunnelModel(routing_policy=OtherModels(), tactics=["liaison"], **QUICK)
    with pytest.raises(PolicyError, match=r"must return one of the model's reps"):
        model.run()


def test_a_broken_policy_stops_the_cli_with_one_line(tmp_path):
    out = tmp_path / "run"
    proc = run_cli(
        f"policies.follow_up._target_={__name__}.Greedy",
        "days=40",
        "warmup_days=5",
        f"hydra.run.dir={out}",
    )
    assert proc.returncode == 1, proc.stderr  # found during the run: a failure, not bad input
    err = proc.stderr.strip()
    assert err.startswith("error: [baseline seed=0] PolicyError: follow-up policy Greedy"), err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (out / "run.json").exists()


# --- B. refusals that name what is wrong and what is allowed -------------------------------


def test_unknown_keys_list_the_allowed_ones_even_when_given_a_generator():
    from sim.params import reject_unknown

    with pytest.raises(
        ConfigError, match=r"^org.n_repz: unknown parameter; allowed keys are .*n_reps"
    ):
        sim.build_config({"org": {"n_repz": 1}})
    with pytest.raises(ConfigError, match=r"allowed keys are a, b$"):
        reject_unknown({"c": 1}, (k for k in "ab"), "x")
    with pytest.raises(ConfigError, match=r"allowed keys are .*n_liaisons"):
        sim.load_config(["scenario=liaison", "+scenario.tactics.liaison.foo=1"])


# --- A. sim.reproduce checks config.json against run.json's config_hash first ------------------


def _run_dir(path, **kw):
    from sim.io import write_outputs

    write_outputs(sim.run(sim.build_config(**QUICK, **kw)), path)
    return path


def test_reproduce_refuses_a_config_that_does_not_match_the_recorded_hash(tmp_path, capsys):
    import shutil

    from sim.reproduce import main as reproduce

    mine, other = _run_dir(tmp_path / "mine", seed=1), _run_dir(tmp_path / "other", seed=2)
    assert reproduce([str(mine)]) == 0
    capsys.readouterr()
    for name in ("config.json", "summary.json"):  # swapped together: "reproduced exactly" before
        shutil.copy(other / name, mine / name)
    assert reproduce([str(mine)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "config.json does not match the config_hash in run.json" in err


def test_reproduce_checks_the_hash_before_building_the_config(tmp_path, capsys):
    import json

    from sim.reproduce import main as reproduce

    run_dir = _run_dir(tmp_path / "run")
    config = json.loads((run_dir / "config.json").read_text())
    box = tmp_path / "box"
    config["policies"]["threshold"] = {"_target_": "mailbox.Maildir", "dirname": str(box)}
    (run_dir / "config.json").write_text(json.dumps(config))
    assert reproduce([str(run_dir)]) == 2
    assert "does not match the config_hash" in capsys.readouterr().err
    assert not box.exists()
    # a run directory forged whole, its hash recomputed: the class check still refuses it
    from sim.io import recorded_config_hash

    record = json.loads((run_dir / "run.json").read_text())
    record["config_hash"] = recorded_config_hash(config, record["source_digest"])
    (run_dir / "run.json").write_text(json.dumps(record))
    assert reproduce([str(run_dir)]) == 2
    assert "not a subclass of sim.policies.ThresholdPolicy" in capsys.readouterr().err
    assert not box.exists()


def test_reproduce_uses_the_source_digest_the_run_recorded(tmp_path):
    import json

    from sim.io import recorded_config_hash
    from sim.reproduce import main as reproduce

    run_dir = _run_dir(tmp_path / "run")
    record = json.loads((run_dir / "run.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    assert record["config_hash"] == recorded_config_hash(config, record["source_digest"])
    # as if the run had been made by other code: its hash is checked with that code's digest
    record["source_digest"] = "0" * 16
    record["config_hash"] = recorded_config_hash(config, "0" * 16)
    (run_dir / "run.json").write_text(json.dumps(record))
    assert reproduce([str(run_dir)]) == 0


def test_a_run_with_several_tactics_is_reproduced_in_their_order(tmp_path):
    from sim.reproduce import main as reproduce

    # the order of the tactics is the order of their hooks, which changes results
    tactics = ["liaison", "shared_goals", "lead_validation", "data_sharing"]
    run_dir = _run_dir(tmp_path / "run", funnel="combined", tactics=tactics)
    assert reproduce([str(run_dir)]) == 0


# --- C. YAML aliases are refused before Hydra reads a file ----------------------------------

# The classic: nine levels of nine aliases, 10**9 "lol"s once expanded.
BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _with_memory_cap():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # should the check ever go


def test_a_yaml_alias_bomb_in_an_org_file_is_refused_quickly(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    with conf_file("org", "_test_bomb", BILLION_LAUGHS) as f:
        started = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sim",
                "--config-dir",
                str(f.dir),
                f"org={f.name}",
                f"hydra.run.dir={tmp_path / 'run'}",
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"},
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_with_memory_cap,
        )
        elapsed = time.perf_counter() - started
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip() == (
        f"error: {f.path}, line 1, column 4: YAML anchors and aliases "
        "(&name, *name) are not allowed in config files; write the values out"
    )
    assert elapsed < 30  # Python's start-up included; the check itself is timed below
    assert not (tmp_path / "run").exists()


def test_checking_the_config_files_is_linear_and_cached(tmp_path):
    import time

    from sim.config import check_config_files

    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "bomb.yaml").write_text(BILLION_LAUGHS)
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"org/bomb.yaml, line 1, column 4: YAML anchors"):
        check_config_files(tmp_path)
    assert time.perf_counter() - started < 2
    (tmp_path / "org" / "bomb.yaml").write_text("n_reps: 3\nname: x\n")
    check_config_files(tmp_path)  # fixed: accepted (the time stamp or size changed)


def test_a_non_utf8_org_file_is_refused_naming_it(capsys, cwd):
    text = (CONF_DIR / "org" / "small.yaml").read_text() + "# caf\xe9\n"
    with conf_file("org", "_test_latin1", text.encode("latin-1")) as f:
        with pytest.raises(ConfigError, match=r"/org/_test_latin1.yaml, line \d+: not UTF-8"):
            sim.load_config(["org=_test_latin1", f.searchpath])
        err = _refused(capsys, ["--config-dir", str(f.dir), "org=_test_latin1"], cwd)
        assert "org/_test_latin1.yaml" in err and "save the file as UTF-8" in err


def test_an_unresolvable_interpolation_names_its_key(capsys, cwd):
    with pytest.raises(ConfigError, match=r"^org.n_reps: cannot resolve its interpolation"):
        sim.load_config(["org.n_reps=${nope}"])
    text = (CONF_DIR / "org" / "small.yaml").read_text()
    text = "\n".join(
        "n_marketers: ${nope}" if ln.startswith("n_marketers") else ln for ln in text.splitlines()
    )
    with conf_file("org", "_test_interp", text) as f:
        err = _refused(capsys, [f"org={f.name}", f.searchpath], cwd)
    assert err.startswith("error: org.n_marketers: cannot resolve its interpolation"), err
    assert "'nope' not found" in err


def test_an_unknown_launcher_lists_hydras_launchers(capsys, cwd):
    err = _refused(capsys, ["-m", "hydra/launcher=nosuch", "seed=1,2"], cwd)
    assert err.startswith("error: hydra/launcher=nosuch: no such hydra/launcher; choose one of: ")
    options = err.split("choose one of: ", 1)[1].split(", ")
    assert {"basic", "joblib"} <= set(options), err


def test_a_tactic_target_from_the_command_line_says_to_add_it_with_a_plus(capsys, cwd):
    target = "scenario.tactics.liaison._target_=sim.tactics.liaison.LiaisonTactic"
    err = _refused(capsys, ["scenario=liaison", target], cwd)
    assert "unknown parameter" not in err
    assert err.endswith(f"add the key with a leading +: +{target}"), err
    cfg = sim.load_config(["scenario=liaison", f"+{target}"])  # as the message says
    assert cfg.scenario.tactics["liaison"]["_target_"] == "sim.tactics.liaison.LiaisonTactic"


def test_an_unquoted_non_ascii_value_says_to_quote_it(capsys, cwd):
    err = _refused(capsys, ["org.name=café"], cwd)
    assert err == (
        "error: org.name=café: a value with non-ASCII characters must be quoted: "
        "org.name='café' (in a shell: \"org.name='café'\")"
    )
    assert sim.load_config(["org.name='café'"]).org.name == "café"


# --- D. an org or scenario is named after its file ----------------------------------------


def test_a_copied_org_file_is_named_after_its_new_file(tmp_path):
    # the README's recipe, with a copy made before the built-in files lost their name: line
    text = "name: default\n" + (CONF_DIR / "org" / "default.yaml").read_text()
    text = text.replace("n_reps: 12", "n_reps: 9")
    with conf_file("org", "_test_mine", text) as f:
        name = f.name
        cfg = sim.load_config([f"org={name}", f.searchpath])
        assert (cfg.org.name, cfg.org.n_reps) == (name, 9)
        assert sim.load_config([f"org={name}", f.searchpath, "org.name=acme"]).org.name == "acme"
        out = tmp_path / "run"
        proc = run_cli(
            "--config-dir",
            str(f.dir),
            f"org={name}",
            "days=30",
            "warmup_days=5",
            f"hydra.run.dir={out}",
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert '"org": "_test_mine"' in (out / "summary.json").read_text()


def test_a_copied_scenario_file_is_named_after_its_new_file():
    text = "name: liaison\n" + (CONF_DIR / "scenario" / "liaison.yaml").read_text()
    with conf_file("scenario", "_test_my_liaison", text) as f:
        cfg = sim.load_config([f"scenario={f.name}", f.searchpath])
    assert cfg.scenario.name == f.name and set(cfg.scenario.tactics) == {"liaison"}


def test_without_an_org_file_there_is_no_name_either():
    with pytest.raises(ConfigError, match=r"missing value; the org file must set it .*org.name"):
        sim.load_config(["~org"])


# --- E. every job of a sweep is checked before any starts ---------------------------------


def test_every_job_of_a_sweep_past_5000_jobs_is_checked():
    from sim.config import validate_overrides

    # 12,000 jobs; the bad ones come after the first 6,000, past the old limit of 5,000
    with pytest.raises(
        ConfigError, match=r"^org.n_reps = -1: .*\(in sweep job: org.n_reps=-1 seed=0\)$"
    ):
        validate_overrides(["org.n_reps=5,-1", "seed=range(0,6000)"], multirun=True)


def test_a_seed_sweep_is_checked_quickly_and_bad_seeds_are_still_caught():
    import time

    from sim.config import validate_overrides

    started = time.perf_counter()
    jobs = validate_overrides(["seed=range(0,20000)", "scenario=baseline,liaison"], True)
    assert jobs == 40_000
    assert time.perf_counter() - started < 10  # about half a second: one check per scenario
    for bad in ("seed=0,1,-1", "seed=0,1,abc"):
        with pytest.raises(ConfigError, match=r"^seed"):
            validate_overrides([bad], multirun=True)
