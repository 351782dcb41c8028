"""``python -m sim.view``: watch the funnel in the browser, flip a tactic, see the difference.

Usage::

    python -m sim.view                                   # http://127.0.0.1:8765/
    python -m sim.view org=small scenario=liaison seed=3 days=250 replicates=20
    python -m sim.view port=9000 host=0.0.0.0            # share it on your network
    python -m sim.view behaviour.follow_up_hours=0.25 --config-dir ~/clients/acme org=mine

Two models run side by side on the same seed, stepping together: the baseline and the chosen
scenario, so the tactics' effect emerges from the same market. The page's controls set the
organisation (a profile and its numbers), the scenario, each tactic on or off with its levers,
the seed and the run length; a change starts both models again from day 0. The page shows the
funnel (leads in each stage) and, over time, revenue to date, the win rate and the MQL
follow-up rate measured so far, rep utilisation and the hand-off threshold. "Run to the end"
runs both models to the run length without drawing each day; at the end, ``replicates`` seed
pairs (the shown seed and the ones after it) run in the background and the page shows the
paired effect with its 95% interval, as the comparison computes it (``sim.effects``).

Options: ``org=``, ``scenario=``, ``seed=``, ``days=`` (the page's starting values),
``replicates=`` (>= 2, default 10), ``n_jobs=`` (processes for the replicates, default -1:
every core), ``host=`` (default 127.0.0.1: only this machine can open the page) and ``port=``
(default 8765). Any other ``key=value`` is a ``python -m sim`` override applied to both models;
``--config-dir DIR`` adds your own config files. Bad input prints one line and exits 2. Ctrl-C
stops the server.

Everything the page loads is served by this process (Solara's assets come from the
``solara-assets`` package; nothing is fetched from a CDN and Solara's telemetry is off), so it
works offline. Needs the ``view`` extra: ``pip install -e '.[view]'``. The engine, controls and
series are in ``sim.live``, the page in ``sim.view_app``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import sys
import warnings
from typing import Any

from sim.live import Controls, choices
from sim.params import ConfigError

OPTIONS: dict[str, Any] = {
    "org": "default",
    "scenario": "full_alignment",
    "seed": 1,
    "days": 500,
    "replicates": 10,
    "n_jobs": -1,
    "host": "127.0.0.1",
    "port": 8765,
}
SETTINGS_VAR = "FUNNEL_VIEW_SETTINGS"  # how the command line reaches the page's module
# Where Solara would fetch an asset missing from the local copy: nowhere (a closed local port),
# so the server never reaches out to the internet either.
NO_CDN = "http://127.0.0.1:9/no-cdn/"


# --- the command line ------------------------------------------------------------------------


def settings_from(argv: list[str]) -> dict[str, Any] | int:
    """The checked settings of a command line, or the exit status (0 after help, 2 on error)."""
    from experiments.common import fail, parse

    parsed = parse(argv, __doc__, OPTIONS)
    if isinstance(parsed, int):
        return parsed
    opts, extra = parsed
    try:
        if importlib.util.find_spec("solara") is None:
            raise ConfigError(
                "the live view needs the view extra: pip install -e '.[view]' (make view does)"
            )
        if opts["replicates"] < 2:
            raise ConfigError(f"replicates={opts['replicates']}: must be at least 2")
        if not 0 < opts["port"] < 65536:
            raise ConfigError(f"port={opts['port']}: must be in [1, 65535]")
        for key in ("org", "scenario"):
            names = choices(key, extra)
            if opts[key] not in names:
                raise ConfigError(
                    f"{key}={opts[key]}: no such {key}; choose one of: " + ", ".join(names)
                )
        controls = Controls(
            org=opts["org"],
            scenario=opts["scenario"],
            seed=opts["seed"],
            days=opts["days"],
            extra=tuple(extra),
        )
        controls.configs()  # every bad key or value, before the server starts
        _check_port(opts["host"], opts["port"])
    except ConfigError as exc:
        return fail(exc)
    return {**opts, "extra": list(extra)}


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"host={host} port={port}: cannot listen there ({exc.strerror}); "
                "choose another port= (or host=)"
            ) from None


def main(argv: list[str] | None = None) -> int:
    """Check the options, then serve the page until Ctrl-C (exit 0)."""
    settings = settings_from(sys.argv[1:] if argv is None else argv)
    if isinstance(settings, int):
        return settings
    from sim.exits import guarded

    return guarded(lambda: _serve(settings), interrupted="stopped")


def _serve(settings: dict[str, Any]) -> int:
    os.environ[SETTINGS_VAR] = json.dumps(settings)
    os.environ["SOLARA_APP"] = "sim.view_app"
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_ASSETS_CDN"] = NO_CDN
    # Solara warns on every page load that a local http page gets a samesite=lax cookie: true,
    # and harmless on 127.0.0.1, where no page embeds the view.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    import uvicorn

    host, port = settings["host"], settings["port"]
    shown = f"[{host}]" if ":" in host else host
    where = (
        "only this machine can open it"
        if host in ("127.0.0.1", "localhost", "::1")
        else f"listening on {host}: other machines can open it"
    )
    print(f"live view: http://{shown}:{port}/  ({where}; Ctrl-C stops it)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
