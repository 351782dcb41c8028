"""Funnel stages and lead definitions (separate vs combined funnel).

A lead is in exactly one stage at a time. Open stages hold leads that are still Mesa agents
in the model; closed stages hold leads that have left it and live on as rows in the journey
log. ``CUSTOMER`` is a won deal whose account is still active; it ends as ``CHURNED`` or stays
a customer at the end of the run.

Stage flow::

    LEAD -> MQL -> SAL -> SQL -> CUSTOMER -> CHURNED
     |       |      |       `--> LOST | NO_DECISION
     |       |      `--> DISQUALIFIED (or recycled to LEAD)
     |       |--> IGNORED (never worked) | REJECTED (worked, not accepted; or recycled)
     `--> DROPPED (never handed over)

Rep-prospected leads enter at ``LEAD`` and are judged on the spot (``SAL`` or ``REJECTED``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Stage(enum.IntEnum):
    """Funnel stages; the integer value indexes the stage counts."""

    LEAD = 0  # created, with marketing (scoring, nurture, validation)
    MQL = 1  # handed to sales, waiting for a first follow-up
    SAL = 2  # accepted by a rep, being qualified
    SQL = 3  # open opportunity
    CUSTOMER = 4  # won, account active
    CHURNED = 5  # won, then lost at a renewal
    LOST = 6  # opportunity lost to a competitor
    NO_DECISION = 7  # opportunity ended without a decision
    IGNORED = 8  # handed over, never followed up
    REJECTED = 9  # followed up, not accepted (not reached or not a fit)
    DISQUALIFIED = 10  # accepted, did not qualify as an opportunity
    DROPPED = 11  # never handed over (nurture full or timed out, or blocked by validation)


# Where a lead came from: marketing's inbound flow, or a rep's prospecting.
MARKETING = "marketing"
REP = "rep"

OPEN_STAGES = (Stage.LEAD, Stage.MQL, Stage.SAL, Stage.SQL)
N_STAGES = len(Stage)


class StageLedger:
    """Counts of leads per stage, changed only by ``enter`` and ``move``.

    Keeping the counts in one place makes "every lead is in exactly one stage and the counts
    add up to leads created" a property of the bookkeeping that tests can check daily.
    """

    def __init__(self) -> None:
        # A list, not a numpy array: these are the model's most frequent updates, and a
        # Python list index costs a fifth of a numpy scalar update.
        self.counts: list[int] = [0] * N_STAGES
        self.created = 0

    def enter(self, stage: Stage) -> None:
        """Record a newly created lead in ``stage``."""
        self.counts[stage] += 1
        self.created += 1

    def move(self, old: Stage, new: Stage) -> None:
        """Record a lead's move from ``old`` to ``new``."""
        self.counts[old] -= 1
        self.counts[new] += 1


@dataclass(frozen=True)
class LeadDefinition:
    """A way of judging a lead: a score ``fit_weight*fit + (1-fit_weight)*intent + noise``.

    Marketing's own definition leans on engagement (intent signals such as clicks and
    downloads); sales' own definition is about fit. A combined funnel replaces both with one
    agreed definition. The noise is each lead's fixed measurement error (drawn at creation)
    scaled by ``noise``, so a less noisy definition judges the *same* lead more accurately.
    """

    fit_weight: float
    noise: float

    def score(self, fit: float, intent: float, z: float) -> float:
        """Return the score of a lead with latent ``fit``, ``intent`` and standard error ``z``."""
        return self.fit_weight * fit + (1.0 - self.fit_weight) * intent + self.noise * z
