"""Bad input is refused everywhere, with one message naming the key, the value and the rule."""

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim import FunnelModel
from sim.cli import main as cli_main
from sim.config import CONF_DIR
from sim.params import BehaviourParams, ConfigError, OrgParams
from tests.conftest import conf_file

NUMERIC = [
    (section, f)
    for section, cls in (("org", OrgParams), ("behaviour", BehaviourParams))
    for f in dataclasses.fields(cls)
    if f.type in ("int", "float")
]
BOUNDED_BELOW = [(s, f) for s, f in NUMERIC if f.metadata.get("lo") is not None]
BOUNDED_ABOVE = [(s, f) for s, f in NUMERIC if f.metadata.get("hi") is not None]


def _too_low(f, gap):
    lo = f.metadata["lo"]
    value = lo - gap if not f.metadata.get("lo_open") else lo - gap + (gap if gap < 1 else 0)
    if f.type == "int":
        return math.floor(lo) - max(1, int(gap))
    return value if value < lo or (f.metadata.get("lo_open") and value <= lo) else lo - 1


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(BOUNDED_BELOW), st.floats(0.5, 1e6))
def test_values_below_their_range_are_refused_everywhere(field, gap):
    section, f = field
    value = _too_low(f, gap)
    key = f"{section}.{f.name}"
    with pytest.raises(ConfigError, match=rf"^{key} = "):
        sim.build_config({section: {f.name: value}})
    with pytest.raises(ConfigError, match=rf"^{key} = "):
        FunnelModel(**{f.name: value})
    with pytest.raises(ConfigError, match=rf"^{key} = "):
        sim.load_config([f"{key}={value}"])


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(BOUNDED_ABOVE), st.floats(1e-3, 1e3))
def test_values_above_their_range_are_refused(field, gap):
    section, f = field
    value = f.metadata["hi"] + (math.ceil(gap) if f.type == "int" else gap)
    with pytest.raises(ConfigError, match=rf"^{section}\.{f.name} = .*must be in [\[(]"):
        sim.run(**{f.name: value})


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(NUMERIC), st.text("abcxyz", min_size=1, max_size=6))
def test_wrong_types_are_refused_with_the_key(field, text):
    section, f = field
    with pytest.raises(ConfigError, match=rf"{section}\.{f.name}"):
        sim.load_config([f"{section}.{f.name}={text}"])
    with pytest.raises(ConfigError, match=rf"{section}\.{f.name}"):
        sim.build_config({section: {f.name: text}})


@pytest.mark.parametrize(
    "override",
    [
        "org.n_reps=-1",
        "behaviour.contact_rate=2",
        "org.n_repz=1",
        "scenario=nonesuch",
        "warmup_days=999",
        "days=0",
        "behaviour.win_base=-0.5",
        "org.rep_hours_per_day=0",
        "seed=-3",
    ],
)
def test_the_cli_refuses_without_traceback_or_files(tmp_path, monkeypatch, capsys, override):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    status = cli_main([override])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert not any(cwd.iterdir())


def test_an_org_file_with_a_missing_field_is_refused():
    text = (CONF_DIR / "org" / "small.yaml").read_text()
    partial = "\n".join(ln for ln in text.splitlines() if not ln.startswith("n_reps"))
    with (
        conf_file("org", "_test_partial", partial) as f,
        pytest.raises(ConfigError, match=r"org.n_reps: missing value; the org file must set it"),
    ):
        sim.load_config([f"org={f.name}", f.searchpath])


def test_malformed_yaml_is_refused_with_its_file_and_line():
    with (
        conf_file("org", "_test_broken", "name: [broken\n") as f,
        pytest.raises(
            ConfigError, match=r"/org/_test_broken.yaml, line 2, column 1: malformed YAML"
        ),
    ):
        sim.load_config([f"org={f.name}", f.searchpath])


def test_an_empty_scenario_is_refused():
    with (
        conf_file("scenario", "_test_empty", "") as f,
        pytest.raises(ConfigError, match=r"scenario.tactics: missing value"),
    ):
        sim.load_config([f"scenario={f.name}", f.searchpath])


def test_a_file_with_an_unknown_key_is_refused():
    text = (CONF_DIR / "org" / "small.yaml").read_text() + "n_salespeople: 3\n"
    with (
        conf_file("org", "_test_extra", text) as f,
        pytest.raises(ConfigError, match=r"^org/_test_extra.yaml: org.n_salespeople: unknown key"),
    ):
        sim.load_config([f"org={f.name}", f.searchpath])
