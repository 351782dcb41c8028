"""Shared fixtures: short runs keep the suite fast; the mechanisms are the same at any length."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest

import sim
from sim.tactics import tactic_names

ROOT = Path(__file__).resolve().parent.parent
SHORT = {"days": 150, "warmup_days": 30}

# From the registry and conf/, so a new tactic is tested without editing this file.
ALL_TACTICS = list(sim.load_config(["scenario=full_alignment"]).scenario.tactics)
assert set(ALL_TACTICS) == set(tactic_names()), "full_alignment must switch on every tactic"
SCENARIOS = {
    "baseline": {},
    **{name: {"tactics": [name]} for name in tactic_names()},
    "full_alignment": {"tactics": ALL_TACTICS},
}


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``python -m sim`` the way a user does, and capture what it prints."""
    return run_module("sim", *args, cwd=cwd, timeout=timeout, env=env)


def without_draws(args: tuple[str, ...] | list[str]) -> list[str]:
    """A comparison's arguments with ``draws=0`` unless they set draws or only aggregate.

    The default comparison runs 100 draws of the assumptions; tests of everything else about
    it run the noise-only comparison (tests/test_uncertainty.py runs the draws).
    """
    if any(a.startswith(("draws=", "from=", "-h", "--help")) for a in args):
        return list(args)
    return [*args, "draws=0"]


def run_module(
    module: str,
    *args: str,
    cwd: Path | None = None,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run ``python -m <module>`` the way a user does (from any directory), and capture it.

    ``env`` replaces this process's environment (the Ray test gives its cluster's).
    """
    env = {
        **(os.environ if env is None else env),
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HYDRA_FULL_ERROR", None)
    if module == "experiments.compare_tactics":
        args = without_draws(args)
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class ConfFile(NamedTuple):
    """A config file in a temporary ``--config-dir``: its name and the override that adds it."""

    name: str
    path: Path
    searchpath: str  # hydra.searchpath=[file://DIR]: what --config-dir DIR becomes

    @property
    def dir(self) -> Path:
        return self.path.parent.parent


@contextmanager
def conf_file(group: str, name: str, text: str | bytes) -> Iterator[ConfFile]:
    """Write ``<group>/<name>.yaml`` into a temporary config directory, never into ``conf/``.

    Every command scans all of ``conf/`` (sim.config.check_config_files): a broken test file
    there would make commands run beside the test suite fail.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / group / f"{name}.yaml"
        path.parent.mkdir(parents=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        yield ConfFile(name, path, f"hydra.searchpath=[file://{tmp}]")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With pytest-xdist switched off (``-p no:xdist``), accept and ignore its options.

    pyproject.toml's addopts spread the suite over the cores with xdist (``-n auto ...``);
    without xdist those options would stop every run with "unrecognized arguments: -n".
    ``-n 0`` is the other serial run, with xdist loaded.
    """
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is switched off: its options do nothing")
    # xdist's own spelling: pytest reserves lower-case short options, which _addoption allows
    group._addoption("-n", "--numprocesses", dest="numprocesses", help="ignored")
    group.addoption("--maxprocesses", dest="maxprocesses", help="ignored")
    group.addoption("--dist", dest="dist", default="no", help="ignored")


@pytest.fixture
def short() -> dict[str, int]:
    return dict(SHORT)


#: A tactic at full strength from the start, taking no one's hours: the tactic contract's
#: ramp-up and hours (issue 17) off, so a test sees its mechanisms alone.
AT_ONCE = {"ramp_up_days": 0, "rep_hours_per_week": 0.0, "marketer_hours_per_week": 0.0}
