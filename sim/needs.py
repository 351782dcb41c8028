"""The buyer's need, marketing's promise and what the rep learns: the information mechanism.

Every lead carries a latent *need* ``n`` (what problem the buyer is trying to solve), a
standard normal drawn with the lead. Nobody sees it. What people know of it:

- **Marketing's read** comes from what the buyer engaged with (content, campaigns):
  ``m = n + promise_noise * e_m``. Marketing's campaigns and content speak to that read, so
  it is also what marketing *promised* the buyer. Rep-prospected leads have no promise
  from marketing.
- **The rep's discovery** (the qualification calls every opportunity goes through):
  ``d = n + discovery_noise * e_d``.
- **The engagement history**: a rep who sees marketing's history of the lead (one CRM for
  both teams, or a liaison's briefing; ``lead.history_seen``) knows ``m`` as well.

The rep pitches, and sells, its best estimate of the need given what it knows: the
posterior mean of ``n`` under the standard-normal prior, ``pitch = sum(s/v) / (1 + sum(1/v))``
over its signals ``s`` with error variances ``v``. A better-informed rep pitches closer to the
need, and, because it knows what was promised, closer to the promise.

How far things are apart is measured as a *match* in (0, 1]:
``match(a, b) = exp(-(a - b)^2 / (2 * pitch_tolerance^2))``. The win chance and the deal's
scope rise with ``match(pitch, need)``; churn rises as ``match(pitch, need)`` (sold the wrong
thing) and ``match(promise, pitch)`` (sold unlike what was promised) fall (``sim.agents``).

The errors ``e_m`` and ``e_d`` are standard normals keyed by the lead's place in the market
(``model.keyed_normal``): the same buyer is misread the same way in every scenario, so a
tactic changes only *which* signals the rep has, never the draws.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.funnel import MARKETING

if TYPE_CHECKING:
    from sim.agents import Lead


def promise(lead: Lead) -> float:
    """What marketing promised the buyer (its read of the need); the pitch for rep leads."""
    if lead.source != MARKETING:
        return lead.pitch
    model = lead.model
    return lead.need + model.behaviour.promise_noise * model.keyed_normal("promise", lead)


def discover(lead: Lead) -> float:
    """The rep's estimate of the need after discovery, with the history if it has seen it.

    Sets and returns ``lead.pitch``: what the rep will pitch and sell.
    """
    model = lead.model
    b = model.behaviour
    signals = [(lead.need + b.discovery_noise * model.keyed_normal("discovery", lead),
                b.discovery_noise**2)]  # fmt: skip
    if lead.history_seen and lead.source == MARKETING:
        signals.append((promise(lead), b.promise_noise**2))
    exact = [s for s, v in signals if v == 0.0]
    if exact:  # a noiseless signal is the need itself
        lead.pitch = exact[0]
    else:
        precision = 1.0 + sum(1.0 / v for _, v in signals)
        lead.pitch = sum(s / v for s, v in signals) / precision
    return lead.pitch


def matches(lead: Lead) -> tuple[float, float]:
    """(pitch to need, promise to pitch): how well the rep read the need and kept the promise.

    What churn reads (``Customer.churn_probability``) and the journey log records; ``nan``
    for a lead never pitched (no opportunity).
    """
    if math.isnan(lead.pitch):
        return math.nan, math.nan
    tol = lead.model.behaviour.pitch_tolerance
    return match(lead.pitch, lead.need, tol), match(promise(lead), lead.pitch, tol)


def match(a: float, b: float, tolerance: float) -> float:
    """How well ``a`` matches ``b``: 1 when equal, falling with the squared gap."""
    if tolerance <= 0.0:
        return 1.0 if a == b else 0.0
    return math.exp(-((a - b) ** 2) / (2.0 * tolerance**2))
