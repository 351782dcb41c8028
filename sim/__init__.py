"""Funnel alignment simulator: an agent-based model of B2B marketing and sales funnels.

Quick use::

    import sim
    result = sim.run(sim.load_config(["scenario=full_alignment", "seed=3"]))
    result.summary["revenue"]

    from sim import FunnelModel
    model = FunnelModel(n_reps=10, tactics=["liaison"], rng=3)
    model.run()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from sim.params import ConfigError, SimConfig, build_config

if TYPE_CHECKING:
    from sim.model import FunnelModel
    from sim.runner import RunResult, run

try:
    __version__ = version("funnel-alignment-sim")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"


def load_config(overrides: list[str] | None = None, config_name: str = "config") -> SimConfig:
    """Compose ``conf/`` with Hydra-style ``overrides`` and return the validated config.

    Imports Hydra lazily: the model itself never needs it.
    """
    from sim.config import load_config as _load

    return _load(overrides or [], config_name=config_name)


__all__ = [
    "ConfigError",
    "FunnelModel",
    "RunResult",
    "SimConfig",
    "__version__",
    "build_config",
    "load_config",
    "run",
]


# The model (and with it Mesa, SciPy and networkx) loads on first use, not with the package:
# the command line validates and launches sweeps without it.
_LAZY = {"FunnelModel": "sim.model", "RunResult": "sim.runner", "run": "sim.runner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
