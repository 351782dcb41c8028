"""Will a run fit this machine? Its peak memory, estimated before it starts.

A run's memory is its open pipeline: every lead is an agent from creation until it closes,
and a won account stays as a customer. So the estimate is Little's law per stage (leads
alive = leads entering per day x days they stay), plus the teams, the daily time series and,
if it is kept in memory, the journey log. Leads enter from the market
(``inbound_leads_per_day``) and from reps' prospecting (at most ``n_reps x
rep_hours_per_day x (1 - rep_admin_share) x prospect_leads_per_hour``, all non-admin hours
spent prospecting). How many of them reach each stage depends on behaviour; the shares below
are about twice those of the calibrated default organisation, so the estimate is on the
safe side: against the peak resident memory of measured runs (``VmHWM``), 1.2 to 1.3 times
for the profiles in ``conf/org`` (about 210-230 MiB, most of it the interpreter and its
libraries), 1.5 times at 100,000 open leads (549 MiB estimated, 376 MiB measured) and 1.65
times at 400,000 (1,428 MiB, 865 MiB). Absurd inputs are refused by orders of magnitude.

``check_fits`` refuses a run whose estimate exceeds the memory available to this process
(``MemAvailable``, or the cgroup's limit if lower), naming the parameter that drives it;
``allow_large_runs=true`` runs it anyway. ``python -m sim`` checks every job before it
starts, and ``FunnelModel`` checks again when it is built.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

from sim.params import BehaviourParams, ConfigError, OrgParams, SimConfig

# Measured on the default organisation scaled 40 and 160 times (300 days): resident memory
# per lead or customer alive at the peak, including its share of the reps' queues and sets,
# the day's agenda and Mesa's registry (1.8 KiB at 100,000 open leads, 1.7 KiB at 400,000).
BYTES_PER_OPEN_LEAD = 2048
BYTES_PER_REP = 1024  # a SalesRep with its empty queue and sets (tracemalloc: ~980 B)
BYTES_PER_MARKETER = 512  # a Marketer and its share of the nurture calendar (~430 B)
BYTES_PER_DAY = 800  # a day's row of the DataCollector, and of the frame made from it
BYTES_PER_JOURNEY = 700  # a journey row kept in memory (~330 B), and in the final frame
BASE_BYTES = 256 * 2**20  # the interpreter with numpy, pandas, Mesa and Hydra (~200 MiB)

# Shares of the leads entering per day that are in each stage, for as long as it lasts
# (the calibrated default organisation: 0.27, 0.25, 0.08 and 0.014).
QUEUED_SHARE = 0.5  # of inbound leads, waiting up to mql_expiry_days for a follow-up
QUALIFYING_SHARE = 0.5  # of all leads, in qualification for qualify_days
OPPORTUNITY_SHARE = 0.15  # of all leads, open opportunities for the sales cycle
CUSTOMER_SHARE = 0.03  # of all leads, customers until the run ends (churn ignored)
CYCLE_MEAN = math.exp(0.4**2 / 2)  # mean of the lognormal factor on the median cycle


@dataclass
class MemoryEstimate:
    """A run's estimated peak memory, in bytes, split by the parameter that drives each part.

    Attributes:
        total: the estimate, the interpreter and its libraries included.
        parts: bytes by the config key that drives them (``org.inbound_leads_per_day``, ...).
        open_leads: leads and customers alive at the peak.
        lead_bytes: the part of ``parts`` that is open leads and customers, by key.
    """

    total: float
    parts: dict[str, float]
    open_leads: float
    lead_bytes: dict[str, float]

    @property
    def driver(self) -> str:
        """The key behind the largest part."""
        return max(self.parts, key=self.parts.__getitem__)

    def reason(self) -> str:
        """What the driver's memory is for, in words."""
        key = self.driver
        if key == "record_journeys":
            return "to keep every lead's journey in memory"
        if key == "days":
            return "for its daily records"
        if self.lead_bytes.get(key, 0.0) < self.parts[key] / 2:
            return "for its agents"
        return "for its open pipeline"


def estimate_memory(cfg: SimConfig, journeys_in_memory: bool = False) -> MemoryEstimate:
    """Estimate the peak memory of a run of ``cfg`` (see the module docstring).

    Args:
        cfg: the run's validated config.
        journeys_in_memory: the journey log is kept in memory (``record_journeys`` without
            a file to stream it to; ``python -m sim`` always streams).
    """
    org, b = cfg.org, cfg.behaviour
    inbound = org.inbound_leads_per_day
    prospected = (
        org.n_reps * org.rep_hours_per_day * (1.0 - b.rep_admin_share) * b.prospect_leads_per_hour
    )
    flow = inbound + prospected
    # Which key to name for the prospected leads: the factor furthest above its default.
    rep_key = (
        "org.n_reps"
        if org.n_reps / OrgParams.n_reps
        > b.prospect_leads_per_hour / BehaviourParams.prospect_leads_per_hour
        else "behaviour.prospect_leads_per_hour"
    )
    capacity = org.n_marketers * org.nurture_capacity_per_marketer
    nurture = min(capacity, inbound * b.nurture_max_days)
    per_lead = (
        b.qualify_days * QUALIFYING_SHARE
        + org.opportunity_cycle_days * CYCLE_MEAN * OPPORTUNITY_SHARE
        + cfg.days * CUSTOMER_SHARE
    )
    leads = {
        "org.nurture_capacity_per_marketer"
        if capacity < inbound * b.nurture_max_days
        else "org.inbound_leads_per_day": nurture,
    }
    _add(
        leads, "org.inbound_leads_per_day", inbound * (b.mql_expiry_days * QUEUED_SHARE + per_lead)
    )
    _add(leads, rep_key, prospected * per_lead)
    lead_bytes = {key: n * BYTES_PER_OPEN_LEAD for key, n in leads.items()}
    parts = dict(lead_bytes)
    _add(parts, "org.n_reps", org.n_reps * BYTES_PER_REP)
    _add(parts, "org.n_marketers", org.n_marketers * BYTES_PER_MARKETER)
    _add(parts, "days", cfg.days * BYTES_PER_DAY)
    if journeys_in_memory:
        _add(parts, "record_journeys", flow * cfg.days * BYTES_PER_JOURNEY)
    return MemoryEstimate(
        total=BASE_BYTES + sum(parts.values()),
        parts=parts,
        open_leads=sum(leads.values()),
        lead_bytes=lead_bytes,
    )


def _add(parts: dict[str, float], key: str, amount: float) -> None:
    parts[key] = parts.get(key, 0.0) + amount


def available_memory() -> int | None:
    """Bytes of memory this process may still use, or None if the system does not say.

    ``MemAvailable`` from ``/proc/meminfo`` (else the physical memory), or the cgroup's
    limit (v2 ``memory.max``, v1 ``memory.limit_in_bytes``) less its usage, if lower.
    """
    found = []
    with contextlib.suppress(OSError, ValueError):
        meminfo = Path("/proc/meminfo").read_text()
        kib = next(
            (ln.split()[1] for ln in meminfo.splitlines() if ln.startswith("MemAvailable:")), None
        )
        if kib is not None:
            found.append(int(kib) * 1024)
    if not found:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        limit = _read_int(limit_file)
        if limit is not None and limit < 2**60:  # "max", or v1's huge "no limit"
            found.append(max(0, limit - (_read_int(usage_file) or 0)))
            break
    return min(found) if found else None


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def check_fits(cfg: SimConfig, journeys_in_memory: bool = False) -> MemoryEstimate:
    """Refuse a run whose estimated memory exceeds what this machine has free.

    Returns:
        the estimate, when the run fits (or ``cfg.allow_large_runs`` is set, or the
        machine's memory is unknown).

    Raises:
        ConfigError: naming the parameter that drives the estimate, the estimate and the
            memory available, and the override.
    """
    estimate = estimate_memory(cfg, journeys_in_memory)
    if cfg.allow_large_runs:
        return estimate
    available = available_memory()
    if available is None or estimate.total <= available:
        return estimate
    if sum(estimate.parts.values()) <= BASE_BYTES:  # no parameter to blame: the machine
        raise ConfigError(
            f"the run would need about {_size(estimate.total)} of memory, most of it for Python "
            f"and its libraries; this machine has only {_size(available)} free (free some "
            "memory, or set allow_large_runs=true to run it anyway)"
        )
    key = estimate.driver
    raise ConfigError(
        f"{key} = {_value(cfg, key)}: the run would need about {_size(estimate.total)} of "
        f"memory {estimate.reason()}; this machine has {_size(available)} free "
        "(set allow_large_runs=true to run it anyway)"
    )


def _value(cfg: SimConfig, key: str) -> str:
    obj = cfg
    for part in key.split("."):
        obj = getattr(obj, part)
    return f"{obj:g}" if isinstance(obj, float) else str(obj).lower()


def _size(n: float) -> str:
    """Bytes in the largest unit that keeps the number >= 1 (GB = 10^9 bytes)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= scale:
            return f"{n / scale:,.3g} {unit}" if n < 100 * scale else f"{n / scale:,.0f} {unit}"
    return f"{n / 1e3:,.0f} kB"
