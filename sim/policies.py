"""Swappable decision rules: small classes with one documented method each.

Agents hold *what* they can do; a policy decides *which* of it to do. The defaults below are
the model's standard behaviour. A researcher replaces one without forking the package:

- in config, by naming a class with ``_target_`` (plus keyword arguments):
  ``python -m sim policies.follow_up._target_=mypkg.rules.OldestFirst``;
- from Python: ``FunnelModel(follow_up_policy=OldestFirst())``.

A replacement named in config subclasses the default it replaces and overrides its method
with the same parameters: ``FollowUpPolicy.choose``, ``ThresholdPolicy.update``,
``RoutingPolicy.choose_rep``. Both are checked before the class is instantiated, and its
keyword arguments against its constructor, so a config cannot build an arbitrary class; the
import of the ``_target_``'s module still runs that module's code (config is code: use only
trusted config files). An instance passed from Python only needs the method.

What a policy returns is checked where the model uses it (``follow_up_error``,
``check_threshold``, ``check_rep`` below): breaking the method's contract stops the run with a
``PolicyError`` naming the class and what it returned.
"""

from __future__ import annotations

import enum
import heapq
import inspect
import math
import numbers
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sim.schema import ConfigError, check_arguments, import_target

if TYPE_CHECKING:
    from sim.agents import Lead, Marketer, SalesRep
    from sim.model import FunnelModel


class Goal(enum.Enum):
    """What marketing is measured on."""

    mql_volume = "mql_volume"  # the classic MQL quota
    revenue = "revenue"  # shared revenue goals: what sales can turn into deals


class FollowUpPolicy:
    """Which handed leads a rep follows up today, and in what order.

    Default (triage as described by Sabnis et al. 2013): by the rep's perceived value, best
    first, skipping leads below the rep's bar (those it leaves unworked by choice). A rep
    never works more than ``n`` leads (its spare follow-up capacity).
    """

    def choose(self, rep: SalesRep, queue: list[Lead], n: int) -> list[Lead]:
        """Return at most ``n`` leads from ``queue`` to follow up now, in order."""
        if n <= 0 or not queue:
            return []
        bar = rep.model.behaviour.follow_up_bar
        # (perceived value, lead): each lead valued once
        values = rep.perceived_all(queue)
        rest = [(v, lead) for v, lead in zip(values, queue, strict=True) if v >= bar]
        # the best n, ties in queue order: the same as a stable sort, best first
        return [lead for _, lead in heapq.nlargest(n, rest, key=itemgetter(0))]


class ThresholdPolicy:
    """How a marketer moves its hand-off threshold at each review.

    Under an MQL-volume goal it lowers the threshold when it handed over fewer MQLs than its
    quota (volume at the expense of quality). Under a revenue goal it raises the threshold
    while sales leaves more of its MQLs unworked than a target share, or while too few of
    the worked ones qualify, and otherwise lowers it: the flow of MQLs follows what sales can
    work and turn into opportunities.
    """

    def update(self, marketer: Marketer) -> float:
        """Return the marketer's new hand-off threshold: a number in [0, 1]."""
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
                reps = marketer.model.rep_order
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


class RoutingPolicy:
    """Which rep a liaison gives a newly handed lead to.

    Default: the rep with the most spare follow-up slots net of its queue; ties go to the
    rep listed first.
    """

    def choose_rep(self, model: FunnelModel, lead: Lead) -> SalesRep:
        """Return the rep (one of ``model.reps``) that should get ``lead``.

        None leaves the lead to the default territory routing.
        """
        return max(model.rep_order, key=room)


def room(rep: SalesRep) -> int:
    """A rep's room for new leads: yesterday's unused follow-up slots, net of its queue."""
    return rep.spare_follow_ups - len(rep.queue)


#: Each configurable decision, the default class, and the method a replacement must have.
POLICY_KINDS: dict[str, tuple[type, str]] = {
    "follow_up": (FollowUpPolicy, "choose"),
    "threshold": (ThresholdPolicy, "update"),
    "routing": (RoutingPolicy, "choose_rep"),
}


def make_policy(kind: str, spec: dict[str, Any]) -> Any:
    """Instantiate the policy ``spec["_target_"]`` for decision ``kind`` with the other keys.

    The class must subclass the default for ``kind``, its method must take the default's
    parameters, and the other keys must be arguments its constructor takes: all checked
    before anything is instantiated.
    """
    if kind not in POLICY_KINDS:
        raise ConfigError(
            f"policies.{kind}: unknown decision; choose from {', '.join(POLICY_KINDS)}"
        )
    spec = dict(spec)
    key = f"policies.{kind}._target_"
    base, method = POLICY_KINDS[kind]
    target = spec.pop("_target_")
    cls = import_target(target, key, base)
    _check_method(cls, base, method, f"{key} = {target!r}")
    check_arguments(cls, spec, f"policies.{kind}")
    try:
        return cls(**spec)
    except TypeError as exc:
        raise ConfigError(
            f"policies.{kind}: {cls.__name__} does not take these arguments ({exc})"
        ) from None


def _check_method(cls: type, base: type, method: str, where: str) -> None:
    """Refuse ``cls`` if its ``method`` cannot be called as the model calls ``base``'s."""
    expected = list(inspect.signature(getattr(base, method)).parameters)  # self, ...
    try:
        inspect.signature(getattr(cls, method)).bind(*expected)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: its {method}() must take ({', '.join(expected)}) like "
            f"{base.__qualname__}.{method}()"
        ) from None


class PolicyError(ConfigError):
    """A decision rule returned something its method's contract does not allow.

    Raised during a run; the message names the policy's class and what it returned, and entry
    points print it as one line.
    """


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def follow_up_error(policy: Any, chosen: Any, queue: list[Lead], n: int) -> PolicyError:
    """What is wrong with ``chosen``, returned by ``policy.choose(rep, queue, n)``."""
    name = type(policy).__qualname__
    if not isinstance(chosen, list | tuple):
        problem = f"returned {_describe(chosen)}, not a list of leads"
    elif len(chosen) > n:
        problem = f"returned {len(chosen)} leads, more than the n = {n} the rep can work"
    elif len({id(lead) for lead in chosen}) < len(chosen):
        problem = f"returned the same lead more than once ({len(chosen)} entries)"
    else:
        queued = {id(lead) for lead in queue}
        stray = next((lead for lead in chosen if id(lead) not in queued), None)
        problem = f"returned {_describe(stray)}, which is not in the rep's queue"
    return PolicyError(
        f"follow-up policy {name}.choose() {problem}; it must return at most n leads "
        "from the queue, each once"
    )


def check_threshold(policy: Any, theta: Any) -> float:
    """Return ``theta``, from ``policy.update(marketer)``, if it is a threshold in [0, 1]."""
    if (
        isinstance(theta, numbers.Real)
        and not isinstance(theta, bool)
        and math.isfinite(theta)
        and 0.0 <= theta <= 1.0
    ):
        return float(theta)
    raise PolicyError(
        f"threshold policy {type(policy).__qualname__}.update() returned {_describe(theta)}; "
        "it must return a number in [0, 1]"
    )


def check_rep(policy: Any, rep: Any, model: FunnelModel) -> Any:
    """Return ``rep``, from ``policy.choose_rep(model, lead)``, if it is None or a model's rep."""
    try:
        if rep is None or rep in model.reps:
            return rep
    except TypeError:  # unhashable: not a rep
        pass
    raise PolicyError(
        f"routing policy {type(policy).__qualname__}.choose_rep() returned {_describe(rep)}; "
        "it must return one of the model's reps (model.reps), or None for the default territory"
    )
