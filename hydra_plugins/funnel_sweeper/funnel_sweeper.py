"""``hydra/sweeper=funnel``: Hydra's basic sweeper, checking a batch without recomposing it.

Before launching a batch, Hydra's basic sweeper composes every job's config once in the
main process to catch errors early (``Sweeper.validate_batch_is_legal``); the launcher then
composes each again where the job runs. At tens of milliseconds a composition, that serial
check cost more than a second per 20 jobs, and it was the part of a local sweep that does
not run in parallel. This sweeper makes the same check with ``sim.config.SweepComposer``:
one full composition per choice of config groups, and each job's value overrides applied to
a copy with Hydra's own function, so a job fails here exactly when Hydra's check would fail;
jobs that differ only in a plain ``seed=<n>`` compose alike and are checked once.
Everything else (expanding the sweep, batches, launching) is the basic sweeper's.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore


@dataclass
class FunnelSweeperConf(BasicSweeperConf):
    """Same options as the basic sweeper (``max_batch_size``, ``params``)."""

    _target_: str = "hydra_plugins.funnel_sweeper.funnel_sweeper.FunnelSweeper"


ConfigStore.instance().store(
    group="hydra/sweeper", name="funnel", node=FunnelSweeperConf, provider="funnel-alignment-sim"
)


class FunnelSweeper(BasicSweeper):
    """The basic sweeper with a batch check that reuses compositions (see the module doc)."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        """Compose every job of ``batch`` as the launcher will; raise on the first failure."""
        # Imported here: Hydra imports every plugin module when it starts, in any app.
        from sim.config import SweepComposer

        assert self.hydra_context is not None and self.config is not None
        loader, master = self.hydra_context.config_loader, self.config
        if master.hydra.searchpath:  # groups from other paths: compose every job in full
            super().validate_batch_is_legal(batch)
            return
        composer = SweepComposer(
            loader, lambda overrides: loader.load_sweep_config(master, list(overrides))
        )
        for overrides in composer.distinct(batch):  # jobs differing only in seed: once
            composer.compose(overrides)
