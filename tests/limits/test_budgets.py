import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from chat import protocol
from chat.errors import BudgetExhausted, Busy
from chat.limits import budget_reset, budget_status
from chat.limits.clock import ManualClock
from chat.models import ModelCall
from tests import factories
from tests.limits.conftest import admit_one, eventually, policy


def clock_at(*parts) -> ManualClock:
    return ManualClock(datetime(*parts, tzinfo=UTC))


async def spend(clock, budget, tokens=(10, 90), cost="0", user=1):
    admission = await admit_one(user, policy=budget, clock=clock, cost=cost)
    await admission.settle(
        input_tokens=tokens[0], output_tokens=tokens[1], cost=Decimal(cost)
    )


async def test_fifty_concurrent_sends_admit_exactly_one(limits, ledger, fake_model):
    # One reply holds 10 input + 90 reply cap = the whole budget.
    budget = policy(tokens_per_day=100)
    tried, everyone_tried = 0, asyncio.Event()
    admitted, refused = [], []

    async def send():
        nonlocal tried
        try:
            admission = await admit_one(policy=budget)
        except Busy as exc:
            refused.append(exc)
            return
        finally:
            tried += 1
            if tried == 50:
                everyone_tried.set()
        admitted.append(admission)
        await everyone_tried.wait()
        async for _ in fake_model.astream("hello"):
            pass
        await admission.settle(input_tokens=10, output_tokens=90)

    await asyncio.gather(*(send() for _ in range(50)))
    assert len(admitted) == 1
    assert len(fake_model.calls) == 1
    assert len(refused) == 49
    assert {exc.detail for exc in refused} == {"budget_held"}
    # Now the reply is settled the budget is spent, not merely held.
    with pytest.raises(BudgetExhausted):
        await admit_one(policy=budget)


async def test_budget_resets_exactly_at_midnight(limits, ledger):
    clock = clock_at(2025, 3, 14, 23, 59, 59)
    budget = policy(tokens_per_day=150)
    await spend(clock, budget)
    with pytest.raises(BudgetExhausted) as refused:
        await spend(clock, budget)
    assert refused.value.retry_after == pytest.approx(1.0)
    assert refused.value.message == (
        "Not enough is left of your daily budget of 150 tokens for this message; "
        "it resets at 00:00 UTC."
    )
    frame = json.loads(protocol.dumps(protocol.error_frame(refused.value)))
    assert (frame["code"], frame["retry_after"]) == ("budget_exhausted", 1.0)
    clock.advance(0.999)
    with pytest.raises(BudgetExhausted):
        await spend(clock, budget)
    clock.set(datetime(2025, 3, 15, tzinfo=UTC))
    await spend(clock, budget)


async def test_day_follows_the_budget_time_zone(limits, ledger, settings):
    settings.TIME_ZONE = "Europe/Paris"
    clock = clock_at(2025, 1, 10, 22, 59, 30)  # 23:59:30 in Paris
    budget = policy(tokens_per_day=100)
    await spend(clock, budget)
    with pytest.raises(BudgetExhausted) as refused:
        await spend(clock, budget)
    assert refused.value.retry_after == pytest.approx(30)
    assert "resets at 00:00 Europe/Paris" in refused.value.message
    clock.advance(30)
    await spend(clock, budget)


async def test_monthly_budget_names_the_first_of_the_month(limits, ledger):
    clock = clock_at(2025, 3, 31, 23, 0)
    budget = policy(tokens_per_day=1000, tokens_per_month=100)
    await spend(clock, budget)
    with pytest.raises(BudgetExhausted) as refused:
        await spend(clock, budget)
    assert refused.value.retry_after == pytest.approx(3600)
    assert (
        "monthly budget of 100 tokens for this message; "
        "it resets on 1 April at 00:00 UTC" in refused.value.message
    )
    clock.advance(3600)
    await spend(clock, budget)


async def test_refusal_names_the_budget_that_resets_last(limits, ledger):
    clock = clock_at(2025, 3, 10, 12, 0)
    budget = policy(tokens_per_day=100, tokens_per_month=100)
    await spend(clock, budget)
    with pytest.raises(BudgetExhausted) as refused:
        await spend(clock, budget)
    assert "monthly" in refused.value.message
    assert refused.value.retry_after == pytest.approx(21 * 86400 + 12 * 3600)


async def test_cost_budget(limits, ledger):
    clock = clock_at(2025, 3, 10, 12, 0)
    budget = policy(cost_per_day=Decimal("0.01"))
    await spend(clock, budget, cost="0.004")
    await spend(clock, budget, cost="0.004")
    with pytest.raises(BudgetExhausted) as refused:
        await spend(clock, budget, cost="0.004")
    assert "daily budget of $0.01" in refused.value.message
    await spend(clock, budget, cost="0.002")


async def test_stopped_reply_settles_what_it_used(limits, ledger, fake_model):
    fake_model.tokens = ["word "] * 200
    fake_model.delay = 0.005
    budget = policy(tokens_per_day=1000, max_concurrent=1)
    streamed = []

    async def generate():
        admission = await admit_one(policy=budget, reply_cap=500)
        try:
            async for chunk in fake_model.astream("hello"):
                streamed.append(chunk)
        finally:
            await admission.settle(input_tokens=10, output_tokens=len(streamed))

    turn = asyncio.create_task(generate())
    await eventually(lambda: len(streamed) >= 5)
    turn.cancel()
    with pytest.raises(asyncio.CancelledError):
        await turn
    (day,) = await budget_status(user=1, policy=budget)
    assert 5 <= len(streamed) < 200
    assert (day.tokens_used, day.tokens_held) == (10 + len(streamed), 0)
    again = await admit_one(policy=budget)  # the slot is free again
    await again.settle()


async def test_settle_counts_once(limits, ledger):
    budget = policy(tokens_per_day=1000)
    admission = await admit_one(policy=budget)
    await admission.settle(input_tokens=10, output_tokens=20)
    await admission.settle(input_tokens=10, output_tokens=20)
    (day,) = await budget_status(user=1, policy=budget)
    assert day.tokens_used == 30


async def test_settle_completes_even_if_cancelled_midway(limits, ledger):
    budget = policy(tokens_per_day=1000, max_concurrent=1)
    admission = await admit_one(policy=budget)
    settling = asyncio.create_task(admission.settle(input_tokens=10, output_tokens=7))
    await asyncio.sleep(0)
    settling.cancel()
    with pytest.raises(asyncio.CancelledError):
        await settling

    async def settled():
        (day,) = await budget_status(user=1, policy=budget)
        return (day.tokens_used, day.tokens_held) == (17, 0)

    for _ in range(100):
        if await settled():
            break
        await asyncio.sleep(0.01)
    assert await settled()
    again = await admit_one(policy=budget)  # the slot is free
    await again.settle()


async def test_cache_hit_costs_nothing(limits, ledger):
    budget = policy(tokens_per_day=100, cost_per_day=Decimal("0.01"))
    admission = await admit_one(policy=budget, cost="0.01")
    await admission.settle(
        input_tokens=10, output_tokens=90, cost=Decimal("0.01"), cache_hit=True
    )
    (day,) = await budget_status(user=1, policy=budget)
    assert (day.tokens_used, day.cost_used) == (0, Decimal(0))


async def test_counters_start_from_the_ledger(limits, ledger, user):
    now = timezone.now()
    rows = [
        dict(input_tokens=300, output_tokens=200, cost=Decimal("0.5")),
        dict(input_tokens=1000, output_tokens=1000, cost=Decimal(1), cache_hit=True),
    ]
    for row in rows:
        await factories.amodel_call(user, model="m", **row)
    old = await factories.amodel_call(user, model="m", input_tokens=5000)
    await ModelCall.objects.filter(pk=old.pk).aupdate(created=now - timedelta(days=2))
    budget = policy(tokens_per_day=1000, cost_per_day=Decimal("0.75"))
    (day,) = await budget_status(user=user, policy=budget)
    assert (day.tokens_used, day.cost_used) == (500, Decimal("0.5"))
    assert (day.tokens_left, day.cost_left) == (500, Decimal("0.25"))
    with pytest.raises(BudgetExhausted):
        await admit_one(user, policy=budget, input_tokens=10, reply_cap=491)
    admission = await admit_one(user, policy=budget, input_tokens=10, reply_cap=490)
    await admission.settle()


async def test_budget_status_for_the_page(limits, ledger):
    clock = clock_at(2025, 3, 10, 12, 0)
    budget = policy(tokens_per_day=1000, cost_per_month=Decimal("5"))
    admission = await admit_one(policy=budget, clock=clock, cost="0.25")
    day, month = await budget_status(user=1, policy=budget, clock=clock)
    assert day.as_frame() == {
        "period": "day",
        "tokens_limit": 1000,
        "tokens_used": 100,
        "tokens_left": 900,
        "cost_limit": None,
        "cost_used": "0.25000000",
        "cost_left": None,
        "resets_at": "2025-03-11T00:00:00+00:00",
        "resets": "resets at 00:00 UTC",
    }
    assert (month.cost_held, month.cost_left) == (Decimal("0.25"), Decimal("4.75"))
    await admission.settle(cost=Decimal("0.1"))
    day, month = await budget_status(user=1, policy=budget, clock=clock)
    assert (month.cost_used, month.cost_held) == (Decimal("0.1"), Decimal(0))


async def test_reset_forgives_this_periods_spending_but_keeps_holds(
    limits, ledger, user
):
    clock = clock_at(2025, 3, 10, 12, 0)
    budget = policy(tokens_per_day=300, tokens_per_month=1000)
    await spend(clock, budget, tokens=(100, 100), user=user)
    in_flight = await admit_one(user, policy=budget, clock=clock)
    with pytest.raises(Busy):  # 200 used + 100 held + 100 asked > 300
        await admit_one(user, policy=budget, clock=clock)
    await budget_reset(user_id=user.pk, clock=clock)
    day, month = await budget_status(user=user, policy=budget, clock=clock)
    assert (day.tokens_used, day.tokens_held) == (0, 100)
    assert (month.tokens_used, month.tokens_held) == (0, 100)
    # The ledger does not bring the spending back: the counters exist.
    await ModelCall.objects.acreate(
        user=user, model="m", status="complete", input_tokens=200
    )
    again = await admit_one(user, policy=budget, clock=clock)
    await again.settle()
    await in_flight.settle(input_tokens=10, output_tokens=10)
    (day, _) = await budget_status(user=user, policy=budget, clock=clock)
    assert day.tokens_used == 20
