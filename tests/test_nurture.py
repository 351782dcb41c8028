"""The nurture pool: batched touches that equal the scalar touch, hand-overs, drops, slots."""

import math

import pytest

from sim import FunnelModel
from sim.agents import MARKETING, Lead
from sim.funnel import Stage
from sim.nurture import NurturePool


def quiet_model(**params):
    """A model with no inbound or prospected leads, so a test's own leads are all there is."""
    model = FunnelModel(
        days=400,
        warmup_days=0,
        seed=3,
        inbound_leads_per_day=0,
        prospect_leads_per_hour=0,
        **params,
    )
    model.run_for(1)
    return model


def enrol(model, marketer, fit, intent, z_score=0.0, window_day=None):
    lead = Lead(model, MARKETING, fit, intent, 1_000.0, 0, (z_score, 0.0, 0.0, 0.0), (0.5,) * 5)
    if window_day is not None:
        lead.window_day = window_day
    model.ledger.enter(Stage.LEAD)
    lead.marketer = marketer
    assert marketer.enrol(lead)
    return lead


def test_a_batch_touch_equals_the_scalar_touch_and_score():
    model = quiet_model()
    b = model.behaviour
    marketer = model.marketer_order[0]
    marketer.threshold = 2.0  # nobody is ready: every lead stays and is touched
    # Buying windows: far off (touches hold intent), opening before the first touch, and
    # opening between two touches (intent jumps to full at the opening, decays, and touches
    # raise it).
    windows = [model.day + 10_000, model.day + 1, model.day + b.nurture_touch_days + 2]
    leads = [
        enrol(model, marketer, 0.1 * i, 0.05 * i, z_score=0.3 - 0.1 * i, window_day=windows[i % 3])
        for i in range(1, 10)
    ]
    # the scalar reference: Lead.touch on twins, on the same days
    twins = [
        Lead(model, MARKETING, x.fit, x.intent, x.value, 0, (x.z_score,) * 4, (0.5,) * 5)
        for x in leads
    ]
    for twin, lead in zip(twins, leads, strict=True):
        twin.intent_day = lead.intent_day
        twin.window_day = lead.window_day
    for _ in range(3):
        model.run_for(b.nurture_touch_days)
        for twin in twins:
            twin.touch(model.day, b.nurture_intent_gain)
            twin.value *= 1.0 + b.nurture_value_gain
    model.nurture_pool.sync()
    for lead, twin in zip(leads, twins, strict=True):
        assert lead.stage is Stage.LEAD and lead.nurture_slot >= 0
        assert lead.intent == twin.intent  # the same floating-point operations
        assert lead.intent_day == twin.intent_day == model.day
        assert lead.value == twin.value
        decayed = lead.intent0 * math.exp(-b.intent_decay_per_day * (model.day - lead.created_day))
        assert lead.intent > decayed  # touched: above what decay alone leaves
        if lead.window_day > model.day:
            assert lead.intent == lead.intent0  # before its window: held, never raised
        else:
            assert lead.intent > 0.8  # in the market: near full intent


def test_nurture_hands_a_buyer_over_when_its_window_opens_and_not_before():
    model = quiet_model()
    b = model.behaviour
    marketer = model.marketer_order[0]
    marketer.threshold = 0.6  # a low-intent buyer scores below it, a buyer in the market above
    opens = model.day + 3 * b.nurture_touch_days + 1
    lead = enrol(model, marketer, fit=0.8, intent=0.1, window_day=opens)
    model.run_for(3 * b.nurture_touch_days)
    assert lead.stage is Stage.LEAD  # three touches before its window: still nurtured
    model.run_for(b.nurture_touch_days)
    assert lead.stage is not Stage.LEAD and lead.mql_day >= opens  # handed over once in market


def test_a_nurtured_buyer_whose_window_closed_bought_elsewhere():
    model = quiet_model()
    b = model.behaviour
    marketer = model.marketer_order[0]
    marketer.threshold = 2.0  # never ready: only the closed window takes it out
    closed = enrol(
        model, marketer, fit=0.5, intent=0.2, window_day=model.day - b.buying_window_days
    )
    waiting = enrol(model, marketer, fit=0.5, intent=0.2, window_day=model.day + 10_000)
    model.run_for(b.nurture_touch_days)
    assert closed.stage is Stage.DROPPED
    assert waiting.stage is Stage.LEAD
    assert model.kpis.c["leads_bought_elsewhere"] == 1


def test_ready_leads_are_handed_over_and_timed_out_ones_dropped():
    model = quiet_model()
    marketer = model.marketer_order[0]
    marketer.threshold = 0.5
    d = marketer.definition
    ready = enrol(model, marketer, fit=1.0, intent=1.0)
    hopeless = enrol(model, marketer, fit=0.0, intent=0.0, z_score=-5.0)
    assert d.score(1.0, 1.0, 0.0) >= 0.5 > d.score(0.0, 0.0, -5.0)
    model.run_for(model.behaviour.nurture_touch_days)
    # handed over on the touch day (a rep may have followed it up since)
    assert ready.handoffs == 1 and ready.mql_day == model.day and ready.nurture_slot == -1
    assert hopeless.stage is Stage.LEAD and hopeless.nurture_slot >= 0
    model.run_for(model.behaviour.nurture_max_days)
    assert hopeless.stage is Stage.DROPPED
    assert marketer.nurturing == 0 and len(model.nurture_pool) == 0


def test_a_released_slot_is_not_reused_before_its_pending_touch():
    model = quiet_model()
    marketer = model.marketer_order[0]
    marketer.threshold = 2.0
    pool = model.nurture_pool
    first = enrol(model, marketer, 0.5, 0.5)
    slot = first.nurture_slot
    model.close(first, Stage.DROPPED)  # leaves the pool between touches
    assert first.nurture_slot == -1 and marketer.nurturing == 0
    second = enrol(model, marketer, 0.5, 0.5)
    assert second.nurture_slot != slot  # the old slot still has a touch pending
    model.run_for(model.behaviour.nurture_touch_days + 1)
    pool.sync()
    # touched once, not also through the first lead's old calendar entry
    assert second.intent_day == model.day - 1
    assert slot in pool.free


def test_the_pool_grows_past_its_first_size():
    model = quiet_model(nurture_capacity_per_marketer=100)
    marketer = model.marketer_order[0]
    model.nurture_pool = NurturePool(model.marketer_order, slots=1)  # the smallest start
    marketer.threshold = 2.0
    leads = [enrol(model, marketer, 0.5, 0.01 * i) for i in range(40)]
    assert len(model.nurture_pool) == 40
    model.run_for(model.behaviour.nurture_touch_days)
    model.nurture_pool.sync()
    assert [lead.intent_day for lead in leads] == [model.day] * 40
    assert sorted(lead.nurture_slot for lead in leads) == list(range(40))


def test_leads_in_the_pool_come_back_with_their_values_at_the_end():
    model = FunnelModel(days=120, warmup_days=10, seed=5, record_journeys=True)
    model.run()
    pooled = [lead for lead in model.nurture_pool.leads if lead is not None]
    assert pooled, "the default organisation nurtures leads"
    model.finish()
    value = dict(
        zip(
            (row[0] for row in model.journeys.rows),
            (row[4] for row in model.journeys.rows),
            strict=True,
        )
    )
    for lead in pooled:
        assert value[lead.unique_id] == model.nurture_pool.value[lead.nurture_slot]
        assert value[lead.unique_id] > 0


@pytest.mark.parametrize("tactics", [[], ["liaison", "lead_validation"]])
def test_every_pooled_lead_is_an_open_lead_of_its_marketer(tactics):
    model = FunnelModel(days=200, warmup_days=10, seed=8, tactics=tactics)
    for _ in range(200):
        model.step()
        pool = model.nurture_pool
        pooled = [(slot, lead) for slot, lead in enumerate(pool.leads) if lead is not None]
        assert len(pooled) == len(pool) == sum(m.nurturing for m in model.marketer_order)
        for slot, lead in pooled:
            assert lead.stage is Stage.LEAD and lead.nurture_slot == slot
            assert pool.owner[slot] == lead.marketer.pool_index
        # every slot is free, holds a lead, or waits for its pending touch to be freed
        pending = [s for day in pool.due.values() for one in day for s in one]
        assert len(pending) == len(set(pending))
        dead_pending = {s for s in pending if pool.leads[s] is None}
        assert not dead_pending & set(pool.free)
        assert len(pool.free) + len(pooled) + len(dead_pending) == len(pool.leads)
    # so the pool stays near the marketers' capacity, however long the run
    assert len(model.nurture_pool.leads) <= 2 * max(
        16, model.org.n_marketers * model.org.nurture_capacity_per_marketer
    )


def test_a_nurtured_lead_handed_over_directly_leaves_the_pool():
    """Moving a lead out of LEAD (as the validation gate's hand_off does) releases its slot."""
    model = quiet_model()
    marketer = model.marketer_order[0]
    marketer.threshold = 2.0
    lead = enrol(model, marketer, 0.5, 0.5)
    slot = lead.nurture_slot
    model.hand_off(lead)
    assert lead.nurture_slot == -1 and marketer.nurturing == 0
    value = lead.value
    model.run_for(3 * model.behaviour.nurture_touch_days)
    assert lead.value == value  # not touched after it left
    assert slot in model.nurture_pool.free


def test_changes_to_a_released_lead_are_its_own():
    model = quiet_model()
    marketer = model.marketer_order[0]
    lead = enrol(model, marketer, 0.5, 0.5)
    model.close(lead, Stage.DROPPED)
    lead.value = 123.0  # after leaving nurture the lead's attributes are authoritative
    model.nurture_pool.sync()
    assert lead.value == 123.0
