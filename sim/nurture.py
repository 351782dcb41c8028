"""Marketing's nurture programmes: the nurtured leads, kept as columns and touched in batches.

Nurturing is the model's busiest mechanism. A nurtured lead is touched every
``nurture_touch_days`` until it is ready for sales or out of time: about five touches for each
lead created in the default organisation. A touch is the same arithmetic for every lead due
that day (intent decays since the last update, then closes ``nurture_intent_gain`` of the gap
to full intent; the deal grows by ``nurture_value_gain``; the marketer scores the lead). So the
pool keeps what a touch reads and writes in numpy arrays, one slot per nurtured lead, and
touches the day's due leads at once; Python work per lead is left to the leads that change
stage (handed over or dropped). Looping over lead objects instead cost about a sixth of a run,
and more at large lead volumes, where the objects no longer fit in the processor's caches.

While a lead is in the pool its ``intent``, ``intent_day`` and ``value`` live in the pool; they
are written back to the lead when it leaves (``release``), and by ``sync`` (the model calls
it at the end of a run). So code that reads them from a nurtured lead calls ``sync`` first, and
code that changes them waits until the lead has left nurture: a change made meanwhile is
overwritten. Every way out of the pool goes through ``Marketer.release``, which
``FunnelModel.move`` calls for a pooled lead leaving ``LEAD`` (``close`` moves the lead too).

A day's touches and scores are all computed first; then the leaves are handled marketer by
marketer, each marketer's leads in the order they became due: the order, and the floating-point
operations, of a loop that touched and decided one lead at a time (``Lead.touch``,
``LeadDefinition.score``), as long as handing one lead over does not change another nurtured
lead or a marketer's threshold or definition. No built-in tactic does; one that did would see
today's touches as they were before the hand-over.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from sim.funnel import Stage

if TYPE_CHECKING:
    from sim.agents import Lead, Marketer
    from sim.model import FunnelModel


class NurturePool:
    """The leads in nurture programmes, one slot each, and the calendar of their touches.

    Args:
        marketers: the marketers, in the order they work each day.
        slots: how many slots to allocate at first (the pool grows when it needs more).
    """

    def __init__(self, marketers: list[Marketer], slots: int) -> None:
        self.marketers = marketers
        for index, marketer in enumerate(marketers):
            marketer.pool_index = index
        self.leads: list[Lead | None] = []  # the lead in each slot, None when it is free
        self.free: list[int] = []  # free slots, taken from the end
        self.intent = np.zeros(0)
        self.intent_day = np.zeros(0, dtype=np.int64)
        self.value = np.zeros(0)
        self.intent0 = np.zeros(0)  # intent as the lead came in (held before its window)
        self.window_day = np.zeros(0, dtype=np.int64)  # the day its buying window opens
        self.fit = np.zeros(0)
        self.z_score = np.zeros(0)
        self.until = np.zeros(0, dtype=np.int64)  # the last day of the lead's programme
        self.owner = np.zeros(0, dtype=np.int64)  # the marketer's index
        self.live = np.zeros(0, dtype=bool)  # False once released
        self._grow(max(16, slots))
        # day -> one list of slots per marketer, in the order the leads became due that day
        self.due: dict[int, list[list[int]]] = {}
        self._decay_rate = math.nan  # the rate of the decay table (``_decay``)
        self._decay_table = np.zeros(0)

    def _grow(self, n: int) -> None:
        """Make room for ``n`` slots in all, keeping the ones in use."""
        old = len(self.leads)
        columns = ("intent", "intent_day", "intent0", "window_day", "value", "fit", "z_score")
        for name in (*columns, "until", "owner", "live"):
            column = getattr(self, name)
            setattr(self, name, np.concatenate([column, np.zeros(n - old, dtype=column.dtype)]))
        self.leads.extend([None] * (n - old))
        # A slot is freed when no calendar entry points to it any more: at once for a lead
        # that leaves at a touch, at its pending touch for a lead released between touches
        # (``touch_due``). So a calendar entry never points to a later lead in the same slot.
        self.free[:0] = range(n - 1, old - 1, -1)

    def __len__(self) -> int:
        """The number of leads in the pool."""
        return int(self.live.sum())

    def add(self, lead: Lead, marketer: Marketer, first_touch: int, until: int) -> None:
        """Enrol ``lead`` with ``marketer``, first touched on ``first_touch``.

        It is dropped at the first touch on or after ``until`` that finds it not ready.
        """
        if not self.free:
            self._grow(2 * len(self.leads))
        slot = self.free.pop()
        lead.nurture_slot = slot
        self.leads[slot] = lead
        self.intent[slot] = lead.intent
        self.intent_day[slot] = lead.intent_day
        self.intent0[slot] = lead.intent0
        self.window_day[slot] = lead.window_day
        self.value[slot] = lead.value
        self.fit[slot] = lead.fit
        self.z_score[slot] = lead.z_score
        self.until[slot] = until
        self.owner[slot] = marketer.pool_index
        self.live[slot] = True
        per_marketer = self.due.get(first_touch)
        if per_marketer is None:  # (not setdefault: it would build the lists on every call)
            per_marketer = self.due[first_touch] = [[] for _ in self.marketers]
        per_marketer[marketer.pool_index].append(slot)

    def release(self, lead: Lead) -> None:
        """Take ``lead`` out of the pool, writing its intent and deal value back to it."""
        slot = lead.nurture_slot
        if slot < 0:
            raise ValueError(f"lead {lead.unique_id} is not in the nurture pool")
        self._write_back(lead, slot)
        lead.nurture_slot = -1
        self.live[slot] = False
        self.leads[slot] = None

    def sync(self) -> None:
        """Write every pooled lead's intent and deal value back to the lead."""
        for slot in np.flatnonzero(self.live).tolist():
            self._write_back(self.leads[slot], slot)

    def _write_back(self, lead: Lead, slot: int) -> None:
        # ``item`` gives the Python number at once (``float(a[i])`` makes a numpy one first)
        lead.intent = self.intent.item(slot)
        lead.intent_day = self.intent_day.item(slot)
        lead.value = self.value.item(slot)

    def _decay(self, gaps: np.ndarray, rate: float) -> np.ndarray:
        """``exp(-rate * gap)`` per gap (whole days >= 0), the floats of ``Lead.intent_at``.

        From a table of ``math.exp(-rate * gap)`` by gap, kept from day to day and extended
        as longer gaps come (gaps are a few days to a few hundred): finding each day's
        distinct gaps by sorting them (``np.unique``) took about a fifth of the touches' time.
        """
        if rate != self._decay_rate:
            self._decay_rate, self._decay_table = rate, np.zeros(0)
        top = int(gaps.max())
        if top >= len(self._decay_table):
            size = max(top + 1, 2 * len(self._decay_table), 64)
            self._decay_table = np.array([math.exp(-rate * gap) for gap in range(size)])
        return self._decay_table[gaps]

    def touch_due(self, model: FunnelModel, day: int) -> None:
        """Touch the leads due today; hand over those now ready, drop those out of time."""
        per_marketer = self.due.pop(day, None)
        if per_marketer is None:
            return
        slots = np.array(list(chain.from_iterable(per_marketer)), dtype=np.int64)
        live = self.live[slots]
        if not live.all():  # released since they became due: their slots are free now
            self.free.extend(slots[~live].tolist())
            slots = slots[live]
        if slots.size == 0:
            return
        b = model.behaviour
        owner = self.owner[slots]
        # Decay since each lead's last update, by the gap in days (the floats of math.exp in
        # Lead.intent_at, from a table by gap). A lead whose buying window opened since then
        # entered the market at full intent on its window day, and decays from there
        # (Lead.intent_at).
        window = self.window_day[slots]
        last = self.intent_day[slots]
        in_window = window <= day
        opened = (last < window) & in_window
        since = np.where(opened, window, last)
        now = np.where(opened, 1.0, self.intent[slots]) * self._decay(
            day - since, b.intent_decay_per_day
        )
        # In its window a touch closes part of the gap to full intent; before it, it holds
        # the buyer at the engagement it came in with (Lead.touch).
        intent = np.where(
            in_window,
            now + b.nurture_intent_gain * (1.0 - now),
            np.maximum(now, self.intent0[slots]),
        )
        self.intent[slots] = intent
        self.intent_day[slots] = day
        self.value[slots] *= 1.0 + b.nurture_value_gain
        # Each marketer's score of its leads, by its own definition and threshold. Marketers
        # mostly share one definition: then its weights are numbers, not a column gathered
        # per lead (the same floats, as each product is the same).
        definitions = {m.definition for m in self.marketers}
        if len(definitions) == 1:
            (d,) = definitions
            fit_weight, intent_weight, noise = d.fit_weight, 1.0 - d.fit_weight, d.noise
        else:
            fit_weight = np.array([m.definition.fit_weight for m in self.marketers])[owner]
            intent_weight = np.array([1.0 - m.definition.fit_weight for m in self.marketers])
            intent_weight = intent_weight[owner]
            noise = np.array([m.definition.noise for m in self.marketers])[owner]
        threshold = np.array([m.threshold for m in self.marketers])
        score = fit_weight * self.fit[slots] + intent_weight * intent + noise * self.z_score[slots]
        ready = score >= threshold[owner]
        # Not ready and out of time, or the buyer's window has closed (it bought from
        # someone else): dropped.
        gone = day >= window + b.buying_window_days
        leaving = ready | (day >= self.until[slots]) | gone
        # The leads staying are touched again after the interval, after any enrolled today.
        later = self.due.setdefault(day + b.nurture_touch_days, [[] for _ in self.marketers])
        stay = ~leaving
        staying = slots[stay]
        kept_bounds = np.searchsorted(owner[stay], np.arange(len(self.marketers) + 1)).tolist()
        for m in range(len(self.marketers)):
            if kept_bounds[m + 1] > kept_bounds[m]:
                later[m].extend(staying[kept_bounds[m] : kept_bounds[m + 1]].tolist())
        leave = np.flatnonzero(leaving)
        rows = zip(slots[leave].tolist(), ready[leave].tolist(), gone[leave].tolist(), strict=True)
        for slot, is_ready, is_gone in rows:
            lead = self.leads[slot]
            if lead is None:  # left nurture meanwhile, through another lead's hand-over
                self.free.append(slot)  # (its calendar entry was today's)
                continue
            lead.marketer.release(lead)
            self.free.append(slot)  # its calendar entry was today's: nothing points to the slot
            if is_ready:
                model.submit_for_handoff(lead)
            else:
                if is_gone:
                    model.kpis.add("leads_bought_elsewhere")
                model.close(lead, Stage.DROPPED)
