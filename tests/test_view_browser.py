"""The live view in a real browser: headless Chromium drives ``python -m sim.view``.

Needs Debian's ``chromium`` (``.ci/ensure-venv`` installs it when it can) and the Python
``playwright`` package (the ``dev`` extra), which drives that system browser (Playwright's own
browser download cannot work offline). Without Chromium the test is skipped, saying why;
under CI (``CI=true``) it fails instead, so CI always runs it.

Hermetic: the server runs on a free port of 127.0.0.1 in its own process group, which is all
the test stops; the browser is its own. The screenshot is saved as an artefact in
``test-artifacts/`` (or ``$FUNNEL_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim import live
from sim.model import FunnelModel
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("FUNNEL_TEST_ARTIFACTS", ROOT / "test-artifacts"))
# A short run of the small organisation: the mechanisms are the same at any length.
RUN = {"org": "small", "seed": 2, "days": 150, "extra": ("warmup_days=40",)}
# Flags for a closed network (no background connections) and a root user (no sandbox).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Debian's chromium is not installed (.ci/ensure-venv installs it as root with apt)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


@pytest.fixture
def browser_ready():
    """Skip (or, under CI, fail) when the browser cannot run here, before any server starts."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)


class _PortTakenError(Exception):
    """Another process took the free port between the probe and the server's bind."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(port: int) -> tuple[subprocess.Popen, str]:
    """Start ``python -m sim.view`` on ``port`` and wait until it serves the page.

    Raises:
        _PortTakenError: the port was free when probed but taken before the server listened (a
            window of seconds, in which another process, such as a test on another xdist
            worker, may bind it); the server has exited.
    """
    args = [f"{k}={v}" for k, v in RUN.items() if k != "extra"]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.view",
            f"port={port}",
            "scenario=baseline",
            *args,
            *RUN["extra"],
            "replicates=2",
            "n_jobs=1",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: stopped below, and nothing else
    )
    try:
        line = proc.stdout.readline()
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return proc, line
            except OSError:
                if proc.poll() is not None:
                    err = proc.stderr.read()
                    # sim.view's own check, or uvicorn's bind after it
                    if "cannot listen there" in err or "address already in use" in err.lower():
                        raise _PortTakenError(err) from None
                    raise RuntimeError(f"the server did not start: {err}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start within 60 s") from None
                time.sleep(0.3)
    except BaseException:
        _stop(proc)
        raise


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group, politely, then by force.

    A server that has exited (and was reaped) is not signalled: its group id may be another's.
    """
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture
def server():
    """``python -m sim.view`` on a free localhost port; yields (url, first printed line).

    A free port can be taken by another process before the server binds it: then another
    free port, three times at most.
    """
    for attempt in range(3):
        port = _free_port()
        try:
            proc, line = _start(port)
            break
        except _PortTakenError:
            if attempt == 2:
                raise
    try:
        yield f"http://127.0.0.1:{port}/", line
    finally:
        _stop(proc)


def _expected(controls: live.Controls, days: int) -> dict[str, dict[str, str]]:
    """What the page must show after ``days``: each model run alone, formatted alike."""
    out = {}
    for role, cfg in zip(("baseline", "chosen"), controls.configs(), strict=True):
        model = FunnelModel(cfg)
        model.run(days)
        row = live.latest(live.frame(model))
        out[role] = {s.column: s.format(row[s.column]) for s in live.SHOWN}
    return out


def _shown(page) -> dict[str, dict[str, str]]:
    return {
        role: {s.column: page.inner_text(f"[data-kpi='{role}:{s.column}']") for s in live.SHOWN}
        for role in ("baseline", "chosen")
    }


def test_the_live_view_in_a_browser(browser_ready, server):
    from playwright.sync_api import expect, sync_playwright

    url, line = server
    assert line.startswith(f"live view: {url}") and "only this machine can open it" in line
    liaison = live.scenario_switches("liaison")
    controls = live.Controls(scenario="baseline", tactics=liaison, **RUN)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500})
            requests, failures, errors = [], [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("response", lambda r: r.status >= 400 and failures.append((r.status, r.url)))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            day = page.locator("[data-kpi='day']")
            expect(day).to_have_text("0", timeout=60_000)

            # switch the liaison on: the chosen model becomes the baseline plus a liaison
            switch = page.get_by_role("switch", name="liaison")
            expect(switch).not_to_be_checked()
            page.get_by_text("liaison", exact=True).click()  # the switch's label, as a user does
            expect(switch).to_be_checked()
            expect(page.locator(".kpi-table th").nth(2)).to_contain_text("baseline~")

            page.click(".step-20")
            expect(day).to_have_text("20", timeout=30_000)
            early = _shown(page)
            for _ in range(2):
                page.click(".step-20")
            expect(day).to_have_text("60", timeout=30_000)
            page.click(".step-1")
            expect(day).to_have_text("61", timeout=30_000)
            shown = _shown(page)
            assert shown == _expected(controls, 61)  # each model's DataCollector, as shown
            assert shown["chosen"] != early["chosen"]  # the numbers move as the days pass
            assert shown["chosen"] != shown["baseline"]  # the liaison changes the outcome

            page.click(".play")  # a day at a time, drawn each day, until paused
            page.wait_for_function(
                "Number(document.querySelector(\"[data-kpi='day']\").textContent) >= 63"
            )
            page.click(".pause")
            expect(page.locator(".play")).to_be_enabled(timeout=30_000)
            paused = int(day.inner_text())
            page.wait_for_timeout(500)
            assert 63 <= int(day.inner_text()) == paused < 150

            page.click(".run-to-end")
            expect(day).to_have_text("150", timeout=60_000)
            effects = page.locator(".effects-table")
            expect(effects).to_contain_text("revenue/yr", timeout=120_000)
            assert "%" in effects.inner_text()
            assert _shown(page) == _expected(controls, 150)

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / "view.png", full_page=True)
        finally:
            browser.close()

    local = ("http://127.0.0.1:", "ws://127.0.0.1:", "blob:", "data:")
    external = [r for r in requests if not r.startswith(local)]
    assert external == [], f"the page loaded from outside this machine: {external[:5]}"
    assert failures == [] and errors == []
