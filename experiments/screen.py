"""Screen the behavioural assumptions' draws against the published facts (history matching).

Usage::

    python -m experiments.screen                     # 1,500 candidates, writes the screened set
    python -m experiments.screen candidates=3000 seed=1 out=/tmp/screened.csv

The comparison draws every behavioural parameter calibration does not fit from its plausible
range (``sim.space``). Drawn one at a time, each range is plausible; drawn all at once, about
nine draws in ten give a baseline organisation that the published patterns rule out (a black
hole of 10%, sales accepting almost every MQL): calibration would reject it, and a ranking over
such worlds is wider than what is known. This program asks the question once, before any
tactic runs: it draws ``candidates`` points of the behavioural uncertainties (a seeded Latin
hypercube over their plausible ranges, as the comparison draws them), runs the *baseline* of
the default organisation once on each (seed ``seed_base`` + the candidate's number, apart
from the seeds calibration, validation and the comparison use), and keeps the candidates whose
baseline lies inside the range of every pattern calibration fits
(``sim.uncertainty.consistency``: the published levels and ratios, and those labelled as
assumed). This is the first wave of history matching (Craig et al. 1997; Andrianakis et al.
2015): what is left is "not ruled out yet", a sample from the plausible ranges conditioned on
the facts, with the fitted parameters at their calibrated values.

The comparison (``python -m experiments.compare_tactics``, ``behaviour_draws=screened``, the
default) takes its draws' behavioural parameters from this set, and every tactic parameter
from its plausible range as before; ``behaviour_draws=prior`` draws them unscreened.

Writes ``sim/data/screened_behaviour.csv``: one row per kept candidate (``candidate``,
``seed``, then each behavioural uncertainty as ``behaviour.<name>``), with a header of
``#`` lines recording how and when it was made. Like ``conf/behaviour/calibrated.yaml``, it
belongs to the model as it was when it was made: rerun it after a change to the model or to
the facts (a test reruns a few of its candidates and checks that they still pass).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from experiments.common import fail, parse, run_summaries, scenario_configs
from experiments.compare_tactics import OPTIONS as COMPARISON
from sim.io import atomic_write
from sim.params import ConfigError
from sim.space import SCREENED_PATH, ExperimentSpace
from sim.study import check_writable
from sim.uncertainty import consistency, consistency_in_words

DEFAULT_DRAWS = COMPARISON["draws"]  # what make run asks of the screened set

OPTIONS = {
    "candidates": 1500,
    "seed": 0,
    "seed_base": 20_000,
    "n_jobs": -1,
    "out": str(SCREENED_PATH),
}


def screen(candidates: int, seed: int, seed_base: int, n_jobs: int = -1, progress: bool = True):
    """Run the baseline on each candidate draw; return (candidates table, consistency table).

    The candidates table has one row per candidate (index ``draw`` from 1), its behavioural
    uncertainties and its ``seed``; the consistency table is ``sim.uncertainty.consistency``'s.
    """
    base = scenario_configs(["baseline"], [])["baseline"]
    space = ExperimentSpace()
    table = space.sample(candidates, seed=seed, scenarios=[base]).drop(index=0)
    table.insert(0, "seed", [seed_base + int(d) for d in table.index])
    configs = [
        dataclasses.replace(space.overrides(row.drop("seed"), base), seed=int(row["seed"]))
        for _, row in table.iterrows()
    ]
    runs = run_summaries(configs, n_jobs=n_jobs, progress=progress)
    runs["draw"] = table.index.to_numpy()
    return table, consistency(runs, base.scenario.name)


def write_screened(path: Path, kept: pd.DataFrame, record: dict[str, object]) -> None:
    """Write the kept candidates with the record in a ``#`` header."""
    header = ["# Behavioural draws consistent with the facts, written by experiments.screen."]
    header += [f"#   {k}: {v}" for k, v in record.items()]
    body = kept.rename_axis("candidate").reset_index().to_csv(index=False)

    def write(p: Path) -> None:
        p.write_text("\n".join(header) + "\n" + body)

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, write)


def main(argv: list[str] | None = None) -> int:
    """Screen the candidates and write the consistent ones."""
    argv = sys.argv[1:] if argv is None else argv
    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, overrides = parsed
    try:
        if overrides:
            raise ConfigError(
                f"{overrides[0]}: this program takes no overrides: it screens the default "
                "organisation's baseline with the calibrated behaviour, as calibration fits it"
            )
        if opts["candidates"] < 1:
            raise ConfigError(f"candidates={opts['candidates']}: must be a whole number >= 1")
        out = Path(opts["out"])
        if out.is_dir():
            raise ConfigError(f"out={out}: a directory; name the CSV file to write")
        check_writable(out.parent)  # before minutes of runs, not after
    except ConfigError as exc:
        return fail(exc)
    started = dt.datetime.now(dt.UTC)
    table, fits = screen(opts["candidates"], opts["seed"], opts["seed_base"], opts["n_jobs"])
    passed = fits.loc[fits.consistent.astype(bool), "draw"].astype(int)
    kept = table.loc[passed.to_numpy()]
    record = {
        "made": started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python -m experiments.screen", *argv]),
        "candidates": f"{opts['candidates']} (Latin hypercube over the plausible ranges, "
        f"seed {opts['seed']})",
        "runs": f"the baseline of the default organisation, one seed each from {opts['seed_base']}",
        "kept": f"{len(kept)} of {opts['candidates']}",
        "result": consistency_in_words(fits),
    }
    write_screened(out, kept, record)
    print(f"\n{record['result']}")
    print(f"written: {out} ({len(kept)} draws)")
    if len(kept) < DEFAULT_DRAWS:
        print(
            f"warning: {len(kept)} draws kept, fewer than the comparison's default "
            f"draws={DEFAULT_DRAWS}, which refuses to run on them; screen more candidates",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(main, sys.argv[1:]))
