"""A run's inputs as flat columns: every organisation, behaviour, tactic and rule parameter.

The input columns of a study's tidy table (``sim.tidy``) and of the data dictionary
(``sim.kpis``), derived from the parameter dataclasses (``sim.params.SECTIONS``) and the
tactic registry (``sim.tactics.REGISTRY``), so a parameter or tactic added in parallel
reaches both without an edit. Imports nothing that imports it back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.params import SimConfig

NO_TACTICS = "none"  # the tactics of the baseline (an empty string reads back from CSV as NaN)


def input_fields() -> dict[str, dataclasses.Field]:
    """Every declared input column, with the dataclass field it comes from.

    ``org.<name>`` and ``behaviour.<name>`` for each parameter of the organisation and
    behaviour sections (``sim.params.SECTIONS``), then ``tactic.<tactic>.<name>`` for each
    parameter of each registered tactic (``sim.tactics.REGISTRY``), in declaration order.
    """
    from sim.params import SECTIONS
    from sim.tactics import REGISTRY, tactic_names

    found: dict[str, dataclasses.Field] = {}
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            if f.name != "name":  # the org's name is the ``org`` column
                found[f"{section}.{f.name}"] = f
    for name in tactic_names():
        for f in dataclasses.fields(REGISTRY[name]):
            if f.init:
                found[f"tactic.{name}.{f.name}"] = f
    return found


def default_of(f: dataclasses.Field) -> Any:
    """A field's default value (from its factory if it has one; None if it has neither)."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def dtype_of(value: Any) -> str:
    """The column dtype for values like ``value`` (a declared default, or a value seen)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "Int64"  # nullable: missing when the tactic is off
    if isinstance(value, float):
        return "float64"
    return "category"


def tactics_label(names: Iterable[str]) -> str:
    """The tactics switched on: sorted names joined with ``+``; ``none`` for the baseline."""
    return "+".join(sorted(names)) or NO_TACTICS


def _cell(value: Any) -> Any:
    """A parameter value as one cell: sequences joined with ``+`` (empty: ``none``)."""
    if isinstance(value, list | tuple):
        return "+".join(map(str, value)) or NO_TACTICS
    if isinstance(value, dict):
        return repr(value)
    return getattr(value, "value", value)  # an enum: its value


def run_inputs(cfg: SimConfig) -> dict[str, Any]:
    """A run's inputs as flat columns: org, behaviour, each tactic's and each rule's parameters.

    Tactic parameters are the built tactic's (defaults included). A decision rule gives its
    class (``policies.<kind>``) and any keyword arguments (``policies.<kind>.<argument>``).
    """
    row: dict[str, Any] = {}
    for section in ("org", "behaviour"):
        for f in dataclasses.fields(getattr(cfg, section)):
            if f.name != "name":
                row[f"{section}.{f.name}"] = _cell(getattr(getattr(cfg, section), f.name))
    for name, tactic in cfg.scenario.tactic_params().items():
        for f in dataclasses.fields(tactic):
            if f.init:
                row[f"tactic.{name}.{f.name}"] = _cell(getattr(tactic, f.name))
    for f in dataclasses.fields(cfg.policies):
        spec = dict(getattr(cfg.policies, f.name))
        row[f"policies.{f.name}"] = spec.pop("_target_", None)
        for key, value in spec.items():
            row[f"policies.{f.name}.{key}"] = _cell(value)
    return row
