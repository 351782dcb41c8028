"""Files derived from the tactic registry, so adding a tactic edits none of them by hand.

- ``conf/scenario/full_alignment.yaml``: every registered tactic at once. Its tactics keep the
  order they already have there (the order the model calls their daily hooks, so existing
  results stay as they were); a new tactic is appended in registry order, a removed one goes.
- the README's tactic list (between ``<!-- tactics:start -->`` and ``<!-- tactics:end -->``):
  each tactic's module summary and its mechanisms, as the tactic class declares them.

``python -m sim.catalog`` rewrites both; ``tests/test_catalog.py`` fails when either is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sim.tactics import REGISTRY, tactic_names

ROOT = Path(__file__).resolve().parent.parent
FULL_ALIGNMENT = ROOT / "conf" / "scenario" / "full_alignment.yaml"
README = ROOT / "README.md"
START, END = "<!-- tactics:start -->", "<!-- tactics:end -->"
_ENTRY = re.compile(r"^\s*-\s*/tactic@tactics\.(\w+):", re.MULTILINE)


def full_alignment(current: str = "") -> str:
    """The text of ``full_alignment.yaml``: every tactic, in the order ``current`` has them."""
    names = tactic_names()
    kept = [n for n in _ENTRY.findall(current) if n in names]
    order = kept + [n for n in names if n not in kept]
    lines = [
        "# Every tactic at once. Generated from the tactic registry by `python -m sim.catalog`:",
        "# do not edit (a new tactic is appended; the order is the order of the daily hooks).",
        "defaults:",
        *(f"  - /tactic@tactics.{n}: {n}" for n in order),
        "  - _self_",
        "",
        "# (tactics: {} keeps the key when an override removes every tactic above)",
        "tactics: {}",
        "",
    ]
    return "\n".join(lines)


def tactic_list() -> str:
    """The README's tactic list: each tactic's summary and mechanisms, from its class."""
    out = []
    for name in tactic_names():
        cls = REGISTRY[name]
        doc = sys.modules[cls.__module__].__doc__ or ""
        summary = " ".join(doc.strip().split("\n\n")[0].split())
        summary = summary.removeprefix(f"The {name.replace('_', '-')} tactic: ")
        summary = summary.removeprefix(f"The {name.replace('_', ' ')} tactic: ")
        mechanisms = "; ".join(f"`{m}`: {what}" for m, what in cls.mechanisms.items())
        path = f"sim/tactics/{cls.__module__.rsplit('.', 1)[-1]}.py"
        out.append(f"- **`{name}`** ([`{path}`]({path})): {summary} Mechanisms: {mechanisms}.")
    return "\n".join(out)


def readme(text: str) -> str:
    """``text`` (the README) with its tactic list current."""
    if START not in text or END not in text:
        raise ValueError(f"README.md has no {START} ... {END} section")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{tactic_list()}\n{END}{tail}"


def main() -> int:
    """Rewrite ``full_alignment.yaml`` and the README's tactic list from the registry."""
    from sim.io import atomic_write

    for path, make in ((FULL_ALIGNMENT, full_alignment), (README, readme)):
        new = make(path.read_text())
        if new != path.read_text():
            atomic_write(path, lambda p, new=new: p.write_text(new))
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
