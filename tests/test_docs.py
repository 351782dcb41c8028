"""The ODD description (docs/ODD.md) documents every parameter the code has, with its default.

A parameter added to ``sim/params.py`` or to a tactic without a row in the ODD's parameter
table fails here, and so does a row whose default no longer matches the code or that names a
parameter the code no longer has.
"""

import dataclasses
import enum
import math
import re

import pytest

import sim.tactics
from sim.params import BehaviourParams, OrgParams, ScenarioParams, SimConfig
from sim.tactics import tactic_names
from tests.conftest import ROOT

ODD = ROOT / "docs" / "ODD.md"
TABLE_HEADING = "## Parameter table"
RUN_SETTINGS = ("seed", "days", "warmup_days", "record_journeys")
TACTICS = tactic_names()  # from the registry: a new tactic is checked without editing this

ELEMENTS = [
    r"Purpose and patterns",
    r"Entities, state variables,? and scales",
    r"Process overview and scheduling",
    r"Design concepts",
    r"Initiali[sz]ation",
    r"Input data",
    r"Submodels",
]
DESIGN_CONCEPTS = [
    "Basic principles",
    "Emergence",
    "Adaptation",
    "Objectives",
    "Learning",
    "Prediction",
    "Sensing",
    "Interaction",
    "Stochasticity",
    "Collectives",
    "Observation",
]


def tactic_classes() -> list[type]:
    sim.tactics.tactic_class(TACTICS[0])  # fills the registry
    names = TACTICS + sorted(set(sim.tactics.REGISTRY) - set(TACTICS))  # tactics added later
    return [sim.tactics.tactic_class(name) for name in names]


def documented_classes() -> dict[type, list[dataclasses.Field]]:
    """Each schema class with the fields the parameter table must document.

    ``SimConfig``'s own fields are the run settings; each of its fields that holds a dataclass
    (``org``, ``behaviour``, ``scenario``, and any section added later) is documented in a
    subsection of its own, and so is every registered tactic.
    """
    run_settings, sections = [], []
    for f in dataclasses.fields(SimConfig):
        if dataclasses.is_dataclass(default_of(f)):
            sections.append(type(default_of(f)))
        else:
            run_settings.append(f)
    classes: dict[type, list[dataclasses.Field]] = {SimConfig: run_settings}
    for cls in sections:
        classes[cls] = list(dataclasses.fields(cls))
    # The tactic contract's costs, adoption and ramp-up (issue 17) are documented once, under
    # `Tactic`; a tactic documents the ones it redeclares with its own values and range.
    base = {f.name: f for f in dataclasses.fields(sim.tactics.Tactic)}
    classes[sim.tactics.Tactic] = [base[n] for n in sim.tactics.CONTRACT_FIELDS]
    for cls in tactic_classes():
        classes[cls] = [
            f
            for f in dataclasses.fields(cls)
            if f.name not in sim.tactics.CONTRACT_FIELDS or f is not base[f.name]
        ]
    return classes


def test_the_schema_has_the_sections_the_brief_names():
    classes = documented_classes()
    assert {OrgParams, BehaviourParams, ScenarioParams} <= set(classes)
    assert {f.name for f in classes[SimConfig]} >= set(RUN_SETTINGS)
    assert {c.name for c in tactic_classes()} >= set(TACTICS)


@pytest.fixture(scope="module")
def text() -> str:
    return ODD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def table_section(text) -> str:
    assert TABLE_HEADING in text, f"docs/ODD.md has no '{TABLE_HEADING}' section"
    rest = text.split(TABLE_HEADING, 1)[1]
    match = re.search(r"^## ", rest, flags=re.MULTILINE)
    return rest[: match.start()] if match else rest


def subsections(section: str) -> dict[str, str]:
    """Map each '### ' heading line of the table section to its body."""
    parts = re.split(r"^(### .*)$", section, flags=re.MULTILINE)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def rows(body: str) -> dict[str, list[str]]:
    """Table rows of a subsection, by the parameter name in backticks in the first cell."""
    out = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and re.fullmatch(r"`\w+`", cells[0]):
            out[cells[0].strip("`")] = cells
    return out


def class_rows(section: str, cls: type) -> dict[str, list[str]]:
    matches = [body for head, body in subsections(section).items() if f"`{cls.__name__}`" in head]
    assert len(matches) == 1, (
        f"docs/ODD.md's parameter table needs exactly one '### ...' subsection naming "
        f"`{cls.__name__}` in its heading (found {len(matches)})"
    )
    return rows(matches[0])


def default_of(f: dataclasses.Field) -> object:
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    return value.value if isinstance(value, enum.Enum) else value


def matches_default(cell: str, default: object) -> bool:
    cell = cell.strip().strip("`").strip()
    if isinstance(default, bool):
        return cell.lower() == str(default).lower()
    if isinstance(default, int | float):
        try:
            return math.isclose(float(cell.replace(",", "")), float(default), rel_tol=1e-12)
        except ValueError:
            return False
    if isinstance(default, dict) and set(default) == {"_target_"}:
        return cell == default["_target_"]  # a decision rule, documented by its class
    if isinstance(default, dict):
        return cell == ("{}" if not default else str(default))
    return cell == str(default)


def test_every_odd_element_has_its_heading_in_order(text):
    positions = []
    for i, title in enumerate(ELEMENTS, start=1):
        match = re.search(rf"^## {i}\.? {title}\s*$", text, flags=re.MULTILINE)
        assert match, f"docs/ODD.md lacks the ODD element heading '## {i}. {title}'"
        positions.append(match.start())
    assert positions == sorted(positions), "the ODD elements are out of order"


def test_every_design_concept_has_its_heading_in_section_4(text):
    section = text.split("## 4. Design concepts", 1)[1].split("\n## 5.", 1)[0]
    missing = [
        c for c in DESIGN_CONCEPTS if not re.search(rf"^### {c}\s*$", section, flags=re.MULTILINE)
    ]
    assert not missing, f"section 4 of docs/ODD.md lacks design concepts: {missing}"


def test_the_patterns_named_in_section_1_are_the_stylized_facts(text):
    section = text.split("## 1. Purpose and patterns", 1)[1].split("\n## 2.", 1)[0]
    for fact in ("mql_never_worked", "speed_to_lead", "revenue_uplift", "no_decision"):
        assert f"`{fact}`" in section


@pytest.mark.parametrize("cls", list(documented_classes()), ids=lambda c: c.__name__)
def test_every_parameter_is_in_the_parameter_table(table_section, cls):
    documented = class_rows(table_section, cls)
    names = [f.name for f in documented_classes()[cls]]
    missing = [n for n in names if n not in documented]
    assert not missing, (
        f"parameters of {cls.__name__} missing from docs/ODD.md's parameter table: {missing}; "
        "add a row (name, default, unit, range, meaning, source) for each"
    )
    stale = sorted(set(documented) - set(names))
    assert not stale, f"docs/ODD.md documents {cls.__name__} parameters the code lacks: {stale}"


@pytest.mark.parametrize("cls", list(documented_classes()), ids=lambda c: c.__name__)
def test_documented_defaults_match_the_code(table_section, cls):
    documented = class_rows(table_section, cls)
    wrong = []
    for f in documented_classes()[cls]:
        cells = documented.get(f.name)
        if cells is None:
            continue  # reported by the test above
        assert len(cells) >= 6, f"row `{f.name}` needs name, default, unit, range, meaning, source"
        if not matches_default(cells[1], default_of(f)):
            wrong.append(f"{f.name}: table says {cells[1]!r}, code says {default_of(f)!r}")
    assert not wrong, f"docs/ODD.md's defaults of {cls.__name__} are out of date: {wrong}"


def test_every_row_names_a_source(table_section):
    for cls in documented_classes():
        for name, cells in class_rows(table_section, cls).items():
            assert cells[5], f"`{name}` ({cls.__name__}) has no source (write 'assumption')"


def bound_spellings(value: float) -> set[str]:
    """The ways a range cell may write a bound: 2500, 1e+12, 10^12."""
    spellings = {f"{value:g}"}
    if float(value).is_integer():
        spellings.add(str(int(value)))
        exponent = round(math.log10(value)) if value > 0 else 0
        if value == 10**exponent:
            spellings.add(f"10^{exponent}")
    return spellings


@pytest.mark.parametrize("cls", list(documented_classes()), ids=lambda c: c.__name__)
def test_documented_upper_bounds_match_the_code(table_section, cls):
    documented = class_rows(table_section, cls)
    wrong = []
    for f in documented_classes()[cls]:
        hi, cells = f.metadata.get("hi"), documented.get(f.name)
        if hi is None or cells is None:
            continue
        if not any(s in cells[3].replace(",", "") for s in bound_spellings(hi)):
            wrong.append(f"{f.name}: range {cells[3]!r}, code allows at most {hi:g}")
    assert not wrong, f"docs/ODD.md's ranges of {cls.__name__} miss their upper bounds: {wrong}"
