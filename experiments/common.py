"""Helpers shared by the experiment programs: command-line parsing, configs, progress."""

from __future__ import annotations

import sys
import time
from typing import Any

import sim
from sim.params import ConfigError, SimConfig, build_config

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
    return {s: sim.load_config([f"scenario={s}", *overrides]) for s in scenarios}


def replicate(base: SimConfig, seeds: list[int], **params: Any) -> list[SimConfig]:
    """The config ``base`` with each seed (and any flat parameter overrides)."""
    return [build_config(base, seed=s, **params) for s in seeds]


class Bar:
    """A one-line progress bar with an ETA on stderr (a line per 10% when not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int, final: bool = False) -> None:
        """Show ``done`` of ``total`` (``final`` ends the line even if not all are done)."""
        elapsed = time.perf_counter() - self.started
        frac = done / total if total else 1.0
        eta = f"{elapsed / done * (total - done):.0f}s" if done else "?"
        text = (
            f"{self.label} [{'#' * int(30 * frac):-<30}] {done}/{total} {frac:4.0%} "
            f"elapsed {elapsed:.0f}s ETA {eta}"
        )
        final = final or done == total
        if self.tty:
            sys.stderr.write("\r" + text + ("\n" if final else ""))
        elif int(10 * frac) > self.last or final:
            self.last = int(10 * frac)
            sys.stderr.write(text + "\n")
        sys.stderr.flush()


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


def fail(exc: BaseException) -> int:
    """Print a one-line error and return the exit status for bad input."""
    print(f"error: {exc}", file=sys.stderr)
    return 2
