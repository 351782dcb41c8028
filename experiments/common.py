"""Helpers shared by the experiment programs: command-line parsing, configs, progress."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sim
from sim.params import ConfigError, SimConfig, build_config

if TYPE_CHECKING:
    import pandas as pd

_BOOLEAN = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def split_args(argv: list[str], own: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split ``key=value`` arguments into this program's own options and sim overrides.

    ``own`` maps each option to its default; values are converted to the default's type
    (``true``/``false`` for a boolean option).
    """
    values = dict(own)
    rest = []
    for arg in argv:
        key, sep, raw = arg.partition("=")
        if sep and key in own:
            default = own[key]
            if isinstance(default, bool):  # bool("false") is True
                if raw.lower() not in _BOOLEAN:
                    raise ConfigError(f"{key}={raw}: must be true or false")
                values[key] = _BOOLEAN[raw.lower()]
                continue
            try:
                values[key] = type(default)(raw) if default is not None else raw
            except ValueError:
                raise ConfigError(f"{key}={raw}: must be a {type(default).__name__}") from None
        else:
            rest.append(arg)
    return values, rest


def scenario_configs(scenarios: list[str], overrides: list[str]) -> dict[str, SimConfig]:
    """Compose each scenario once from conf/ with the user's overrides."""
    from sim.config import choice_override

    return {s: sim.load_config([choice_override("scenario", [s]), *overrides]) for s in scenarios}


def run_rows(
    configs: list[SimConfig],
    *,
    n_jobs: int = -1,
    ids: list[str] | None = None,
    study: str | Path | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``configs`` on the study runner and return their rows, in the order given.

    The runner is ``sim.batch.run_study`` (warm workers that import the model once and run
    chunks of runs), the one the comparison uses; each run depends only on its config and
    seed, so the rows are those a serial loop gives. The rows are the study's tidy table
    (``sim.tidy``: identity, every input, every KPI). The study is written in a temporary
    directory, removed afterwards, unless ``study`` names one (new or empty: it gets a
    ``study.json`` and is locked while the runs are written).

    Raises:
        RunsFailedError: a run raised; the message names how many, and the first.
    """
    import tempfile

    from sim.batch import Backend, RunSpec, run_study
    from sim.exits import RunsFailedError

    ids = ids or [f"run{i:06d}" for i in range(len(configs))]
    specs = [RunSpec(cfg, run_id) for cfg, run_id in zip(configs, ids, strict=True)]
    with contextlib.ExitStack() as stack:
        if study:  # a new directory, locked while the runs are written (sim.study)
            from sim.study import open_study

            where = Path(study)
            record = {"program": " ".join(sys.argv[:1]), "runs": len(specs)}
            stack.enter_context(open_study(where, record, resume=False, resume_hint="a new study="))
        else:
            where = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        done = run_study(specs, where, backend=Backend(n_jobs=n_jobs), progress=progress)
        if done.failures:
            raise RunsFailedError(
                f"{len(done.failures)} of {done.total} run(s) failed; first: "
                f"{done.failures[0][1]} (HYDRA_FULL_ERROR=1 shows a traceback)"
            )
        return done.runs


#: The identity columns of a run's summary (``sim.runner.run``), before its KPIs.
SUMMARY_KEYS = ("scenario", "org", "seed", "days", "warmup_days", "version")


def run_summaries(
    configs: list[SimConfig], *, n_jobs: int = -1, progress: bool = True
) -> pd.DataFrame:
    """One summary row per config, in order, as ``sim.runner.run_many`` gave them.

    Run on the study runner (``run_rows``); the columns are each run's summary: its identity
    (``SUMMARY_KEYS``, names as plain strings) and every KPI of the registry, so the programs
    that read summaries (validation, calibration, the decomposition) need no change.
    """
    import pandas as pd

    from sim.kpis import KPIS

    rows = run_rows(configs, n_jobs=n_jobs, progress=progress)
    out = pd.DataFrame({key: rows[key] for key in (*SUMMARY_KEYS, *KPIS)})
    for key in ("scenario", "org", "version"):
        out[key] = out[key].astype(str).astype(object)
    return out


def replicate(base: SimConfig, seeds: list[int], **params: Any) -> list[SimConfig]:
    """The config ``base`` with each seed (and any flat parameter overrides)."""
    return [build_config(base, seed=s, **params) for s in seeds]


class Bar:
    """A progress bar with an ETA on stderr (tqdm), called with (done, total) as work finishes.

    The callable form ``sim.runner.run_many`` and the experiments take; tqdm draws it (one
    line redrawn on a terminal, a line now and then in a log).
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None

    def __call__(self, done: int, total: int, final: bool = False) -> None:
        """Show ``done`` of ``total`` (``final`` ends the bar even if not all are done)."""
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=self.label, file=sys.stderr, mininterval=0.5, dynamic_ncols=True
            )
        self._bar.total = total
        self._bar.update(done - self._bar.n)
        if final or done >= total:
            self._bar.close()


def parse(
    argv: list[str] | None, doc: str | None, options: dict[str, Any]
) -> tuple[dict[str, Any], list[str]] | int:
    """The experiments' common command line: ``--help``, own options, sim overrides.

    ``--config-dir DIR`` adds ``DIR`` to the config search path, as in ``python -m sim``.

    Returns (options, overrides), or the exit status to return at once (0 after printing
    the help, 2 after printing a one-line error). Seeds must be >= 0 and ``n_jobs`` -1 or
    positive wherever a program has them.
    """
    argv = sys.argv[1:] if argv is None else argv
    if any(a in ("-h", "--help") for a in argv):
        print(doc)
        return 0
    try:
        from sim.config import config_dir_args

        opts, rest = split_args(config_dir_args(argv), options)  # --config-dir DIR everywhere
        for key in ("seed", "seed_base"):
            if key in opts and opts[key] < 0:
                raise ConfigError(f"{key}={opts[key]}: must be a whole number >= 0")
        if opts.get("n_jobs") == 0:
            raise ConfigError("n_jobs=0: use -1 for every core, or a positive count")
    except ConfigError as exc:
        return fail(exc)
    return opts, rest


def entry(argv: list[str], doc: str | None, body: Callable[[list[str]], int]) -> int:
    """A program's entry point: ``--help`` prints ``doc``; else ``body(argv)``, guarded.

    Guarded by ``sim.exits.guarded``: bad input is one line and exit 2, a failure 1, Ctrl-C 130.
    """
    if any(a in ("-h", "--help") for a in argv):
        print(doc)
        return 0
    from sim.exits import guarded

    return guarded(lambda: body(argv), argv)


def fail(exc: BaseException) -> int:
    """Print a one-line error and return the exit status for bad input."""
    print(f"error: {exc}", file=sys.stderr)
    return 2


def check_run_overrides(
    rest: list[str], owned: dict[str, str], runs: str, variants: str, scenario_hint: str
) -> None:
    """Refuse the ``python -m sim`` overrides a program that sets up its own runs cannot take.

    ``owned``: the keys the program sets itself, each with the options to use instead;
    ``runs``: what the program runs ("a portfolio search"), for the one-sweep message;
    ``variants``: what a scenario edit would change ("portfolio"); ``scenario_hint``: where
    to make such a change instead.

    Raises:
        ConfigError: one line naming the first override refused.
    """
    from sim.config import SCENARIO_EDIT, expand_sweep

    for arg in rest:
        if arg.startswith("-"):
            raise ConfigError(
                f"{arg}: not an option of this program (it takes key=value overrides, "
                "--config-dir DIR and --help)"
            )
        key = arg.split("=", 1)[0].lstrip("+~")
        if "=" not in arg and not arg.startswith("~"):
            raise ConfigError(f"{arg}: not a key=value override")
        if key in owned:
            raise ConfigError(f"{arg}: set by this program; use {owned[key]} instead")
        if key.startswith("hydra.sweep") or key.startswith("hydra/"):
            raise ConfigError(
                f"{arg}: this program runs no Hydra sweep; choose its directory with "
                "hydra.run.dir= and its processes with n_jobs="
            )
        if SCENARIO_EDIT.match(arg.split("=", 1)[0]):
            raise ConfigError(
                f"{arg}: would change every {variants}, the baseline too; {scenario_hint}"
            )
    if len(expand_sweep(rest)) > 1:
        raise ConfigError(
            f"{' '.join(rest)}: {runs} runs one organisation and one setting at a time; sweep "
            "syntax (a,b or range()) belongs in python -m sim -m"
        )
