"""Write the example CRM export (examples/export.csv) and its team file from the model itself.

Usage::

    python examples/make_example_export.py                 # org=small, two years, seed 2024
    python examples/make_example_export.py org=default days=400 seed=7 \
        out=/tmp/acme.csv team=/tmp/acme.yaml

A run of the model with its journey log (``record_journeys=true``) becomes the lead-level CSV
a CRM exports (``sim.export``: business days become calendar dates from ``start=``, default
2024-01-01); the team file (``team=``, default team.yaml beside it) holds what an export
cannot show (``sim.export.TEAM_KEYS``, from the run's organisation). The parameters that
made it are those of the composed config (the calibrated behaviour unless overridden), so
``python -m experiments.diagnose`` on it should recover them: the example doubles as a demo
of a fit whose truth is known.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

import sim
from sim.export import DEFAULT_START, TEAM_KEYS, write_export
from sim.runner import run

HERE = Path(__file__).resolve().parent
OPTIONS = {"out": str(HERE / "export.csv"), "team": "", "start": DEFAULT_START}
DEFAULTS = ["org=small", "days=500", "seed=2024"]


def main(argv: list[str]) -> int:
    """Run the model and write the export and its team file."""
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    opts = dict(OPTIONS)
    rest = []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in opts:
            opts[key] = value
        else:
            rest.append(arg)
    given = {a.split("=", 1)[0] for a in rest}
    overrides = [a for a in DEFAULTS if a.split("=", 1)[0] not in given] + rest
    cfg = sim.load_config([*overrides, "record_journeys=true"])
    result = run(cfg)
    out = write_export(result.journeys, opts["out"], start=opts["start"])
    team = {key: getattr(cfg.org, key) for key in TEAM_KEYS}
    team_path = Path(opts["team"]) if opts["team"] else out.with_name("team.yaml")
    header = (
        f"# The team behind {out.name}: python examples/make_example_export.py {' '.join(argv)}\n"
    )
    team_path.write_text(header + yaml.safe_dump(team, sort_keys=False))
    print(f"wrote {out} ({len(result.journeys)} leads) and {team_path}")
    return 0


if __name__ == "__main__":
    from sim.exits import guarded

    sys.exit(guarded(lambda: main(sys.argv[1:]), sys.argv[1:]))
