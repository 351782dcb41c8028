"""Typed, validated parameters: the one place where every model parameter is defined.

Each parameter is a dataclass field with its default, its unit and its allowed range in the
field metadata. The same snake_case name is used in the YAML files under ``conf/``, in the
model, in the docs and in the outputs. The dataclasses double as Hydra structured-config
schemas (registered by ``sim.config``), so a misspelt key or a wrong type is caught when the
config is composed; the ranges are checked here, in ``__post_init__``, so that a config built
from Python (``FunnelModel(n_reps=-1)``) is refused exactly like one built from YAML.

Sections:
    ``OrgParams``: the organisation (team sizes, hours, lead volume, deal sizes, cycle length).
    ``BehaviourParams``: how people and buyers behave; the free parameters calibration fits.
    ``ScenarioParams``: the tactic switches (funnel definition and the enabled tactics).
    ``SimConfig``: all of the above plus the run settings (seed, days, warm-up).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any, Optional

from sim.policies import make_policy
from sim.schema import (  # re-exported: the names every caller of sim.params has used
    BUSINESS_DAYS_PER_YEAR as BUSINESS_DAYS_PER_YEAR,
)
from sim.schema import MAX_DAYS as MAX_DAYS
from sim.schema import MAX_DEAL_VALUE as MAX_DEAL_VALUE
from sim.schema import MAX_SEED as MAX_SEED
from sim.schema import MAX_STAGE_DAYS as MAX_STAGE_DAYS
from sim.schema import ConfigError as ConfigError
from sim.schema import check_arguments as check_arguments
from sim.schema import check_fields as check_fields
from sim.schema import import_target as import_target
from sim.schema import param as param
from sim.schema import plain as plain
from sim.schema import reject_unknown as reject_unknown
from sim.tactics import Tactic, make_tactic
from sim.tactics.combined_funnel import COMBINED_FUNNEL


class Funnel(enum.Enum):
    """How many lead definitions the organisation works with."""

    separate = "separate"  # marketing and sales each qualify leads by their own definition
    combined = "combined"  # one shared lead definition and score for both teams


class _Validated:
    """Mixin: validate ranges on construction. Subclasses set ``_prefix`` for messages."""

    _prefix = ""

    def __post_init__(self) -> None:
        check_fields(self, self._prefix)


@dataclass
class OrgParams(_Validated):
    """An organisation profile: the numbers a strategy team knows about itself.

    The defaults are the built-in mid-sized B2B organisation (``conf/org/default.yaml`` lists
    the same values; a test keeps the two equal).
    """

    _prefix = "org."
    name: str = "default"
    # The largest B2B companies employ a few thousand marketers and tens of thousands of
    # sellers; every person is an agent that works every day.
    n_marketers: int = param(
        6, lo=1, hi=10_000, unit="people", doc="marketers running campaigns and nurturing"
    )
    n_reps: int = param(
        12, lo=0, hi=50_000, unit="people", doc="sales reps working leads and opportunities"
    )
    rep_hours_per_day: float = param(
        8.0,
        lo=0.0,
        hi=24.0,
        lo_open=True,
        unit="hours/day",
        doc="working hours of one rep per business day",
    )
    # 100,000 a day is 25 million inbound leads a year, several times the largest B2B lead
    # programmes (tens of thousands a day); every lead is an agent while it is open.
    inbound_leads_per_day: float = param(
        60.0,
        lo=0.0,
        hi=100_000.0,
        unit="leads/day",
        doc="mean marketing-generated leads per business day",
    )
    # A limit, not an allocation: the nurture pool grows with the leads actually nurtured, so
    # a capacity far above use ("unlimited") costs nothing. Ten million leads per marketer is
    # more than any marketing database holds per person.
    nurture_capacity_per_marketer: int = param(
        300,
        lo=0,
        hi=10_000_000,
        unit="leads",
        doc="leads one marketer can keep in nurture programmes at once",
    )
    # A trillion currency units for the mean first-year contract: above the largest enterprise
    # deals even in a currency of small units (a $60 million deal in rupiah), and far below
    # where sums of deal values overflow (float64: 1.8e308). Nurturing grows deals too:
    # SimConfig checks that it cannot take the mean deal above MAX_DEAL_VALUE.
    deal_value_mean: float = param(
        30_000.0,
        lo=0.0,
        lo_open=True,
        hi=1e12,
        unit="currency/contract",
        doc="mean first-year contract value of a won deal",
    )
    deal_value_sigma: float = param(
        0.5, lo=0.0, hi=3.0, unit="log-sd", doc="spread of deal values (sd of the log value)"
    )
    opportunity_cycle_days: float = param(
        40.0,
        lo=1.0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="median time from opportunity (SQL) to close",
    )
    contract_days: int = param(
        BUSINESS_DAYS_PER_YEAR,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="contract term; customers renew or churn at its end",
    )
    # --- causes of misalignment (issue 15; sim/causes.py): all off in the built-in orgs ----
    # An org file may leave them out (CAUSES: not required by the schema, unlike the rest).
    budget_dispute: float = param(
        0.0,
        lo=0.0,
        hi=0.9,
        doc="share of marketing's lead-generation budget withheld while the teams dispute it "
        "(0: no dispute)",
    )
    budget_lag_days: int = param(
        20,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days before lead volume follows a change of the budget (campaigns in flight)",
    )
    separate_leaders: float = param(
        0.0,
        lo=0.0,
        hi=1.0,
        unit="per review",
        doc="how far the two leaders' hand-off rules drift apart per review period (0: one "
        "set of rules)",
    )
    hybrid_work: float = param(
        0.0, lo=0.0, hi=1.0, doc="share of hand-offs made remotely (0: everyone on site)"
    )
    hybrid_delay_days: int = param(
        1,
        lo=0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="days before a rep learns of a hand-off made remotely",
    )


#: The organisation's causes of misalignment: optional in an org file (off when left out).
CAUSES = (
    "budget_dispute",
    "budget_lag_days",
    "separate_leaders",
    "hybrid_work",
    "hybrid_delay_days",
)


@dataclass
class BehaviourParams(_Validated):
    """How buyers, marketers and reps behave; the free parameters that calibration fits.

    The defaults of the parameters marked ``fitted=`` (``experiments.calibrate.SPACE``) are
    fitted to the published patterns (``sim/data/stylized_facts.yaml``) and equal
    ``conf/behaviour/calibrated.yaml``; the others are uncertainties, each with a plausible
    range and its source (``sim.space``).
    """

    _prefix = "behaviour."
    # --- buyers (the market) -------------------------------------------------------------
    lead_fit_alpha: float = param(
        2.0,
        lo=0.0,
        lo_open=True,
        doc="Beta shape a of inbound fit",
        plausible=("uniform", 1.2, 3.0),
        source="assumption: inbound leads are mostly poor fits (practitioners: 60-90% of "
        "inquiries are tire-kickers, customerthink; SiriusDecisions: 10% fully qualified at "
        "hand-off); with lead_fit_beta the mean fit spans about 0.2-0.6",
    )
    lead_fit_beta: float = param(
        3.0,
        lo=0.0,
        lo_open=True,
        doc="Beta shape b of inbound fit",
        plausible=("uniform", 2.0, 4.5),
        source="assumption: as lead_fit_alpha",
    )
    lead_intent_alpha: float = param(
        1.5,
        lo=0.0,
        lo_open=True,
        doc="Beta shape a of inbound intent at creation",
        plausible=("uniform", 1.0, 2.0),
        source="assumption anchored on 'Did you buy' studies (Cahners, 40,000 inquiries: 23% "
        "bought within 6 months; SiriusDecisions: 10% BANT-qualified at hand-off): with "
        "lead_intent_beta the mean intent at creation spans about 0.15-0.45",
    )
    lead_intent_beta: float = param(
        3.5,
        lo=0.0,
        lo_open=True,
        doc="Beta shape b of inbound intent at creation",
        plausible=("uniform", 2.5, 5.0),
        source="assumption: as lead_intent_alpha",
    )
    prospect_fit_alpha: float = param(
        3.0,
        lo=0.0,
        lo_open=True,
        doc="Beta shape a of rep-prospected fit",
        plausible=("uniform", 2.0, 4.0),
        source="assumption: reps target their profile, so prospected fit centres near 0.5 (mean "
        "0.33-0.67 with prospect_fit_beta)",
    )
    prospect_fit_beta: float = param(
        3.0,
        lo=0.0,
        lo_open=True,
        doc="Beta shape b of rep-prospected fit",
        plausible=("uniform", 2.0, 4.0),
        source="assumption: as prospect_fit_alpha",
    )
    prospect_intent_alpha: float = param(
        1.0,
        lo=0.0,
        lo_open=True,
        doc="Beta shape a of rep-prospected intent",
        plausible=("uniform", 0.7, 1.5),
        source="assumption: cold outreach finds buyers with little intent (XANT/InsideSales: "
        "about 10% reached on a first attempt); mean intent about 0.1-0.3 with "
        "prospect_intent_beta",
    )
    prospect_intent_beta: float = param(
        5.0,
        lo=0.0,
        lo_open=True,
        doc="Beta shape b of rep-prospected intent",
        plausible=("uniform", 3.5, 7.0),
        source="assumption: as prospect_intent_alpha",
    )
    intent_decay_per_day: float = param(
        0.0048,
        lo=0.0,
        hi=1.0,
        unit="1/day",
        doc="daily relative decay of intent without contact",
        fitted=(0.003, 0.04),
    )
    # --- marketing ---------------------------------------------------------------------
    marketing_fit_weight: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        doc="weight of fit (vs engagement) in marketing's own score",
        plausible=("uniform", 0.1, 0.5),
        source="assumption: marketing's points models weigh engagement over fit (a demo request "
        "30 points, an email open 2: the firm in Gonzalez-Flores et al., Frontiers in AI 2025)",
    )
    marketing_score_noise: float = param(
        0.1221,
        lo=0.0,
        unit="score sd",
        doc="noise of marketing's own score",
        fitted=(0.05, 0.35),
    )
    handoff_threshold: float = param(
        0.45,
        lo=0.0,
        hi=1.0,
        unit="score",
        doc="initial marketing score at which a lead is handed over",
        plausible=("uniform", 0.35, 0.55),
        source="assumption: the starting bar only; the threshold policy moves it at each review",
    )
    mql_quota_share: float = param(
        0.35,
        lo=0.0,
        hi=1.0,
        doc="MQLs per new lead that a volume goal asks for",
        plausible=("uniform", 0.2, 0.5),
        source="assumption: a volume goal asks for a fifth to a half of new leads as MQLs "
        "(MarketingSherpa 2012: 61% of firms send leads straight to sales)",
    )
    threshold_step: float = param(
        0.05,
        lo=0.0,
        hi=1.0,
        unit="score/period",
        doc="largest change of the hand-off threshold per review",
        plausible=("uniform", 0.02, 0.1),
        source="assumption: marketers move their bar by a few hundredths of the score per review",
    )
    review_period_days: int = param(
        20,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="how often goals are reviewed and trust updated",
        plausible=("uniform", 10, 63),
        source="assumption: goals and trust reviewed every two weeks to every quarter",
    )
    nurture_touch_days: int = param(
        5,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="interval between nurture touches of one lead",
        plausible=("uniform", 3, 10),
        source="assumption: nurture programmes touch a lead weekly to fortnightly",
    )
    nurture_intent_gain: float = param(
        0.08,
        lo=0.0,
        hi=1.0,
        doc="share of the gap to full intent closed per touch",
        plausible=("uniform", 0.03, 0.15),
        source="assumption for the per-touch step; Forrester (second-hand): nurtured leads give "
        "20% more sales opportunities",
    )
    nurture_value_gain: float = param(
        0.01,
        lo=0.0,
        hi=1.0,
        doc="relative deal-value growth per nurture touch",
        plausible=("uniform", 0.0, 0.016),
        source="Annuitas Group (vendor, widely quoted): nurtured leads make 47% larger purchases, "
        "which mixes selection and treatment, so an upper bound: 24 touches at 1.6% compound to "
        "+47%",
    )
    nurture_max_days: int = param(
        250,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="nurture time after which an unready lead is dropped",
        plausible=("uniform", 60, 375),
        source="buying windows are long (Cahners: 47% of eventual buyers buy after more than a "
        "year; Obermayer/SLMA 'Rule of 45'; Gartner: 16-18 month tech buying cycles): nurture "
        "keeps leads 3-18 months; the default, a year, covers half of the eventual buyers' "
        "windows (Cahners: 53% within 12 months)",
    )
    # --- buyers' buying windows (sim.agents.window_delay) ----------------------------------
    in_market_share: float = param(
        0.15,
        lo=0.0,
        hi=0.99,
        doc="share of inbound leads whose buyer is in the market already when the lead appears",
        plausible=("triangular", 0.05, 0.10, 0.25),
        source="SiriusDecisions: about 10% of leads handed to sales are fully qualified (budget, "
        "authority, need, timing); Carroll/InTouch: 5-15% of white-paper leads are sales-ready",
    )
    prospect_in_market_share: float = param(
        0.03,
        lo=0.0,
        hi=0.99,
        doc="share of leads reps find by prospecting whose buyer is in the market already",
        plausible=("uniform", 0.01, 0.10),
        source="Holmes's 'buyer pyramid' (practitioner, L): about 3% of a market is buying now "
        "and 7% open to it; cold outreach reaches buyers with little intent",
    )
    buying_window_median_days: float = param(
        250.0,
        lo=1.0,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="median wait until a buyer not yet in the market enters it (exponential)",
        plausible=("loguniform", 125.0, 375.0),
        source="Cahners/Reed (40,000 inquiries): of eventual buyers 11% buy within 3 months, 28% "
        "within 6, 53% within 12; Obermayer/SLMA 'Rule of 45': 12-15%/24-26%/45% of inquirers "
        "at 3/6/12 months; Gartner: 16-18 month tech buying cycles. Median 6-18 months",
    )
    buying_window_days: int = param(
        60,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="how long a buyer stays in the market before it buys from someone else",
        plausible=("uniform", 20, 125),
        source="assumption: once in the market a buyer evaluates for one to six months (about "
        "the length of a sales cycle, 40 business days here); a lead still in nurture when "
        "its window has closed bought elsewhere (70-90% of unworked eventual buyers do: "
        "Obermayer's 'Did you buy' surveys)",
    )
    min_score_noise: float = param(
        0.08,
        lo=0.0,
        unit="score sd",
        doc="noise floor that feedback cannot push the score below",
        plausible=("uniform", 0.03, 0.085),
        source="assumption: the best a scoring model reaches with feedback (validated scores "
        "reach AUC 0.75-0.92: Sedef et al. 2025 AUC 0.84); at most marketing's own noise",
    )
    feedback_learning: float = param(
        0.002,
        lo=0.0,
        hi=1.0,
        unit="1/outcome",
        doc="scoring improvement per sales outcome marketing learns of",
        plausible=("loguniform", 0.0005, 0.008),
        source="assumption: scoring models are retuned slowly, over hundreds of outcomes. One "
        "rate for marketing, whichever channel brings it the outcome (a shared record, a "
        "liaison, a meeting, hearsay): the tactics differ in which outcomes reach marketing, "
        "not in how fast marketing learns from one",
    )
    # --- the combined funnel's shared definition ----------------------------------------
    shared_fit_weight: float = param(
        0.6,
        lo=0.0,
        hi=1.0,
        doc="weight of fit in the shared (combined-funnel) score",
        plausible=("uniform", 0.4, 0.8),
        source="assumption: a definition both teams agree on weighs the ideal customer profile "
        "more than marketing's own score does",
    )
    shared_score_noise: float = param(
        0.15,
        lo=0.0,
        unit="score sd",
        doc="noise of the shared score",
        plausible=("uniform", 0.08, 0.25),
        source="assumption: a rule-based shared score discriminates moderately (AUC 0.6-0.8, "
        "practitioner reports; rules put 38% of leads 'high' with no conversion difference, "
        "agencyscript case)",
    )
    # --- sales -------------------------------------------------------------------------
    rep_admin_share: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        doc="share of rep hours on admin and internal work",
        plausible=("triangular", 0.15, 0.25, 0.35),
        source="rep time studies: Yankee Group 2004 16% admin; Pace Productivity 23%; Proudfoot "
        "(measured, 800 reps) 31%; CSO Insights 2011: 35% neither selling nor generating leads",
    )
    follow_up_hours: float = param(
        0.5,
        lo=0.0,
        lo_open=True,
        unit="hours/lead",
        doc="rep time for a first follow-up of a handed lead",
        plausible=("uniform", 0.25, 1.0),
        source="assumption: a first call plus its notes; reps give up after 1.6 attempts on "
        "average (Velocify secret-shopper study)",
    )
    rekey_hours: float = param(
        0.15,
        lo=0.0,
        unit="hours/lead",
        doc="rep time to find and re-enter a handed lead's record in sales' own system",
        plausible=("uniform", 0.05, 0.3),
        source="assumption: a few minutes to a quarter hour per record; reps report spending "
        "a large share of their time on data entry (see docs/ODD.md, 7.10)",
    )
    qualify_days: int = param(
        10,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="length of qualification (SAL)",
        plausible=("uniform", 5, 20),
        source="assumption: one to four weeks of qualification before an opportunity is opened",
    )
    qualify_hours_per_day: float = param(
        0.2,
        lo=0.0,
        unit="hours/lead/day",
        doc="rep time per lead in qualification per day",
        plausible=("uniform", 0.1, 0.4),
        source="assumption: 1-8 hours of rep time per lead over its qualification",
    )
    opportunity_hours_per_day: float = param(
        0.0483,
        lo=0.0,
        unit="hours/opportunity/day",
        doc="rep time an open opportunity needs per day",
        fitted=(0.03, 0.35),
    )
    prospect_reserve_share: float = param(
        0.2356,
        lo=0.0,
        hi=1.0,
        doc="share of rep hours kept for own prospecting (at the start, if it adapts)",
        fitted=(0.05, 0.3),
    )
    # 0 by default: measured per hour, marketing's leads pay reps several times what their
    # own prospecting does, so above 0 the rule drives every rep's reserve towards 0 within a
    # run (docs/ODD.md, 7.9): the baseline would not be stationary. Drawn in the
    # uncertainty analysis over its plausible range.
    reserve_learning_rate: float = param(
        0.0,
        lo=0.0,
        hi=1.0,
        unit="share/period",
        doc="largest change of a rep's prospecting reserve per review, towards the better-paid "
        "source of deals (0: the reserve stays as it is)",
        plausible=("uniform", 0.0, 0.05),
        source="assumption: reps shift their time slowly, over quarters, as pay rewards",
    )
    reserve_share_max: float = param(
        0.4,
        lo=0.0,
        hi=1.0,
        doc="largest share of hours a rep keeps for own prospecting",
        plausible=("uniform", 0.3, 0.5),
        source="CSO Insights: reps self-generate about half their leads and spend about a "
        "quarter of their time on lead generation; a rep keeping more is not a seller",
    )
    # A lead a minute: beyond any prospecting, even from bought lists (each found lead is
    # judged and, if accepted, qualified: an agent in the pipeline).
    prospect_leads_per_hour: float = param(
        0.3,
        lo=0.0,
        hi=60.0,
        unit="leads/hour",
        doc="rep-prospected leads found per prospecting hour",
        plausible=("loguniform", 0.15, 0.9),
        source="outbound SDR benchmarks: about 60 new contacts and 6 meetings per 40-hour week "
        "(nathanprats example), 12-15 outbound meetings a month (Bridge Group via marketbetter): "
        "between meetings (0.15/h) and contacts (1.5/h)",
    )
    rep_view_noise: float = param(
        0.2,
        lo=0.0,
        unit="score sd",
        doc="noise of a rep's own pre-contact view of a lead",
        plausible=("uniform", 0.12, 0.3),
        source="assumption: a rep's own glance at a lead is noisier than a score; reps prioritise "
        "by intuition or none in about a quarter of cases (Salesforce State of Sales 2018)",
    )
    rep_initial_trust: float = param(
        0.9917,
        lo=0.0,
        hi=1.0,
        doc="reps' initial trust in marketing's leads",
        fitted=(0.3, 1.0),
    )
    trust_learning_rate: float = param(
        0.2,
        lo=0.0,
        hi=1.0,
        unit="1/period",
        doc="weight of the latest period in a rep's trust",
        plausible=("uniform", 0.05, 0.4),
        source="assumption: reps' regard for marketing leads follows recent periods, with a "
        "memory of a few to many reviews",
    )
    trusted_mql_sql_rate: float = param(
        0.3,
        lo=0.0,
        hi=1.0,
        lo_open=True,
        doc="MQL-to-SQL rate at which a rep fully trusts MQLs",
        plausible=("uniform", 0.2, 0.45),
        source="assumption: reps trust MQLs fully only when they convert above the benchmark "
        "MQL-to-SQL rates (8-27%, sim/data/stylized_facts.yaml)",
    )
    follow_up_bar: float = param(
        0.1803,
        lo=0.0,
        unit="score",
        doc="lowest perceived value a rep follows up",
        fitted=(0.05, 0.45),
    )
    marketing_credit_discount: float = param(
        0.8,
        lo=0.0,
        hi=1.0,
        doc="weight reps give marketing leads they are not credited for",
        plausible=("uniform", 0.6, 1.0),
        source="assumption after Sabnis et al., Journal of Marketing 2013 (reps favour their own "
        "leads; quotas push them to near-term deals): from no discount to 40%",
    )
    mql_expiry_days: int = param(
        10,
        lo=1,
        hi=MAX_STAGE_DAYS,
        unit="business days",
        doc="wait after which an unworked MQL counts as ignored",
        plausible=("uniform", 5, 20),
        source="assumption: an MQL unworked after one to four weeks is abandoned (InsideSales "
        "2012, 696 firms: 36% of leads never called within two weeks)",
    )
    contact_rate: float = param(
        0.8949,
        lo=0.0,
        hi=1.0,
        doc="chance to reach a lead followed up immediately",
        fitted=(0.4, 0.95),
    )
    decay_rate_per_day: float = param(
        1.5,
        lo=0.0,
        unit="1/day",
        doc="speed of lead decay with follow-up delay",
        plausible=("loguniform", 0.7, 3.0),
        source="Oldroyd, McElheran & Elkington, HBR 2011 (1.25M leads): a lead contacted within "
        "the hour is about 7 times as likely to qualify as one contacted later, 60 times as one "
        "contacted after a day; a day's wait keeps 5-50% of the chance above the floor",
    )
    decay_floor: float = param(
        0.1421,
        lo=0.0,
        hi=1.0,
        doc="share of the contact chance left after long delays",
        fitted=(0.03, 0.6),
    )
    accept_bar: float = param(
        0.2683,
        lo=0.0,
        unit="score",
        doc="rep's bar for accepting a lead",
        fitted=(0.05, 0.6),
    )
    accept_noise: float = param(
        0.1,
        lo=0.0,
        unit="score sd",
        doc="noise of a rep's post-contact judgement",
        plausible=("uniform", 0.05, 0.2),
        source="assumption: a rep's judgement after a conversation errs less than its pre-contact "
        "view but is not exact (Gartner win/loss: losing reps misread why buyers decided)",
    )
    sql_scale: float = param(
        1.3759,
        lo=0.0,
        doc="SQL chance per unit of fit x intent",
        fitted=(0.5, 6.0),
    )
    win_base: float = param(
        0.5536,
        lo=0.0,
        hi=1.0,
        doc="win chance of a perfect-fit, served deal",
        fitted=(0.3, 1.0),
    )
    no_decision_base: float = param(
        0.7583,
        lo=0.0,
        hi=1.0,
        doc="no-decision chance of a deal with no intent left",
        fitted=(0.2, 1.0),
    )
    # --- what people know of the buyer's need (sim.needs) ---------------------------------
    promise_noise: float = param(
        0.8,
        lo=0.0,
        unit="need sd",
        doc="error of marketing's read of a buyer's need from its engagement (and promise)",
        plausible=("uniform", 0.4, 1.2),
        source="assumption: engagement data tells marketing roughly, not exactly, what a "
        "buyer needs; from about half a standard deviation of the need to more than one",
    )
    discovery_noise: float = param(
        0.8,
        lo=0.0,
        unit="need sd",
        doc="error of a rep's read of a buyer's need from its discovery calls alone",
        plausible=("uniform", 0.4, 1.2),
        source="assumption: as promise_noise; buyer surveys say many sellers do not understand "
        "the buyer's needs (see docs/ODD.md, 7.6a)",
    )
    pitch_tolerance: float = param(
        1.3,
        lo=0.0,
        lo_open=True,
        unit="need sd",
        doc="gap between pitch and need at which the match has fallen to exp(-1/2)",
        plausible=("uniform", 0.9, 2.3),
        source="assumption anchored on buyer research (RAIN Group: 'understood my needs' is "
        "among the top differences between winners and runners-up): a pitch one standard "
        "deviation off the need wins 1.1-1.8 times less often (docs/ODD.md, 7.6a)",
    )
    win_intent_weight: float = param(
        0.5,
        lo=0.0,
        hi=1.0,
        doc="how much of the win chance depends on the buyer's intent at the decision",
        plausible=("uniform", 0.2, 0.8),
        source="assumption: a buyer who has gone cold rarely buys, but intent is not all",
    )
    value_fit_gain: float = param(
        0.5,
        lo=0.0,
        hi=1.9,
        doc="relative contract-value gain per unit of fit above 0.5",
        plausible=("uniform", 0.2, 1.0),
        source="assumption anchored on ABM practice (best-fit accounts' deals 1.2-3 times the "
        "worst-fit's; SBI, SiriusDecisions; vendor claims)",
    )
    value_scope_loss: float = param(
        0.15,
        lo=0.0,
        hi=1.0,
        doc="share of contract value lost when the pitch misses the need entirely",
        plausible=("uniform", 0.0, 0.25),
        source="assumption: a rep who misreads the need sells a narrower scope; 'nurtured "
        "leads buy 47% more' (Annuitas, vendor) bounds it from above",
    )
    # --- customers ---------------------------------------------------------------------
    churn_base: float = param(
        0.1101,
        lo=0.0,
        hi=1.0,
        doc="renewal churn chance of a matched customer with fit 0.5",
        fitted=(0.02, 0.2),
    )
    churn_need_gap: float = param(
        1.0,
        lo=0.0,
        doc="relative churn increase of a customer sold something entirely other than its need",
        plausible=("uniform", 0.2, 2.0),
        source="assumption anchored on churn-reason surveys (lack of realised value is the "
        "root of about half of churn): customers sold the wrong thing leave at 1.2-3 times "
        "the rate",
    )
    churn_promise_gap: float = param(
        0.8,
        lo=0.0,
        doc="relative churn increase of a customer sold something entirely other than promised",
        plausible=("uniform", 0.2, 2.0),
        source="assumption: broken promises (expectation gaps) raise churn; no measured figure",
    )


@dataclass
class ScenarioParams:
    """A scenario: the tactics switched on, with their parameters.

    ``tactics`` maps a tactic name to its parameters; the name selects the class from
    ``sim.tactics.REGISTRY`` unless the entry has a ``_target_`` naming a class elsewhere.

    ``funnel`` is derived: ``combined`` when the ``combined_funnel`` tactic is on. It is kept
    for the outputs' ``funnel`` column and for configs written before the combined funnel was
    a tactic: ``funnel: combined`` switches the tactic on; ``funnel: separate`` beside the
    tactic is refused (``None``, the default: whatever the tactics say).
    """

    name: str = "baseline"
    funnel: Optional[Funnel] = None  # noqa: UP045 (OmegaConf 2.3 reads no X | None)
    tactics: dict[str, Any] = field(default_factory=dict)

    def tactic_params(self) -> dict[str, Any]:
        """Each tactic's parameters, built (and so checked) once and kept.

        The templates a model attaches its own copies of (``Tactic.attach``); never run.
        """
        key = repr(self.tactics)  # by content: a dict changed in place is built again
        built = self.__dict__.get("_built")
        if built is None or built[0] != key:
            built = (key, {n: make_tactic(n, s) for n, s in self.tactics.items()})
            self.__dict__["_built"] = built
        return built[1]


@dataclass
class PolicyParams:
    """The decision rules, each a class named by ``_target_`` plus its keyword arguments.

    Swap one from the command line (``policies.follow_up._target_=mypkg.MyPolicy``) or from
    Python; ``sim.policies`` documents the interface each must have.
    """

    # reps: which leads
    follow_up: dict[str, Any] = field(
        default_factory=lambda: {"_target_": "sim.policies.FollowUpPolicy"}
    )
    # marketers' bar
    threshold: dict[str, Any] = field(
        default_factory=lambda: {"_target_": "sim.policies.ThresholdPolicy"}
    )
    # the liaison's routing
    routing: dict[str, Any] = field(
        default_factory=lambda: {"_target_": "sim.policies.RoutingPolicy"}
    )


@dataclass
class SimConfig:
    """Everything one run needs: organisation, behaviour, scenario and run settings."""

    org: OrgParams = field(default_factory=OrgParams)
    behaviour: BehaviourParams = field(default_factory=BehaviourParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    policies: PolicyParams = field(default_factory=PolicyParams)
    seed: int = 0
    days: int = 2 * BUSINESS_DAYS_PER_YEAR  # business days simulated
    warmup_days: int = 125  # business days excluded from the reported KPIs
    record_journeys: bool = False  # keep one row per lead (journeys.parquet)
    # run even if the memory estimate says the run does not fit this machine (sim.limits)
    allow_large_runs: bool = False

    def __post_init__(self) -> None:
        for key in RUN_SETTINGS:
            setattr(self, key, plain(getattr(self, key)))
        if not _whole_in(self.seed, 0, MAX_SEED):
            raise ConfigError(
                f"seed = {self.seed!r}: must be a whole number in [0, 2**63 - 1] "
                "(the run's seed; study tables store it as a 64-bit integer)"
            )
        if not _whole_in(self.days, 1, MAX_DAYS):
            raise ConfigError(
                f"days = {self.days!r}: must be a whole number in [1, {MAX_DAYS}] "
                "(business days simulated; the most is a century)"
            )
        if not _whole_in(self.warmup_days, 0, self.days - 1):
            raise ConfigError(
                f"warmup_days = {self.warmup_days!r}: must be a whole number in "
                f"[0, days) = [0, {self.days}) so that some days are measured"
            )
        for key in ("record_journeys", "allow_large_runs"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key} = {getattr(self, key)!r}: must be true or false")
        if self.org.n_reps == 0 and (self.org.inbound_leads_per_day > 0):
            raise ConfigError(
                "org.n_reps = 0: at least one rep is needed while "
                f"org.inbound_leads_per_day = {self.org.inbound_leads_per_day:g} "
                "sends leads to sales"
            )
        self._check_deal_growth()
        b = self.behaviour
        if b.prospect_reserve_share > b.reserve_share_max:
            raise ConfigError(
                f"behaviour.prospect_reserve_share = {b.prospect_reserve_share!r}: must be <= "
                f"behaviour.reserve_share_max = {b.reserve_share_max!r} (the most a rep keeps "
                "for its own prospecting)"
            )

    def check(self) -> None:
        """Check the config again, after its sections may have been changed in place."""
        check_fields(self.org, OrgParams._prefix)
        check_fields(self.behaviour, BehaviourParams._prefix)
        self.__post_init__()

    def _check_deal_growth(self) -> None:
        """Refuse a nurture value gain that could compound the mean deal past MAX_DEAL_VALUE.

        Each nurture touch multiplies a lead's deal value by ``1 + nurture_value_gain``; a
        programme touches a lead at most ``ceil(nurture_max_days / nurture_touch_days)``
        times, and a lead recycled to nurture (``max_recycles`` of a tactic) starts again.
        """
        b, mean = self.behaviour, self.org.deal_value_mean
        recycles = max(
            (
                int(getattr(tactic, "max_recycles", 0))
                for tactic in self.scenario.tactic_params().values()
            ),
            default=0,
        )
        touches = -(-b.nurture_max_days // b.nurture_touch_days) * (1 + recycles)
        if touches * math.log1p(b.nurture_value_gain) <= math.log(MAX_DEAL_VALUE / mean):
            return
        most = math.expm1(math.log(MAX_DEAL_VALUE / mean) / touches)
        raise ConfigError(
            f"behaviour.nurture_value_gain = {b.nurture_value_gain!r}: must be <= {most:.4g} "
            f"here (relative deal-value growth per nurture touch): compounded over up to "
            f"{touches} touches of a lead (nurture_max_days / nurture_touch_days, times 1 + "
            f"max_recycles) it would take the mean deal of {mean:,.0f} above {MAX_DEAL_VALUE:g}"
        )


def _whole_in(value: Any, lo: int, hi: int) -> bool:
    """Whether ``value`` is a whole number (not a bool) in ``[lo, hi]``."""
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


SECTIONS: dict[str, type] = {"org": OrgParams, "behaviour": BehaviourParams}
#: SimConfig's own settings (not sections), which ``build_config`` takes as they are.
RUN_SETTINGS = ("seed", "days", "warmup_days", "record_journeys", "allow_large_runs")


def leaf_names() -> dict[str, str]:
    """Map each flat keyword accepted by ``FunnelModel`` to its section (``org``/``behaviour``)."""
    names: dict[str, str] = {}
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            if f.name != "name":
                names[f.name] = section
    return names


def _build_section(cls: type, data: Any, key: str) -> Any:
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{key} = {data!r}: must be a mapping of parameters")
    reject_unknown(data, (f.name for f in dataclasses.fields(cls)), key)
    return cls(**data)


def build_config(data: dict[str, Any] | SimConfig | None = None, **overrides: Any) -> SimConfig:
    """Build a validated ``SimConfig`` from a nested mapping and flat keyword overrides.

    ``data`` has the shape of the Hydra config (``org``, ``behaviour``, ``scenario``, ``seed``,
    ...). ``overrides`` may use the flat names of organisation and behaviour parameters
    (``n_reps=10``), the run settings, ``funnel`` and ``tactics``, so that the model can be
    driven like any Mesa model (``mesa.batch_run``).

    Raises:
        ConfigError: on an unknown key, a wrong type or a value out of range.
    """
    if isinstance(data, SimConfig):  # keep its sections as they are (tactics may be instances)
        if not overrides:  # checked again (cheap: tactics are rebuilt only if they changed)
            data.check()
            return data
        data = {f.name: getattr(data, f.name) for f in dataclasses.fields(SimConfig)}
    nested: dict[str, Any] = {
        k: (dict(v) if isinstance(v, dict) else v) for k, v in (data or {}).items()
    }
    for section, cls in (("org", OrgParams), ("behaviour", BehaviourParams)):
        if isinstance(nested.get(section), cls):  # flat overrides below must reach it
            nested[section] = dataclasses.asdict(nested[section])
    if isinstance(nested.get("scenario"), ScenarioParams):
        sc = nested["scenario"]
        # (its funnel follows its tactics: carried over, it would contradict a tactics override)
        nested["scenario"] = {"name": sc.name, "tactics": dict(sc.tactics)}
    top_keys = {f.name for f in dataclasses.fields(SimConfig)}
    unknown = sorted(set(nested) - top_keys)
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: unknown key; allowed top-level keys are {', '.join(sorted(top_keys))}"
        )
    leaves = leaf_names()
    for key, value in overrides.items():
        if key in leaves:
            nested.setdefault(leaves[key], {})[key] = value
        elif key in top_keys - {"org", "behaviour", "scenario", "policies"}:
            nested[key] = value
        elif key in {"funnel", "tactics", "scenario_name"}:
            nested.setdefault("scenario", {})[key.removeprefix("scenario_")] = value
        elif key == "org_name":
            nested.setdefault("org", {})["name"] = value
        else:
            raise ConfigError(f"{key}: unknown parameter; see sim.params for the allowed names")
    org = _build_section(OrgParams, nested.get("org", {}), "org")
    behaviour = _build_section(BehaviourParams, nested.get("behaviour", {}), "behaviour")
    scenario = _build_scenario(nested.get("scenario", {}))
    policies = _build_policies(nested.get("policies", {}))
    run = {k: nested[k] for k in RUN_SETTINGS if k in nested}
    return SimConfig(org=org, behaviour=behaviour, scenario=scenario, policies=policies, **run)


def _build_policies(data: Any) -> PolicyParams:
    if isinstance(data, PolicyParams):
        data = dataclasses.asdict(data)
    if not isinstance(data, dict):
        raise ConfigError(f"policies = {data!r}: must be a mapping")
    reject_unknown(data, (f.name for f in dataclasses.fields(PolicyParams)), "policies", "decision")
    merged = dataclasses.asdict(PolicyParams())
    for kind, spec in data.items():
        if not isinstance(spec, dict) or "_target_" not in spec:
            raise ConfigError(f"policies.{kind} = {spec!r}: must be a mapping with a _target_")
        merged[kind] = dict(spec)
        make_policy(kind, spec)  # raises ConfigError on a bad class or arguments
    return PolicyParams(**merged)


def _build_scenario(data: Any) -> ScenarioParams:
    if isinstance(data, ScenarioParams):
        data = {"name": data.name, "funnel": data.funnel, "tactics": data.tactics}
    if not isinstance(data, dict):
        raise ConfigError(f"scenario = {data!r}: must be a mapping")
    unknown = sorted(set(data) - {"name", "funnel", "tactics"})
    if unknown:
        raise ConfigError(
            f"scenario.{unknown[0]}: unknown key; allowed keys are funnel, name, tactics"
        )
    funnel = data.get("funnel")
    if funnel is not None and not isinstance(funnel, Funnel):
        try:
            funnel = Funnel(str(funnel))
        except ValueError:
            raise ConfigError(
                f"scenario.funnel = {funnel!r}: must be one of {', '.join(f.value for f in Funnel)}"
            ) from None
    tactics = data.get("tactics") or {}
    if isinstance(tactics, list | tuple):
        tactics = {name: {} for name in tactics}
    if not isinstance(tactics, dict):
        raise ConfigError(
            f"scenario.tactics = {tactics!r}: must be a mapping of tactic name to "
            "its parameters, or a list of tactic names"
        )
    checked = {
        name: dict(spec) if isinstance(spec, dict) else spec for name, spec in tactics.items()
    }
    # The funnel is the combined_funnel tactic (``funnel`` is derived; see ScenarioParams).
    if funnel is Funnel.combined and COMBINED_FUNNEL not in checked:
        checked = {COMBINED_FUNNEL: {}, **checked}
    elif funnel is Funnel.separate and COMBINED_FUNNEL in checked:
        raise ConfigError(
            f"scenario.funnel = separate, but tactic {COMBINED_FUNNEL} is on: drop one of them "
            "(the funnel follows the tactic)"
        )
    funnel = Funnel.combined if COMBINED_FUNNEL in checked else Funnel.separate
    scenario = ScenarioParams(name=str(data.get("name", "custom")), funnel=funnel, tactics=checked)
    scenario.tactic_params()  # tactics check their own parameters: ConfigError on a bad one
    return scenario


def config_dict(cfg: SimConfig) -> dict[str, Any]:
    """A plain, JSON-ready dict of a config, from which ``build_config`` rebuilds it.

    Enums become their values; tactic instances become ``{"_target_": their class, **their
    parameters}``.
    """
    tactics = {}
    for name, spec in cfg.scenario.tactics.items():
        if isinstance(spec, Tactic):
            cls = type(spec)
            spec = {"_target_": f"{cls.__module__}.{cls.__qualname__}", **dataclasses.asdict(spec)}
        tactics[name] = spec
    d = {
        f.name: dataclasses.asdict(getattr(cfg, f.name))
        if dataclasses.is_dataclass(getattr(cfg, f.name))
        else getattr(cfg, f.name)
        for f in dataclasses.fields(cfg)
        if f.name != "scenario"
    }
    d["scenario"] = {
        "name": cfg.scenario.name,
        "funnel": cfg.scenario.funnel.value,
        "tactics": tactics,
    }
    return d
