"""A CRM export: the lead-level CSV a client's CRM produces, read, written and summarised.

The export schema (issue 16; README "Your funnel" maps HubSpot and Salesforce fields onto it):

==================  =======================================================================
``lead_id``         any unique string
``created_date``    ISO date the lead was created
``source``          ``marketing`` or ``sales`` (rep-prospected)
``mql_date``        ISO date the lead was handed to sales (MQL), empty if never
``sal_date``        ISO date sales accepted it (SAL), empty if never
``sql_date``        ISO date it became an opportunity (SQL), empty if never
``first_touch_date`` ISO date a rep first followed it up, empty if never
``closed_date``     ISO date the opportunity closed, empty if open or never an opportunity
``outcome``         ``won``, ``lost``, ``no_decision``, ``open``, ``disqualified`` or empty
``amount``          first-year contract value of a won deal, empty otherwise
``churn_date``      ISO date a won customer left, empty if still a customer
==================  =======================================================================

Three things live here, so that the client's data and the model's runs go through the *same*
code:

- ``journey_frame`` turns the model's journey log (``sim.journeys``) into the export's
  content on business days, and ``to_csv_frame`` into the CSV with calendar dates
  (``write_export``): the model's own runs as a client would export them;
- ``read_export`` reads a CSV into the same frame: calendar dates become business days
  (``numpy.busday_count`` from the first creation date, which is day 1, as in the model).
  A structural fault raises ``ConfigError`` (one line: the caller exits 2 and writes nothing);
  a faulty row is skipped and counted by reason, with its first line numbers;
- ``statistics`` summarises a frame as the funnel statistics the model produces
  (``STATISTICS``). A statistic with a KPI's name (``sim.kpis.KPIS``) has that KPI's
  definition exactly, warm-up included: events are counted on the days after
  ``warmup_days`` up to the last day, as ``sim.metrics`` counts them, and a test checks
  that a baseline run's export gives its ``summary.json`` values.

Days are business days; ``-1`` means never (as in the journey log in memory).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.kpis import KPIS
from sim.schema import BUSINESS_DAYS_PER_YEAR, ConfigError

COLUMNS = (
    "lead_id", "created_date", "source", "mql_date", "sal_date", "sql_date",
    "first_touch_date", "closed_date", "outcome", "amount", "churn_date",
)  # fmt: skip
REQUIRED = ("lead_id", "created_date", "outcome")
#: Each date column and the day column of the frame that holds it.
DATES = {
    "created_date": "created",
    "mql_date": "mql",
    "sal_date": "sal",
    "sql_date": "sql",
    "first_touch_date": "touch",
    "closed_date": "closed",
    "churn_date": "churn",
}
DAYS = tuple(DATES.values())
OUTCOMES = ("won", "lost", "no_decision", "open", "disqualified", "")
SOURCES = ("marketing", "sales")
#: The organisation keys a team file may set (what an export cannot show).
TEAM_KEYS = ("n_reps", "n_marketers", "rep_hours_per_day", "contract_days")
#: Fewer leads than this cannot be fitted: a rate over a few dozen events says little.
MIN_LEADS = 200
#: More skipped rows than this share is a structural fault, not a messy export.
MAX_SKIPPED_SHARE = 0.2
NEVER = -1
#: The journey log's final stage -> the export's outcome (any other stage: empty).
JOURNEY_OUTCOMES = {
    "customer": "won",
    "churned": "won",
    "lost": "lost",
    "no_decision": "no_decision",
    "sql": "open",
    "rejected": "disqualified",
    "disqualified": "disqualified",
}
JOURNEY_SOURCES = {"marketing": "marketing", "rep": "sales"}
DEFAULT_START = "2024-01-01"


# --- the model's journeys as an export -------------------------------------------------------


def journey_frame(journeys: pd.DataFrame) -> pd.DataFrame:
    """The export's content of a journey log, on business days (``-1``: never).

    An MQL that expired unworked (``ignored``) keeps its ``mql`` day, no touch and no
    outcome, as it stays in a CRM; a lead still in nurture or qualification, or dropped, has
    no outcome; a rep's own prospect has its first touch on the day it was found.
    """
    j = journeys
    outcome = j["outcome"].astype(str).map(JOURNEY_OUTCOMES).fillna("")
    won = outcome.eq("won").to_numpy()
    churn = j["churn_day"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "lead_id": "L" + j["lead_id"].astype(str),
            "source": j["source"].astype(str).map(JOURNEY_SOURCES).fillna("marketing"),
            "created": j["created_day"].to_numpy(dtype=np.int64),
            "mql": j["mql_day"].to_numpy(dtype=np.int64),
            "sal": j["sal_day"].to_numpy(dtype=np.int64),
            "sql": j["sql_day"].to_numpy(dtype=np.int64),
            "touch": j["followed_day"].to_numpy(dtype=np.int64),
            # a lead's closed_day is also when it was ignored/rejected: an opportunity's only
            "closed": np.where(
                outcome.isin(["won", "lost", "no_decision"]), j["closed_day"], NEVER
            ).astype(np.int64),
            "outcome": outcome.to_numpy(),
            "amount": np.where(won, j["value"].to_numpy(dtype=float), np.nan),
            "churn": np.where(won, churn, NEVER).astype(np.int64),
        }
    )
    order = np.lexsort((j["lead_id"].to_numpy(), frame["created"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)  # in order of creation, as CRMs list


def _dates(days: np.ndarray, start: np.datetime64) -> np.ndarray:
    """Business day ``d`` (1 = ``start``) as an ISO date string; ``-1`` as empty."""
    out = np.full(len(days), "", dtype=object)
    known = days > 0
    dates = np.busday_offset(start, days[known] - 1, roll="forward")
    out[known] = np.datetime_as_string(dates, unit="D")
    return out


def to_csv_frame(frame: pd.DataFrame, start: str = DEFAULT_START) -> pd.DataFrame:
    """A frame of business days as the export's CSV columns.

    Day 1 falls on ``start`` (rolled to the next business day if it is not one).
    """
    origin = np.busday_offset(np.datetime64(start, "D"), 0, roll="forward")
    out = pd.DataFrame({"lead_id": frame["lead_id"].to_numpy()})
    for column, day in DATES.items():
        out[column] = _dates(frame[day].to_numpy(dtype=np.int64), origin)
    out["source"] = frame["source"].to_numpy()
    out["outcome"] = frame["outcome"].to_numpy()
    amount = frame["amount"].to_numpy(dtype=float)
    out["amount"] = np.where(np.isnan(amount), "", np.round(amount, 2).astype(str))
    return out[list(COLUMNS)]


def write_export(journeys: pd.DataFrame, path: str | Path, start: str = DEFAULT_START) -> Path:
    """Write a journey log as a CRM export CSV at ``path`` (atomically); return the path."""
    from sim.io import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = to_csv_frame(journey_frame(journeys), start)
    atomic_write(path, lambda p: table.to_csv(p, index=False))
    return path


# --- reading an export ------------------------------------------------------------------------


@dataclass
class Export:
    """An export read into business days.

    Attributes:
        frame: one row per kept lead: ``lead_id``, ``source``, the day columns (``DAYS``:
            business days from the first creation date, which is day 1; -1 never),
            ``outcome`` and ``amount`` (NaN where empty).
        end_day: the last day any date of the export falls on (the export's "as of" day).
        start: the calendar date of day 1.
        rows: data rows in the file.
        skipped: reason -> the file's line numbers of the rows skipped for it.
        missing: the optional columns the file lacks.
    """

    frame: pd.DataFrame
    end_day: int
    start: str
    rows: int
    skipped: dict[str, list[int]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def n_skipped(self) -> int:
        """Rows skipped, for any reason."""
        return sum(len(v) for v in self.skipped.values())

    def skipped_lines(self, first: int = 5) -> list[str]:
        """One line per reason: how many rows, and the first few line numbers."""
        out = []
        for reason, lines in sorted(self.skipped.items(), key=lambda kv: -len(kv[1])):
            shown = ", ".join(str(n) for n in lines[:first])
            more = ", ..." if len(lines) > first else ""
            out.append(f"{len(lines)} row(s) skipped: {reason} (lines {shown}{more})")
        return out


def read_export(path: str | Path, min_leads: int = MIN_LEADS) -> Export:
    """Read a CRM export CSV (see the module docstring for the columns).

    Raises:
        ConfigError: a structural fault, in one line: the file cannot be read, is empty,
            lacks a required column, has fewer than ``min_leads`` usable leads, or more than
            ``MAX_SKIPPED_SHARE`` of its rows are faulty.
    """
    path = Path(path)
    name = f"data={path}"
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            body = list(reader)
    except FileNotFoundError:
        raise ConfigError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{name}: is a directory, not a CSV file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{name}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if header is None or not any(c.strip() for c in header):
        raise ConfigError(f"{name}: the file is empty; a CRM export with a header row is needed")
    header = [c.strip() for c in header]
    lacking = [c for c in REQUIRED if c not in header]
    if lacking:
        raise ConfigError(
            f"{name}: no column {lacking[0]!r}; required: {', '.join(REQUIRED)} "
            f"(optional: {', '.join(c for c in COLUMNS if c not in REQUIRED)})"
        )
    body = [r for r in body if any(cell.strip() for cell in r)]  # blank lines are no rows
    if not body:
        raise ConfigError(f"{name}: a header and no leads; at least {min_leads} are needed")
    width = len(header)
    table = pd.DataFrame(
        [(r + [""] * width)[:width] for r in body], columns=header, dtype=str
    ).fillna("")
    lines = np.arange(2, len(body) + 2)  # the header is line 1 (blank lines not counted)
    missing = tuple(c for c in COLUMNS if c not in header)
    for col in missing:
        table[col] = ""
    frame, bad = _parse(table)
    skipped: dict[str, list[int]] = {}
    for reason, mask in bad.items():
        if mask.any():
            skipped[reason] = lines[mask].tolist()
    keep = ~np.logical_or.reduce(list(bad.values())) if bad else np.ones(len(table), bool)
    export_rows = len(table)
    dropped = int((~keep).sum())
    if dropped > MAX_SKIPPED_SHARE * export_rows:
        worst = max(skipped, key=lambda k: len(skipped[k]))
        raise ConfigError(
            f"{name}: {dropped} of {export_rows} rows are faulty (more than "
            f"{MAX_SKIPPED_SHARE:.0%}; most: {worst}, lines "
            f"{', '.join(map(str, skipped[worst][:5]))}); "
            "fix the export or its column mapping"
        )
    frame = frame.loc[keep].reset_index(drop=True)
    if len(frame) < min_leads:
        raise ConfigError(
            f"{name}: {len(frame)} usable leads; at least {min_leads} are needed to fit the model"
        )
    dates = frame.attrs.pop("dates")
    first = dates["created"][keep].min()
    origin = np.busday_offset(first, 0, roll="forward")
    for day in DAYS:
        values = dates[day][keep]
        known = ~np.isnat(values)
        out = np.full(len(values), NEVER, dtype=np.int64)
        out[known] = np.busday_count(origin, values[known]) + 1
        frame[day] = out
    end = int(frame[list(DAYS)].to_numpy().max())
    return Export(
        frame=frame,
        end_day=end,
        start=str(origin),
        rows=export_rows,
        skipped=skipped,
        missing=missing,
    )


def _parse(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Parse the text columns; return the frame and, per row fault, which rows have it."""
    bad: dict[str, np.ndarray] = {}
    dates: dict[str, np.ndarray] = {}
    for column, day in DATES.items():
        text = table[column].str.strip()
        # The ISO date a value starts with: a timestamp (2024-01-05T10:00:00.000+0000, as
        # Salesforce writes) counts on the calendar day it names, whatever its zone.
        head = text.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*)?$", expand=False)
        parsed = pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
        unparsable = (text != "") & parsed.isna()
        bad[f"unparsable {column}"] = unparsable.to_numpy()
        dates[day] = parsed.to_numpy(dtype="datetime64[D]")
    bad["empty created_date"] = (table["created_date"].str.strip() == "").to_numpy()
    created = dates["created"]
    for column, day in DATES.items():
        if day != "created":
            with np.errstate(invalid="ignore"):
                early = ~np.isnat(dates[day]) & ~np.isnat(created) & (dates[day] < created)
            bad[f"{column} before created_date"] = early
    outcome = table["outcome"].str.strip().str.lower().str.replace(" ", "_")
    bad["unknown outcome (allowed: won, lost, no_decision, open, disqualified, empty)"] = (
        ~outcome.isin(OUTCOMES)
    ).to_numpy()
    source = table["source"].str.strip().str.lower().replace("", "marketing")
    bad["unknown source (allowed: marketing, sales)"] = (~source.isin(SOURCES)).to_numpy()
    amount_text = table["amount"].str.strip().str.replace(",", "", regex=False)
    amount = pd.to_numeric(amount_text, errors="coerce")
    bad["unparsable or negative amount"] = (
        ((amount_text != "") & amount.isna()) | (amount < 0)
    ).to_numpy()
    ids = table["lead_id"].str.strip()
    bad["empty lead_id"] = (ids == "").to_numpy()
    bad["duplicate lead_id"] = (ids.duplicated() & (ids != "")).to_numpy()
    frame = pd.DataFrame(
        {
            "lead_id": ids.to_numpy(),
            "source": source.to_numpy(),
            "outcome": outcome.to_numpy(),
            "amount": amount.where(outcome.eq("won")).to_numpy(dtype=float),
        }
    )
    frame.attrs["dates"] = dates
    return frame, bad


def read_team(path: str | Path | None, overrides: Mapping[str, Any] | None = None) -> dict:
    """The organisation keys of a team file (YAML) and command-line ``overrides``.

    Raises:
        ConfigError: the file cannot be read or parsed, is not a mapping, names a key other
            than ``TEAM_KEYS``, or gives a value ``OrgParams`` refuses.
    """
    import yaml

    from sim.params import OrgParams

    team: dict[str, Any] = {}
    if path is not None:
        name = f"team={path}"
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{name}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: cannot be read ({exc})") from None
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" at line {where.line + 1}" if where is not None else ""
            raise ConfigError(f"{name}: not valid YAML{at}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{name}: must be a mapping of {', '.join(TEAM_KEYS)}")
        team.update(data)
    team.update(overrides or {})
    for key in team:
        if key not in TEAM_KEYS:
            raise ConfigError(
                f"team.{key}: not a team key; allowed: {', '.join(TEAM_KEYS)} (what an export "
                "cannot show; the rest is fitted)"
            )
    OrgParams(**team)  # the same ranges and types as any organisation (ConfigError)
    return team


# --- the statistics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """What a statistic is measured over: the days after ``warmup`` up to ``end``."""

    warmup: int
    end: int
    contract_days: int
    mql_expiry_days: int

    def within(self, days: np.ndarray) -> np.ndarray:
        """Whether each day falls in the measurement window (days after the warm-up)."""
        return (days > self.warmup) & (days <= self.end)

    @property
    def days(self) -> int:
        """The number of days measured."""
        return self.end - self.warmup


@dataclass(frozen=True)
class Statistic:
    """One funnel statistic of an export.

    ``kind``: ``rate`` (a share: ``compute`` returns successes and trials), ``median`` or
    ``mean`` or ``log_sd`` (of the values ``compute`` returns), ``per_day`` / ``per_month``
    (a count over the window's length). ``needs``: the export columns it reads besides
    ``created_date`` and ``outcome``. ``unit``: as fit.csv reports it.
    """

    name: str
    kind: str
    definition: str
    needs: tuple[str, ...]
    compute: Callable[[pd.DataFrame, Window], Any]
    unit: str = "share"

    @property
    def kpi(self) -> bool:
        """Whether a KPI of the registry measures the same thing (and has this name)."""
        return self.name in KPIS


def _marketing(f: pd.DataFrame) -> np.ndarray:
    return f["source"].to_numpy() == "marketing"


def _day(f: pd.DataFrame, col: str) -> np.ndarray:
    return f[col].to_numpy()


def _is(f: pd.DataFrame, outcome: str) -> np.ndarray:
    return f["outcome"].to_numpy() == outcome


def _closed_deals(f: pd.DataFrame, w: Window) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    within = w.within(_day(f, "closed"))
    return within & _is(f, "won"), within & _is(f, "lost"), within & _is(f, "no_decision")


def _never_worked(f: pd.DataFrame, w: Window) -> tuple[int, int]:
    mkt, mql, touch = _marketing(f), _day(f, "mql"), _day(f, "touch")
    followed = mkt & (mql > 0) & w.within(touch)
    expired = mkt & (mql > 0) & (touch < 0) & w.within(mql + w.mql_expiry_days)
    return int(expired.sum()), int(expired.sum() + followed.sum())


def _mqls(f: pd.DataFrame, w: Window) -> np.ndarray:
    return _marketing(f) & w.within(_day(f, "mql"))


def _won(f: pd.DataFrame, w: Window) -> np.ndarray:
    return _closed_deals(f, w)[0]


def _response_days(f: pd.DataFrame, w: Window) -> np.ndarray:
    touched = _marketing(f) & (_day(f, "mql") > 0) & w.within(_day(f, "touch"))
    return (_day(f, "touch") - _day(f, "mql"))[touched]


def _first_renewals(f: pd.DataFrame, w: Window) -> tuple[int, int]:
    won = _is(f, "won") & (_day(f, "closed") > 0)
    due = _day(f, "closed") + w.contract_days
    decided = won & w.within(due)
    churned = decided & (_day(f, "churn") == due)
    return int((decided & ~churned).sum()), int(decided.sum())


STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        Statistic(
            "inbound_leads_per_day",
            "per_day",
            "marketing-sourced leads created per business day of the window",
            (),
            lambda f, w: int((_marketing(f) & w.within(_day(f, "created"))).sum()),
            "leads/day",
        ),
        Statistic(
            "prospected_leads_per_day",
            "per_day",
            "rep-prospected (source sales) leads created per business day of the window",
            ("source",),
            lambda f, w: int((~_marketing(f) & w.within(_day(f, "created"))).sum()),
            "leads/day",
        ),
        Statistic(
            "mqls_per_inbound_lead",
            "rate",
            "MQLs handed over in the window / marketing leads created in the window",
            ("mql_date",),
            lambda f, w: (
                int(_mqls(f, w).sum()),
                int((_marketing(f) & w.within(_day(f, "created"))).sum()),
            ),
        ),
        Statistic(
            "mql_never_worked_share",
            "rate",
            KPIS["mql_never_worked_share"].definition
            + " (an MQL with no first touch counts as expired mql_expiry_days after hand-off)",
            ("mql_date", "first_touch_date"),
            _never_worked,
        ),
        Statistic(
            "mql_acceptance_rate",
            "rate",
            KPIS["mql_acceptance_rate"].definition,
            ("mql_date", "sal_date"),
            lambda f, w: (
                int((_marketing(f) & w.within(_day(f, "sal"))).sum()),
                int(_mqls(f, w).sum()),
            ),
        ),
        Statistic(
            "mql_to_sql_rate",
            "rate",
            KPIS["mql_to_sql_rate"].definition,
            ("mql_date", "sql_date"),
            lambda f, w: (
                int((_marketing(f) & w.within(_day(f, "sql"))).sum()),
                int(_mqls(f, w).sum()),
            ),
        ),
        Statistic(
            "response_days_median",
            "median",
            "median business days from hand-off to a rep's first touch, of the MQLs first "
            "touched in the window",
            ("mql_date", "first_touch_date"),
            _response_days,
            "business days",
        ),
        Statistic(
            "same_day_response_share",
            "rate",
            "of the MQLs first touched in the window, the share touched on the day of hand-off",
            ("mql_date", "first_touch_date"),
            lambda f, w: (int((_response_days(f, w) <= 0).sum()), len(_response_days(f, w))),
        ),
        Statistic(
            "opportunities_per_month",
            "per_month",
            KPIS["opportunities_per_month"].definition,
            ("sql_date",),
            lambda f, w: int(w.within(_day(f, "sql")).sum()),
            "per month",
        ),
        Statistic(
            "win_rate",
            "rate",
            KPIS["win_rate"].definition + " (deals closed in the window)",
            ("closed_date",),
            lambda f, w: (int(_won(f, w).sum()), int(sum(m.sum() for m in _closed_deals(f, w)))),
        ),
        Statistic(
            "no_decision_share",
            "rate",
            KPIS["no_decision_share"].definition + " (deals closed in the window)",
            ("closed_date",),
            lambda f, w: (
                int(_closed_deals(f, w)[2].sum()),
                int(sum(m.sum() for m in _closed_deals(f, w))),
            ),
        ),
        Statistic(
            "lead_to_customer_rate",
            "rate",
            KPIS["lead_to_customer_rate"].definition + " (both in the window)",
            ("closed_date",),
            lambda f, w: (int(_won(f, w).sum()), int(w.within(_day(f, "created")).sum())),
        ),
        Statistic(
            "sales_cycle_days_median",
            "median",
            KPIS["sales_cycle_days_median"].definition + " (deals won in the window)",
            ("closed_date",),
            lambda f, w: (_day(f, "closed") - _day(f, "created"))[_won(f, w)],
            "business days",
        ),
        Statistic(
            "opportunity_cycle_days_median",
            "median",
            KPIS["opportunity_cycle_days_median"].definition + " (deals won in the window)",
            ("closed_date", "sql_date"),
            lambda f, w: (_day(f, "closed") - _day(f, "sql"))[_won(f, w) & (_day(f, "sql") > 0)],
            "business days",
        ),
        Statistic(
            "won_amount_mean",
            "mean",
            "mean first-year contract value of the deals won in the window",
            ("closed_date", "amount"),
            lambda f, w: f["amount"].to_numpy()[_won(f, w)],
            "currency",
        ),
        Statistic(
            "won_amount_log_sd",
            "log_sd",
            "standard deviation of the log first-year contract value of the deals won in the "
            "window",
            ("closed_date", "amount"),
            lambda f, w: f["amount"].to_numpy()[_won(f, w)],
            "log-sd",
        ),
        Statistic(
            "retention_12m",
            "rate",
            KPIS["retention_12m"].definition + " (first renewals, closed_date + contract_days, "
            "due in the window; a churn on that day is a churn at it)",
            ("closed_date", "churn_date"),
            _first_renewals,
        ),
    )
}


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def _per(stat: Statistic, window: Window) -> float:
    """What one event counts for in a ``per_day`` or ``per_month`` statistic."""
    months = window.days / BUSINESS_DAYS_PER_YEAR * 12
    return 1 / window.days if stat.kind == "per_day" else 1 / months


def point(stat: Statistic, frame: pd.DataFrame, window: Window) -> float:
    """The value of ``stat`` on ``frame`` (NaN when it has no events to be taken over)."""
    raw = stat.compute(frame, window)
    match stat.kind:
        case "rate":
            k, n = raw
            return k / n if n > 0 else math.nan
        case "per_day" | "per_month":
            return raw * _per(stat, window)
        case "median":
            v = _finite(raw)
            return float(np.median(v)) if len(v) else math.nan
        case "mean":
            v = _finite(raw)
            return float(v.mean()) if len(v) else math.nan
        case "log_sd":
            v = _finite(raw)
            v = v[v > 0]
            return float(np.log(v).std(ddof=1)) if len(v) > 1 else math.nan
        case _:
            raise ValueError(f"unknown statistic kind: {stat.kind!r}")


def values(frame: pd.DataFrame, window: Window, names: list[str] | None = None) -> dict[str, float]:
    """Every statistic's value (or those ``names``), without intervals: the fit's fast path."""
    return {n: point(STATISTICS[n], frame, window) for n in names or STATISTICS}


def interval(
    stat: Statistic, frame: pd.DataFrame, window: Window, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """A ``level`` interval of ``stat``.

    Exact for rates (Clopper-Pearson), counts (Poisson) and medians (order statistics); a
    seeded percentile bootstrap for means and log-sds.
    """
    from scipy import stats

    raw = stat.compute(frame, window)
    alpha = 1 - level
    nan = (math.nan, math.nan)
    match stat.kind:
        case "rate":
            k, n = raw
            if n == 0:
                return nan
            ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
            return float(ci.low), float(ci.high)
        case "per_day" | "per_month":
            lo = stats.chi2.ppf(alpha / 2, 2 * raw) / 2 if raw else 0.0
            hi = stats.chi2.ppf(1 - alpha / 2, 2 * raw + 2) / 2
            return float(lo * _per(stat, window)), float(hi * _per(stat, window))
        case "median":
            v = np.sort(_finite(raw))
            n = len(v)
            if n == 0:
                return nan
            lo_i = int(stats.binom.ppf(alpha / 2, n, 0.5))
            hi_i = int(stats.binom.isf(alpha / 2, n, 0.5))
            return float(v[max(lo_i - 1, 0)]), float(v[min(hi_i, n - 1)])
        case "mean" | "log_sd":
            v = _finite(raw)
            if stat.kind == "log_sd":
                v = np.log(v[v > 0])
            if len(v) < 3:
                return nan
            fn = np.mean if stat.kind == "mean" else (lambda x, axis: np.std(x, ddof=1, axis=axis))
            res = stats.bootstrap(
                (v,),
                fn,
                confidence_level=level,
                n_resamples=999,
                method="percentile",
                rng=np.random.default_rng(seed),
            )
            return float(res.confidence_interval.low), float(res.confidence_interval.high)
        case _:
            raise ValueError(f"unknown statistic kind: {stat.kind!r}")


def available(stat: Statistic, missing: tuple[str, ...]) -> str | None:
    """None if the export has what ``stat`` reads, else which column it lacks."""
    lacking = [c for c in stat.needs if c in missing]
    return lacking[0] if lacking else None


def statistics(
    export: Export | pd.DataFrame,
    window: Window,
    level: float = 0.95,
    seed: int = 0,
    missing: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Every statistic of an export with its interval: one row each.

    Columns: ``statistic``, ``value``, ``lo``, ``hi``, ``unit``, ``kpi`` (a KPI of the same
    name and definition), ``missing_column`` (the column it needs and the export lacks, in
    which case the value is empty), ``definition``.
    """
    frame = export.frame if isinstance(export, Export) else export
    if missing is None:
        missing = export.missing if isinstance(export, Export) else ()
    rows = []
    for stat in STATISTICS.values():
        lacking = available(stat, missing)
        if lacking:
            value, lo, hi = math.nan, math.nan, math.nan
        else:
            value = point(stat, frame, window)
            lo, hi = interval(stat, frame, window, level, seed)
        rows.append(
            {
                "statistic": stat.name,
                "value": value,
                "lo": lo,
                "hi": hi,
                "unit": stat.unit,
                "kpi": stat.kpi,
                "missing_column": lacking or "",
                "definition": stat.definition,
            }
        )
    return pd.DataFrame(rows)
