"""Swappable decision rules: small classes with one documented method each.

Agents hold *what* they can do; a policy decides *which* of it to do. The defaults below are
the model's standard behaviour; a researcher replaces one by passing another instance to
``FunnelModel`` (``follow_up_policy=...``, ``threshold_policy=...``) without forking agents.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.agents import Lead, Marketer, SalesRep


class Goal(enum.Enum):
    """What marketing is measured on."""

    mql_volume = "mql_volume"  # the classic MQL quota
    revenue = "revenue"  # shared revenue goals: what sales can turn into deals


class FollowUpPolicy:
    """Which handed leads a rep follows up today, and in what order.

    Default (triage as described by Sabnis et al. 2013): SLA-escalated leads first; then the
    rest by the rep's perceived value, best first, skipping leads below the rep's bar. A rep
    never works more than ``n`` leads (its spare follow-up capacity).
    """

    def choose(self, rep: SalesRep, queue: list[Lead], n: int) -> list[Lead]:
        """Return at most ``n`` leads from ``queue`` to follow up now, in order."""
        if n <= 0 or not queue:
            return []
        escalated = [lead for lead in queue if lead.escalated]
        if len(escalated) >= n:
            return escalated[:n]
        bar = rep.model.behaviour.follow_up_bar
        rest = [lead for lead in queue if not lead.escalated and rep.perceived(lead) >= bar]
        rest.sort(key=rep.perceived, reverse=True)
        return escalated + rest[: n - len(escalated)]


class ThresholdPolicy:
    """How a marketer moves its hand-off threshold at each review.

    Under an MQL-volume goal it lowers the threshold when it handed over fewer MQLs than its
    quota (volume at the expense of quality). Under a revenue goal it raises the threshold
    while sales leaves more of its MQLs unworked than a target share, or while too few of
    the worked ones qualify, and otherwise lowers it: the flow of MQLs follows what sales can
    work and turn into opportunities.
    """

    def update(self, marketer: Marketer) -> float:
        """Return the marketer's new hand-off threshold."""
        b = marketer.model.behaviour
        theta = marketer.threshold
        match marketer.goal:
            case Goal.mql_volume:
                quota = b.mql_quota_share * marketer.period_leads
                if quota > 0:
                    gap = (quota - marketer.period_mqls) / quota
                    theta -= b.threshold_step * max(-1.0, min(1.0, gap))
            case Goal.revenue:
                # Sales' outcomes are visible to marketing under shared goals: raise the bar
                # while sales leaves MQLs unworked or too few of them qualify, else lower it.
                reps = marketer.model._rep_list
                worked = sum(r.period_mql_outcomes for r in reps)
                sqls = sum(r.period_mql_sqls for r in reps)
                kpis = marketer.model.kpis
                resolved = kpis.period_followups + kpis.period_ignored
                ignored_share = kpis.period_ignored / resolved if resolved else 0.0
                conversion = sqls / worked if worked else 1.0
                if ignored_share > marketer.target_ignored_share:
                    theta += b.threshold_step * min(
                        1.0, 4 * (ignored_share - marketer.target_ignored_share)
                    )
                elif conversion < marketer.min_mql_sql_rate:
                    theta += b.threshold_step * min(1.0, 1 - conversion / marketer.min_mql_sql_rate)
                else:
                    theta -= b.threshold_step * 0.5
            case _:
                raise ValueError(f"unknown marketing goal {marketer.goal!r}")
        return min(0.95, max(0.05, theta))
