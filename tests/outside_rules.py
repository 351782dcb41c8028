"""Decision rules and a tactic defined outside the package, as a researcher would write them.

The tests plug these in through ``_target_`` alone (config or command line), without any
change to ``sim``.
"""

from dataclasses import dataclass
from typing import ClassVar

from sim.params import param
from sim.policies import FollowUpPolicy
from sim.tactics import Tactic


class OldestFirst(FollowUpPolicy):
    """Reps work handed leads strictly in arrival order, ignoring their own judgement."""

    def choose(self, rep, queue, n):
        return list(queue[: max(n, 0)])


@dataclass
class FewerMeetings(Tactic):
    """A made-up tactic: cut reps' admin share (fewer internal meetings)."""

    name: ClassVar[str] = "fewer_meetings"
    admin_share_cut: float = param(0.1, lo=0.0, hi=1.0, doc="share of rep hours freed")

    def setup(self, model):
        for rep in model.reps:
            rep.admin_share = max(0.0, rep.admin_share - self.admin_share_cut)
