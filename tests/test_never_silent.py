"""Never wrong in silence: failures after work started, study directories, damaged runs.

Each test here failed on the code before the fix it names (issue "Never wrong in silence").
The entry points run as users run them: ``python -m ...`` once per program, the rest through
``main(argv)`` with the serial launcher, in a temporary directory.
"""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import sim
import sim.batch
from experiments import compare_tactics
from sim import cli
from sim.config import CONF_DIR
from sim.io import FAILURE, RECORD, SUMMARY, TIMESERIES, to_json
from sim.policies import FollowUpPolicy
from sim.study import STUDY, StudyBusyError, open_study
from tests.conftest import run_module

TINY = ["org=small", "days=40", "warmup_days=10"]
SERIAL = "hydra/launcher=basic"


class Boom(FollowUpPolicy):
    """A follow-up rule that fails on the tenth day (a researcher's bug)."""

    def choose(self, rep, queue, n):
        if rep.model.day >= 10:
            raise RuntimeError("boom in a policy")
        return super().choose(rep, queue, n)


BOOM = f"policies.follow_up._target_={__name__}.Boom"


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(autouse=True)
def _no_draws(monkeypatch):
    """In-process comparisons here run without parameter draws (tests/test_uncertainty.py
    runs them): what is tested is how failures are reported."""
    monkeypatch.setitem(compare_tactics.OPTIONS, "draws", 0)


def _compare(tmp_path: Path, *args: str) -> int:
    return compare_tactics.main([*TINY, "replicates=2", "scenarios=liaison", SERIAL, *args])


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A finished two-scenario, two-seed comparison (made once per test that needs it)."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cmp"
    assert _compare(tmp_path, f"hydra.sweep.dir={out}") == 0
    return out


# --- failures after the runs: one line, non-zero --------------------------------------------


def test_an_aggregation_failure_exits_non_zero_through_the_real_entry_point(study, tmp_path):
    """The callback is built from experiments.compare_tactics, main() runs as __main__."""
    shutil.rmtree(study / "figures")
    (study / "figures").write_text("a file where the figures directory goes")
    done = run_module(
        "experiments.compare_tactics",
        *TINY,
        "replicates=2",
        "scenarios=liaison",
        SERIAL,
        f"resume={study}",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    line = _one_error_line(done.stderr)
    assert line.startswith(f"error: aggregating {study} failed:")


def test_failed_runs_stop_the_comparison_with_one_line_and_no_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cmp"
    status = _compare(tmp_path, BOOM, f"hydra.sweep.dir={out}")
    assert status == 1
    assert len((out / FAILURE).read_text().splitlines()) == 4  # one line per failed run
    assert not (out / "report.md").exists() and not (out / "runs.parquet").exists()


def test_failed_runs_of_a_sweep_exit_non_zero(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = cli.main(["-m", *TINY, "seed=1,2", SERIAL, BOOM, f"hydra.sweep.dir={tmp_path / 's'}"])
    err = capsys.readouterr().err
    assert status == 1
    line = _one_error_line(err)
    assert "2 of 2 run(s) failed" in line and "RuntimeError: boom in a policy" in line


def test_a_failed_single_run_prints_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        cli.main([*TINY, BOOM, f"hydra.run.dir={tmp_path / 'r'}"])
    assert stop.value.code == 1
    assert "RuntimeError: boom in a policy" in _one_error_line(capsys.readouterr().err)


def test_a_full_disk_is_one_line_and_the_comparison_resumes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cmp"
    real = sim.batch.write_parquet
    calls = {"n": 0}

    def full_disk(table, path):
        calls["n"] += 1
        if calls["n"] == 3:  # the second chunk's first part
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(table, path)

    monkeypatch.setattr(sim.batch, "write_parquet", full_disk)
    assert _compare(tmp_path, f"hydra.sweep.dir={out}") == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "No space left on device; free some space" in line and f"resume={out}" in line
    monkeypatch.setattr(sim.batch, "write_parquet", real)
    assert _compare(tmp_path, f"resume={out}") == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 4
    assert (out / "report.md").exists()


def test_ctrl_c_says_how_to_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cmp"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.runner, "run", interrupted)  # imported by each job
    assert _compare(tmp_path, f"hydra.sweep.dir={out}") == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and f"resume={out}" in err and "Traceback" not in err
    # the lock was released: the study can be resumed at once
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(compare_tactics.OPTIONS, "draws", 0)  # undone with the rest
    assert _compare(tmp_path, f"resume={out}") == 0


# --- study directories: identity and lock --------------------------------------------------


def test_resuming_with_other_settings_is_refused_naming_what_differs(study, capsys):
    before = {p: p.stat().st_mtime_ns for p in study.glob("rows/*.parquet")}
    assert before
    status = compare_tactics.main(
        [
            *TINY[:1],
            "days=41",
            "warmup_days=10",
            "replicates=2",
            "scenarios=liaison",
            SERIAL,
            f"resume={study}",
        ]
    )
    assert status == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "other settings" in line and "days: the study has 40, this command 41" in line
    assert {p: p.stat().st_mtime_ns for p in study.glob("rows/*.parquet")} == before


def test_a_second_comparison_into_the_same_directory_is_refused(study, capsys):
    status = _compare(study.parent, f"hydra.sweep.dir={study}")
    assert status == 2
    assert "already holds this study; continue it with resume=" in capsys.readouterr().err


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with (
        open_study(tmp_path / "s", {"a": 1}, resume=False, resume_hint="resume=s"),
        pytest.raises(StudyBusyError, match=r"another sweep \(pid \d+\) is writing"),
        open_study(tmp_path / "s", {"a": 1}, resume=True, resume_hint="resume=s"),
    ):
        pass
    with open_study(tmp_path / "s", {"a": 1}, resume=True, resume_hint="resume=s"):
        pass  # released


def test_a_sweep_into_a_directory_of_other_files_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    assert cli.main(["-m", *TINY, "seed=1,2", f"hydra.sweep.dir={tmp_path / 'd'}"]) == 2
    assert f"no {STUDY}" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("mode", [[], ["-m", "seed=1,2"]])
def test_an_output_path_under_a_file_is_refused_before_any_work(
    tmp_path, monkeypatch, capsys, mode
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_text("a file")
    key = "hydra.sweep.dir" if mode else "hydra.run.dir"
    assert cli.main([*mode, *TINY, f"{key}={tmp_path / 'f' / 'run'}"]) == 2
    assert "is a file, not a directory" in _one_error_line(capsys.readouterr().err)
    assert (
        compare_tactics.main([*TINY, "replicates=2", f"hydra.sweep.dir={tmp_path / 'f' / 'c'}"])
        == 2
    )
    assert "is a file, not a directory" in _one_error_line(capsys.readouterr().err)
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_a_single_run_does_not_replace_a_run_of_another_config(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "r"
    assert cli.main([*TINY, f"hydra.run.dir={run_dir}"]) == 0
    summary = (run_dir / SUMMARY).read_bytes()
    assert cli.main(["org=small", "days=41", "warmup_days=10", f"hydra.run.dir={run_dir}"]) == 2
    assert "holds a finished run of another config" in capsys.readouterr().err
    assert (run_dir / SUMMARY).read_bytes() == summary


@pytest.mark.parametrize(
    "override",
    ["scenario.name=foo", "scenario.name=../../evil", "org.name=../../evil", "org.name=.hidden"],
)
def test_names_that_would_break_a_directory_are_refused(tmp_path, monkeypatch, capsys, override):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["-m", *TINY, "scenario=baseline,liaison", override]) == 2
    assert override.split("=")[0] in _one_error_line(capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


def test_a_changed_scenario_gets_its_own_label_and_is_never_paired_with_its_file():
    plain = sim.load_config([*TINY, "scenario=baseline"])
    changed = sim.load_config(
        [*TINY, "scenario=baseline", "+tactic@scenario.tactics.liaison=liaison"]
    )
    again = sim.load_config(
        [*TINY, "scenario=baseline", "+tactic@scenario.tactics.liaison=liaison"]
    )
    other = sim.load_config(
        [
            *TINY,
            "scenario=baseline",
            "+tactic@scenario.tactics.liaison=liaison",
            "scenario.tactics.liaison.n_liaisons=2",
        ]
    )
    assert plain.scenario.name == "baseline"
    assert changed.scenario.name.startswith("baseline~") and len(changed.scenario.name) == 15
    assert again.scenario.name == changed.scenario.name
    assert other.scenario.name not in (changed.scenario.name, "baseline")


def test_the_comparison_refuses_overrides_that_change_every_scenario(capsys):
    status = compare_tactics.main(
        [*TINY, "replicates=2", "+tactic@scenario.tactics.liaison=liaison"]
    )
    assert status == 2
    assert "would change every scenario" in _one_error_line(capsys.readouterr().err)


# --- --config-dir ------------------------------------------------------------------------


@pytest.fixture
def client_dir(tmp_path):
    d = tmp_path / "client"
    (d / "org").mkdir(parents=True)
    text = (CONF_DIR / "org" / "small.yaml").read_text().replace("name: small", "name: mine")
    (d / "org" / "mine.yaml").write_text(text.replace("n_reps: ", "n_reps: 1 #"))
    return d


def test_config_dir_adds_a_client_org_to_every_entry_point(client_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_dir = tmp_path / "r"
    done = run_module(
        "sim",
        "--config-dir",
        str(client_dir),
        "org=mine",
        *TINY[1:],
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["org"]["name"] == "mine" and config["org"]["n_reps"] == 1
    out = tmp_path / "cmp"
    status = compare_tactics.main(
        [
            f"--config-dir={client_dir}",
            "org=mine",
            *TINY[1:],
            "replicates=2",
            "scenarios=liaison",
            SERIAL,
            f"hydra.sweep.dir={out}",
        ]
    )
    assert status == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and set(runs.org) == {"mine"} and (out / "report.md").exists()
    assert set(runs["org.n_reps"]) == {1}


def test_scenario_names_that_look_like_numbers_stay_names(tmp_path):
    """A scenario file 2024.yaml (or 1e3.yaml) was sent to Hydra as scenario=2024: an int,
    refused as a config group choice."""
    from experiments.common import scenario_configs

    d = tmp_path / "client" / "scenario"
    d.mkdir(parents=True)
    liaison = (CONF_DIR / "scenario" / "liaison.yaml").read_text()
    names = ["2024", "1e3", "007", "true"]
    for name in names:
        (d / f"{name}.yaml").write_text(liaison)
    from sim.config import config_dir_args

    configs = scenario_configs(names, config_dir_args([f"--config-dir={d.parent}", *TINY]))
    assert [c.scenario.name for c in configs.values()] == names
    assert all(set(c.scenario.tactics) == {"liaison"} for c in configs.values())
    out = tmp_path / "cmp"
    cmd = [f"--config-dir={d.parent}", *TINY, "replicates=2", "scenarios=2024,1e3", SERIAL]
    status = compare_tactics.main([*cmd, f"hydra.sweep.dir={out}"])
    assert status == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert set(runs.scenario.astype(str)) == {"baseline", "2024", "1e3"}
    effects = pd.read_csv(out / "effects.csv", dtype={"scenario": str})
    assert {"2024", "1e3"} <= set(effects.scenario)


def test_config_dir_problems_are_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--config-dir", str(tmp_path / "nope"), "org=mine"]) == 2
    assert "no such directory" in _one_error_line(capsys.readouterr().err)
    assert cli.main(["--config-path", str(tmp_path), "org=mine"]) == 2
    assert "use --config-dir" in _one_error_line(capsys.readouterr().err)
    assert compare_tactics.main(["--config-dir", str(tmp_path), "org=mine"]) == 2
    assert "org=mine: no such org" in _one_error_line(capsys.readouterr().err)
    assert not any(p.name != "nope" for p in tmp_path.iterdir())


# --- aggregation checks what it reads ------------------------------------------------------


def _damage(run_dir: Path, how: str) -> None:
    summary = run_dir / SUMMARY
    data = json.loads(summary.read_text())
    match how:
        case "missing_kpi":
            del data["win_rate"]
        case "win_rate_5":
            data["win_rate"] = 5
        case "negative_revenue":
            data["revenue_per_year"] = -1e12
        case "broken_json":
            summary.write_text("{broken")
            return
        case "truncated_timeseries":
            text = (run_dir / TIMESERIES).read_text()
            (run_dir / TIMESERIES).write_text(text[: len(text) // 2])
            return
    summary.write_text(json.dumps(data))


@pytest.fixture
def sweep(tmp_path, monkeypatch):
    """A finished python -m sim sweep (run folders): two scenarios, two seeds."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "sweep"
    args = ["-m", *TINY, "scenario=baseline,liaison", "seed=1,2", SERIAL]
    assert cli.main([*args, f"hydra.sweep.dir={out}"]) == 0
    return out


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("missing_kpi", "win_rate is missing"),
        ("win_rate_5", "win_rate is a share above 1"),
        ("negative_revenue", "revenue_per_year is negative"),
        ("broken_json", "summary.json is not valid JSON"),
        ("truncated_timeseries", "timeseries.csv has"),
    ],
)
def test_a_damaged_run_is_skipped_and_listed(sweep, tmp_path, capsys, how, reason):
    (damaged,) = sweep.glob("*_liaison_seed1")
    _damage(damaged, how)
    capsys.readouterr()
    assert compare_tactics.main([f"from={sweep}", f"out={tmp_path / 'agg'}"]) == 1
    line = _one_error_line(capsys.readouterr().err)  # one pair left: no interval
    assert str(damaged) in line and reason in line
    runs = sim.io.load_runs(sweep, skipped := [])
    assert damaged.name not in set(runs.run_dir)
    assert skipped[0][0] == damaged and reason in skipped[0][1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["out=x"], "out=x: only used with from="),
        (["from=.", "days=3"], "days=3: has no effect with from="),
        (["from=.", "replicates=5"], "replicates=5: has no effect with from="),
        (["scenarios=baseline", "replicates=2"], "nothing to compare"),
    ],
)
def test_options_that_would_do_nothing_are_refused(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert compare_tactics.main(args) == 2
    assert message in _one_error_line(capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


# --- the liaison acts only through its liaisons ----------------------------------------------


@pytest.mark.parametrize("nobody", ["n_liaisons=0", "hours_per_day=0"])
def test_a_liaison_tactic_without_liaisons_or_their_hours_changes_nothing(nobody):
    base = sim.run(sim.load_config([*TINY, "scenario=baseline", "seed=3"])).summary
    idle = ["scenario=liaison", "seed=3", f"scenario.tactics.liaison.{nobody}"]
    none = sim.run(sim.load_config([*TINY, *idle])).summary
    base.pop("scenario"), none.pop("scenario")
    assert to_json(none) == to_json(base)


# --- figures are written atomically ------------------------------------------------------


def test_a_figure_that_fails_half_way_leaves_no_file_under_its_name(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from sim import plotting

    def half_then_full(self, path, **kwargs):
        Path(path).write_bytes(b"<svg partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(plt.Figure, "savefig", half_then_full)
    fig = plt.figure()
    with pytest.raises(OSError):
        plotting._save(fig, tmp_path / "fig")
    assert not list(tmp_path.iterdir())


def test_config_dir_reaches_the_other_experiment_programs(client_dir):
    from experiments.common import parse, scenario_configs

    opts, rest = parse(
        ["--config-dir", str(client_dir), "org=mine", "replicates=3"], "", {"replicates": 2}
    )
    assert opts["replicates"] == 3
    cfg = scenario_configs(["baseline"], rest)["baseline"]
    assert cfg.org.name == "mine" and cfg.org.n_reps == 1


# --- found by a cold review of the first version of these fixes ------------------------------


def test_a_config_dir_file_that_a_built_in_file_would_shadow_is_refused(tmp_path, capsys):
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "small.yaml").write_text((CONF_DIR / "org" / "small.yaml").read_text())
    assert cli.main(["--config-dir", str(tmp_path), "org=small"]) == 2
    assert "has the name of a built-in file" in _one_error_line(capsys.readouterr().err)


def test_an_alias_bomb_in_a_config_dir_is_refused(tmp_path, capsys):
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "bomb.yaml").write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    )
    assert cli.main(["--config-dir", str(tmp_path), "org=bomb"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "bomb.yaml, line 1" in line and "anchors and aliases" in line


def test_a_sweeps_identity_covers_what_its_config_files_hold(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    dirs = []
    for name, reps in (("a", 4), ("b", 8)):
        d = tmp_path / name / "org"
        d.mkdir(parents=True)
        text = (CONF_DIR / "org" / "small.yaml").read_text()
        d.joinpath("client.yaml").write_text(text.replace("n_reps:", f"n_reps: {reps} #"))
        dirs.append(str(d.parent))
    out = tmp_path / "s"
    common = ["-m", "org=client", *TINY[1:], "seed=1,2", SERIAL, f"hydra.sweep.dir={out}"]
    assert cli.main(["--config-dir", dirs[0], *common]) == 0
    before = {p: p.read_bytes() for p in out.glob(f"*/{SUMMARY}")}
    capsys.readouterr()
    assert cli.main(["--config-dir", dirs[1], *common]) == 2
    assert "org.n_reps: the study has 4, this command 8" in _one_error_line(capsys.readouterr().err)
    assert {p: p.read_bytes() for p in out.glob(f"*/{SUMMARY}")} == before


def test_the_sweep_table_never_averages_runs_of_different_settings():
    rows = [
        {"org": "small", "scenario": "baseline", "settings_hash": h, "win_rate": w}
        for h, w in (("aaaaaaaaaa", 0.1), ("aaaaaaaaaa", 0.3), ("bbbbbbbbbb", 0.9))
    ]
    table = cli.kpi_table(rows)
    assert list(table["runs"]) == [2, 1]
    assert list(table["win_rate"]) == pytest.approx([0.2, 0.9])


def test_a_job_refused_inside_a_sweep_is_a_failure_with_its_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def no_memory_left(cfg, **kwargs):  # the machine changed between the check and the job
        raise sim.params.ConfigError("org.n_reps = 4: the run would need more memory than is free")

    monkeypatch.setattr(cli, "check_fits", no_memory_left)
    out = tmp_path / "s"
    assert cli.main(["-m", *TINY, "seed=1,2", SERIAL, f"hydra.sweep.dir={out}"]) == 1
    assert "2 of 2 run(s) failed" in _one_error_line(capsys.readouterr().err)
    assert len(list(out.glob(f"*/{FAILURE}"))) == 2


def test_a_tactic_cannot_draw_from_the_models_own_streams():
    model = sim.FunnelModel(days=10, warmup_days=0, rng=1)
    with pytest.raises(ValueError, match="the model's own"):
        model.stream("market")
    assert model.stream("my_tactic") is model.stream("my_tactic")


def test_reproduce_names_a_broken_run_file(tmp_path, capsys):
    from sim.io import write_outputs
    from sim.reproduce import main as reproduce

    write_outputs(sim.run(sim.build_config(seed=1, days=30, warmup_days=5)), tmp_path / "r")
    (tmp_path / "r" / RECORD).write_text("{broken")
    assert reproduce([str(tmp_path / "r")]) == 2
    assert f"{tmp_path / 'r'}: {RECORD} is not valid JSON" in _one_error_line(
        capsys.readouterr().err
    )
