"""The live view's page (Solara): ``python -m sim.view`` serves it; see ``sim.view``.

It draws what ``sim.live`` computes: the controls from the registries, two models stepping
together, their DataCollector series and, at the end, the paired effect over replicate seeds.
The page's state (``solara.reactive`` values at module level) is Solara's per browser page,
so two people who open the view each have their own models.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import threading
import time
from typing import Any

import matplotlib

matplotlib.use("Agg")
import solara
from matplotlib.figure import Figure
from solara.lab import task

from sim.live import (
    FUNNEL_STAGES,
    SHOWN,
    Controls,
    Pair,
    choices,
    latest,
    org_numbers,
    profile_numbers,
    replicate_effects,
    scenario_switches,
    tactic_file_levers,
    tactic_levers,
)
from sim.params import ConfigError
from sim.view import OPTIONS, SETTINGS_VAR


def _settings() -> dict[str, Any]:
    raw = os.environ.get(SETTINGS_VAR)
    return {**OPTIONS, "extra": [], **(json.loads(raw) if raw else {})}


SETTINGS = _settings()
EXTRA = tuple(SETTINGS["extra"])
LEVERS = tactic_levers()
NUMBERS = org_numbers()


def _start() -> Controls:
    return Controls(
        org=SETTINGS["org"],
        scenario=SETTINGS["scenario"],
        tactics=scenario_switches(SETTINGS["scenario"], EXTRA),
        seed=SETTINGS["seed"],
        days=SETTINGS["days"],
        extra=EXTRA,
    )


controls = solara.reactive(_start())
state = solara.reactive({"pair": None, "error": "", "generation": 0})
snapshot = solara.reactive({"day": 0, "frames": None})
playing = solara.reactive(False)
effects = solara.reactive({"generation": -1, "done": 0, "total": 0, "table": None})
_lock = threading.Lock()  # one stepping thread at a time


def _publish(pair: Pair) -> None:
    snapshot.set({"day": pair.day, "frames": pair.frames()})


def _rebuild(c: Controls) -> None:
    generation = state.value["generation"] + 1
    try:
        pair = Pair(*c.configs())
    except ConfigError as exc:
        state.set({"pair": None, "error": str(exc), "generation": generation})
        snapshot.set({"day": 0, "frames": None})
        return
    state.set({"pair": pair, "error": "", "generation": generation})
    snapshot.set({"day": 0, "frames": pair.frames()})
    effects.set({"generation": -1, "done": 0, "total": 0, "table": None})


def _after_steps(pair: Pair) -> None:
    _publish(pair)
    if pair.done and effects.value["generation"] != state.value["generation"]:
        replicates_task(state.value["generation"])


@task
def step_task(days: int) -> None:
    """Step both models ``days`` days (a thread: the page stays live meanwhile)."""
    pair = state.value["pair"]
    with _lock:
        pair.step(days)
    _after_steps(pair)


@task
def play_task() -> None:
    """Step both models a day at a time, drawing each day, until paused or at the end."""
    pair = state.value["pair"]
    while playing.value and not pair.done and state.value["pair"] is pair:
        with _lock:
            pair.step(1)
        _publish(pair)
        time.sleep(0.01)
    playing.set(False)
    if state.value["pair"] is pair:
        _after_steps(pair)


@task
def end_task() -> None:
    """Run both models to the end without drawing the days between."""
    pair = state.value["pair"]
    with _lock:
        pair.run_to_end()
    _after_steps(pair)


@task
def replicates_task(generation: int) -> None:
    """The paired effect over the replicate seeds, for the models of ``generation``.

    A result that arrives after the controls changed (a newer generation) is dropped.
    """
    pair = state.value["pair"]
    n = SETTINGS["replicates"]
    effects.set({"generation": generation, "done": 0, "total": 2 * n, "table": None})

    def progress(done: int, total: int) -> None:
        if state.value["generation"] == generation:
            effects.set({**effects.value, "done": done, "total": total})

    try:
        table = replicate_effects(
            pair.baseline.config, pair.chosen.config, n, SETTINGS["n_jobs"], progress
        )
    except Exception as exc:  # shown on the page, never swallowed
        table = f"the replicate runs failed: {exc}"
    if state.value["generation"] == generation:
        effects.set({**effects.value, "table": table})


# --- drawing ---------------------------------------------------------------------------


def _kpi_table(frames: dict[str, Any] | None, scenario: str) -> str:
    """The shown series' latest values: baseline, chosen scenario and their difference."""
    last = {role: latest(df) for role, df in (frames or {}).items()}
    rows = [
        f"<tr><th></th><th>baseline</th><th>{html.escape(scenario)}</th><th>difference</th></tr>"
    ]
    for shown in SHOWN:
        a, b = (last.get(role, {}).get(shown.column) for role in ("baseline", "chosen"))
        rows.append(
            f"<tr><td>{html.escape(shown.label)}</td>"
            f'<td data-kpi="baseline:{shown.column}">{shown.format(a)}</td>'
            f'<td data-kpi="chosen:{shown.column}">{shown.format(b)}</td>'
            f'<td data-kpi="difference:{shown.column}">{shown.difference(a, b)}</td></tr>'
        )
    return '<table class="kpi-table">' + "".join(rows) + "</table>"


def _funnel_figure(frames: dict[str, Any], scenario: str) -> Figure:
    fig = Figure(figsize=(7.4, 3.4), layout="constrained")
    ax = fig.subplots()
    names = [s.name.lower() for s in FUNNEL_STAGES]
    ys = range(len(names))
    for offset, (role, label, color) in enumerate(
        (("baseline", "baseline", "#9e9e9e"), ("chosen", scenario, "#1976d2"))
    ):
        row = latest(frames[role])
        counts = [row.get(f"n_{n}", 0) for n in names]
        ax.barh([y + 0.4 * offset - 0.2 for y in ys], counts, 0.4, label=label, color=color)
    ax.set_yticks(list(ys), [n.replace("_", " ") for n in names])
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("leads in the stage at the end of the day (log scale)")
    ax.set_title("The funnel", loc="left", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _series_figure(frames: dict[str, Any], scenario: str) -> Figure:
    fig = Figure(figsize=(9.5, 5.0), layout="constrained")
    axes = fig.subplots(2, 3).ravel()
    for ax, shown in zip(axes, SHOWN, strict=False):
        for role, label, color in (
            ("baseline", "baseline", "#9e9e9e"),
            ("chosen", scenario, "#1976d2"),
        ):
            df = frames[role]
            if not df.empty:
                ax.plot(df["day"], df[shown.column], color=color, lw=1.2, label=label)
        ax.set_title(shown.label, fontsize=8.5, loc="left")
        ax.tick_params(labelsize=7)
        ax.set_xlabel("business day", fontsize=7)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].axis("off")
    if handles:
        axes[-1].legend(handles, labels, loc="center", fontsize=9)
    return fig


def _effects_view(scenario: str) -> None:
    from sim.compare import ranked_table

    e = effects.value
    if e["generation"] != state.value["generation"]:
        solara.Text(
            f"At the end of the run: the paired effect over {SETTINGS['replicates']} seed pairs."
        )
        return
    table = e["table"]
    if table is None:
        solara.Text(
            f"Running {SETTINGS['replicates']} seed pairs in the background: "
            f"{e['done']} of {e['total']} runs done.",
            classes=["effects-progress"],
        )
        return
    if isinstance(table, str):
        solara.Error(table)
        return
    if table.empty:
        solara.Text("The chosen scenario is the baseline itself: no effect to estimate.")
        return
    shown = ranked_table(table).T
    shown.columns = [scenario]
    # (HTML, not solara.Markdown: its math support loads KaTeX, which solara-assets lacks)
    solara.HTML(
        tag="div",
        unsafe_innerHTML=(
            f"<b>Paired effect against the baseline</b> (seeds {pair_seeds()}; relative effect "
            "with its 95% interval, paired by seed; (ns): the interval includes zero)"
        ),
    )
    solara.HTML(
        tag="div",
        unsafe_innerHTML=shown.to_html(classes="effects-table", border=0),
        classes=["effects"],
    )


def pair_seeds() -> str:
    """The replicate seeds, as a range."""
    seed, n = controls.value.seed, SETTINGS["replicates"]
    return f"{seed}-{seed + n - 1}"


# --- controls ------------------------------------------------------------------------


def _set(**changes: Any) -> None:
    controls.set(dataclasses.replace(controls.value, **changes))


def _choose_scenario(name: str) -> None:
    _set(scenario=name, tactics=scenario_switches(name, EXTRA))


def _choose_org(name: str) -> None:
    _set(org=name, org_numbers={})


def _set_number(name: str, value: Any) -> None:
    if value is None:
        return
    _set(org_numbers={**controls.value.org_numbers, name: value})


def _switch(tactic: str, on: bool) -> None:
    tactics = dict(controls.value.tactics or {})
    if on:
        tactics[tactic] = tactic_file_levers(tactic, EXTRA)
    else:
        tactics.pop(tactic, None)
    _set(tactics=tactics)


def _set_lever(tactic: str, lever: str, value: Any) -> None:
    if value is None:
        return
    tactics = dict(controls.value.tactics or {})
    tactics[tactic] = {**tactics.get(tactic, {}), lever: value}
    _set(tactics=tactics)


def _number_input(label: str, kind: str, value: Any, on_value: Any, **kw: Any) -> None:
    if kind == "int":
        solara.InputInt(label, value=int(value), on_value=on_value, dense=True, **kw)
    else:
        solara.InputFloat(label, value=float(value), on_value=on_value, dense=True, **kw)


@solara.component
def ControlPanel() -> None:  # noqa: N802 (Solara components are named like classes)
    """The sidebar: organisation, scenario, tactics and their levers, seed, days."""
    c = controls.value
    busy = step_task.pending or play_task.pending or end_task.pending
    solara.Select(
        "organisation",
        values=choices("org", EXTRA),
        value=c.org,
        on_value=_choose_org,
        disabled=busy,
    )
    profile = solara.use_memo(lambda: profile_numbers(c.org, EXTRA), [c.org])
    with solara.Details("organisation's numbers", expand=False):
        for number in NUMBERS:
            value = c.org_numbers.get(number.name, profile[number.name])
            _number_input(
                f"{number.name} ({number.unit})" if number.unit else number.name,
                number.kind,
                value,
                lambda v, n=number.name: _set_number(n, v),
                disabled=busy,
            )
    solara.Select(
        "scenario",
        values=choices("scenario", EXTRA),
        value=c.scenario,
        on_value=_choose_scenario,
        disabled=busy,
    )
    for tactic, levers in LEVERS.items():
        on = tactic in (c.tactics or {})
        solara.Switch(
            label=tactic.replace("_", " "),
            value=on,
            on_value=lambda v, t=tactic: _switch(t, v),
            disabled=busy,
            classes=[f"tactic-{tactic}"],
        )
        if on:
            for lever in levers[1:]:
                _number_input(
                    f"  {lever.name} ({lever.unit})" if lever.unit else f"  {lever.name}",
                    lever.kind,
                    c.tactics[tactic][lever.name],
                    lambda v, t=tactic, n=lever.name: _set_lever(t, n, v),
                    disabled=busy,
                )
    _number_input("seed", "int", c.seed, lambda v: v is not None and _set(seed=v), disabled=busy)
    _number_input(
        "run length (business days)",
        "int",
        c.days,
        lambda v: v is not None and _set(days=v),
        disabled=busy,
    )


@solara.component
def Charts(  # noqa: N802
    frames: dict[str, Any], label: str, key: tuple[int, int]
) -> None:
    """The funnel and the series, drawn again only when a day has passed (``key``)."""
    funnel = solara.use_memo(lambda: _funnel_figure(frames, label), [key, label])
    series = solara.use_memo(lambda: _series_figure(frames, label), [key, label])
    solara.FigureMatplotlib(funnel, dependencies=[key, label], format="png")
    solara.FigureMatplotlib(series, dependencies=[key, label], format="png")


@solara.component
def Page() -> None:  # noqa: N802
    """The page: controls, buttons, the two models' numbers and charts, the paired effect."""
    solara.Title("Funnel alignment: live view")
    c = controls.value
    solara.use_effect(lambda: _rebuild(c), [c])
    st, snap = state.value, snapshot.value
    pair = st["pair"]
    label = pair.chosen.config.scenario.name if pair else c.scenario
    busy = step_task.pending or play_task.pending or end_task.pending
    with solara.Sidebar():
        ControlPanel()
    with solara.Column(style={"padding": "0 12px"}):
        if st["error"]:
            solara.Error(st["error"], classes=["config-error"])
            return
        for job in (step_task, play_task, end_task):
            if job.error:  # a failure while stepping: one line on the page, never silent
                solara.Error(f"the run failed: {job.exception}", classes=["run-error"])
        if pair is None:
            solara.Text("Building the models...")
            return
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                f'day <span data-kpi="day">{snap["day"]}</span> of {pair.days} '
                f"(seed {c.seed}; the first {pair.baseline.config.warmup_days} days are "
                "the warm-up, left out of the rates)"
            ),
            classes=["day"],
        )
        with solara.Row():
            solara.Button(
                "step 1 day",
                on_click=lambda: step_task(1),
                disabled=busy or pair.done,
                classes=["step-1"],
            )
            solara.Button(
                "step 20 days",
                on_click=lambda: step_task(20),
                disabled=busy or pair.done,
                classes=["step-20"],
            )
            if playing.value:
                solara.Button("pause", on_click=lambda: playing.set(False), classes=["pause"])
            else:
                solara.Button(
                    "play",
                    on_click=lambda: (playing.set(True), play_task()),
                    disabled=busy or pair.done,
                    classes=["play"],
                )
            solara.Button(
                "run to the end",
                on_click=end_task,
                disabled=busy or pair.done,
                color="primary",
                classes=["run-to-end"],
            )
            solara.Button(
                "restart",
                on_click=lambda: _rebuild(controls.value),
                disabled=busy,
                classes=["restart"],
            )
        solara.HTML(tag="div", unsafe_innerHTML=_kpi_table(snap["frames"], label), classes=["kpis"])
        if snap["frames"] is not None and snap["day"] > 0:
            Charts(snap["frames"], label, (st["generation"], snap["day"]))
        if pair.done:
            _effects_view(label)
        solara.Text(
            f"The same run from the command line: {c.command()}",
            style={"font-size": "11px", "color": "#666"},
        )
        solara.Style(_CSS)


_CSS = """
.kpi-table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
.kpi-table td, .kpi-table th { padding: 3px 12px; text-align: right;
    border-bottom: 1px solid #ddd; }
.kpi-table td:first-child { text-align: left; }
.effects-table { border-collapse: collapse; font-size: 14px; }
.effects-table td, .effects-table th { padding: 3px 12px; text-align: right; }
"""
