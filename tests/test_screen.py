"""The behavioural draws screened against the facts (experiments.screen, sim.space)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import sim
from experiments import compare_tactics
from sim.params import ConfigError
from sim.space import (
    ExperimentSpace,
    behaviour_uncertainties,
    load_screened,
    with_screened,
)
from sim.uncertainty import consistency
from tests.conftest import run_module

BEHAVIOUR = [u.key for u in behaviour_uncertainties()]


def screened_frame(n: int) -> pd.DataFrame:
    """n screened rows: every behavioural uncertainty at a value that names its row."""
    space = ExperimentSpace()
    table = space.sample(n, seed=3).drop(index=0)
    frame = table[BEHAVIOUR].reset_index(drop=True)
    frame.insert(0, "seed", range(100, 100 + n))
    frame.insert(0, "candidate", range(1, n + 1))
    return frame


def test_each_draw_takes_one_whole_screened_row_and_keeps_its_tactic_values():
    cfg = sim.build_config(tactics=("liaison",))
    table = ExperimentSpace().sample(5, seed=0, scenarios=[cfg])
    screened = screened_frame(9)
    out = with_screened(table, screened, seed=0)
    tactic = [c for c in table.columns if not c.startswith("behaviour.")]
    assert tactic, "the liaison's assumptions are drawn"
    pd.testing.assert_frame_equal(out[tactic], table[tactic])
    pd.testing.assert_series_equal(out.loc[0], table.loc[0])  # draw 0: the defaults
    rows = {tuple(np.round(r, 12)) for r in screened[BEHAVIOUR].to_numpy(float)}
    drawn = [tuple(np.round(r, 12)) for r in out.loc[1:, BEHAVIOUR].to_numpy(float)]
    assert all(r in rows for r in drawn), "a draw mixes values of two screened rows"
    assert len(set(drawn)) == 5, "two draws share a screened row"
    again = with_screened(table, screened, seed=0)
    pd.testing.assert_frame_equal(out, again)  # seeded
    assert not with_screened(table, screened, seed=1).equals(out)


def test_more_draws_than_screened_rows_is_refused():
    table = ExperimentSpace().sample(4, seed=0)
    with pytest.raises(ConfigError, match=r"draws=4: .* hold 3; choose draws <= 3"):
        with_screened(table, screened_frame(3), seed=0)


def test_a_missing_or_outdated_screened_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="does not exist; make it again"):
        load_screened(tmp_path / "none.csv")
    frame = screened_frame(2)
    path = tmp_path / "old.csv"
    frame.drop(columns=[BEHAVIOUR[-1]]).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=f"it lacks {BEHAVIOUR[-1]}"):
        load_screened(path)
    frame.assign(**{"behaviour.gone": 1.0}).to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"it has behaviour\.gone, no longer drawn"):
        load_screened(path)


def test_the_shipped_screened_draws_still_pass_the_facts_on_this_code():
    """The file belongs to the model it was made on: its first draws, rerun, still pass.

    The same seed and parameters give the same run, so a screened draw that fails here means
    the model or the facts changed since ``python -m experiments.screen`` made the file.
    """
    screened = load_screened()
    assert len(screened) >= compare_tactics.OPTIONS["draws"], "fewer than the default draws"
    base = sim.load_config([])
    space = ExperimentSpace()
    rows = screened.head(2)
    configs = [
        dataclasses.replace(space.overrides(r[BEHAVIOUR], base), seed=int(r["seed"]))
        for _, r in rows.iterrows()
    ]
    runs = pd.DataFrame([sim.run(c).summary for c in configs])
    runs["draw"] = rows["candidate"].to_numpy()
    fits = consistency(runs, "baseline")
    assert fits.consistent.all(), fits.to_string()


def test_screen_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path):
    out = tmp_path / "s.csv"
    (tmp_path / "a_file").write_text("")
    for args, says in [
        (("org=small", f"out={out}"), "takes no overrides"),
        (("candidates=0", f"out={out}"), "candidates=0: must be a whole number >= 1"),
        (("candidates=2", f"out={tmp_path / 'a_file' / 's.csv'}"), "is a file, not a directory"),
    ]:
        done = run_module("experiments.screen", *args)
        assert done.returncode == 2, done.stderr
        assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_screen_that_keeps_too_few_draws_for_the_main_job_says_so(tmp_path):
    out = tmp_path / "s.csv"
    done = run_module("experiments.screen", "candidates=3", "n_jobs=1", f"out={out}")
    assert done.returncode == 0, done.stderr
    kept = load_screened(out)
    assert len(kept) <= 3
    assert "kept: " in out.read_text() and "written:" in done.stdout
    says = f"warning: {len(kept)} draws kept, fewer than the comparison's default draws=100"
    assert says in done.stderr


def test_the_comparison_refuses_an_unknown_behaviour_draws_and_too_many_draws(tmp_path):
    sweep = tmp_path / "cmp"
    for args, says in [
        (("behaviour_draws=posterior",), "behaviour_draws=posterior: must be screened"),
        ((f"draws={len(load_screened()) + 1}",), "choose draws <="),
    ]:
        done = run_module(
            "experiments.compare_tactics",
            "org=small",
            "days=30",
            "warmup_days=5",
            "replicates=2",
            *args,
            f"hydra.sweep.dir={sweep}",
        )
        assert done.returncode == 2, done.stderr
        assert says in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not sweep.exists()


def test_another_draw_seed_meets_other_markets_and_draw_seed_0_keeps_its_seeds():
    configs = [sim.build_config(), sim.build_config(tactics=("liaison",))]

    def seeds(draw_seed: int) -> list[int]:
        own = {"draws": 3, "seeds_per_draw": 2, "draw_seed": draw_seed, "method": "lhs"}
        specs = compare_tactics.drawn_specs(configs, {**own, "behaviour_draws": "prior"}, 21)
        by_draw = {}
        for spec in specs:  # every scenario of a draw on the draw's seeds
            by_draw.setdefault(spec.draw, set()).add(spec.config.seed)
        assert all(len(s) == 2 for s in by_draw.values())
        return sorted({spec.config.seed for spec in specs})

    assert seeds(0) == list(range(21, 27))  # right after the default-assumption replicates
    assert seeds(1) == list(range(27, 33))
    assert not set(seeds(2)) & set(seeds(1))
