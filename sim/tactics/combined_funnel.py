"""The combined-funnel tactic: one lead definition and one score for marketing and sales.

Under separate funnels marketing scores leads by its own definition (engagement-heavy, noisy),
reps take their own first look at a handed lead, and sales accepts by its own definition (fit
only). Combining the funnels replaces all three with one agreed definition
(``behaviour.shared_fit_weight``, ``behaviour.shared_score_noise``: behavioural parameters,
drawn in the uncertainty analysis):

- ``marketing_definition``: marketers score, nurture and hand over by the agreed definition;
- ``shared_score``: reps see marketing's score of a handed lead (as it stands after any
  learning from feedback) instead of taking their own first look;
- ``sales_definition``: after contact, reps accept a lead by the agreed definition, not
  sales' own.

Information only: who judges a lead by which score. It changes no draw and no outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from sim.funnel import LeadDefinition
from sim.schema import param
from sim.tactics import Tactic

if TYPE_CHECKING:
    from sim.model import FunnelModel

#: The tactic's name; ``scenario.funnel: combined`` (kept for old configs) switches it on.
COMBINED_FUNNEL = "combined_funnel"


@dataclass
class CombinedFunnel(Tactic):
    """One shared lead definition and score (see the module docstring)."""

    name: ClassVar[str] = COMBINED_FUNNEL
    mechanisms: ClassVar[dict[str, str]] = {
        "marketing_definition": "marketers score and hand over by the agreed definition",
        "shared_score": "reps see marketing's score of a handed lead instead of their own look",
        "sales_definition": "reps accept a lead after contact by the agreed definition",
    }
    # --- costs (issue 17; the tactic contract)
    one_off_cost: float = param(
        20_000.0,
        lo=0.0,
        hi=1e12,
        unit="currency",
        doc="agreeing one lead definition and rebuilding the scoring and stages in the CRM",
        plausible=("uniform", 5_000.0, 50_000.0),
        source="assumption: workshops of both teams and days to weeks of CRM reconfiguration",
    )

    def setup(self, model: FunnelModel) -> None:
        """Give both teams the agreed definition, as its mechanisms say."""
        b = model.behaviour
        shared = LeadDefinition(b.shared_fit_weight, b.shared_score_noise)
        if self.on("marketing_definition"):
            for marketer in model.marketer_order:
                marketer.definition = shared
        if self.on("sales_definition"):
            for rep in model.rep_order:
                rep.accept_definition = shared
        if self.on("shared_score"):
            model.rep_sees_marketing_score = True
