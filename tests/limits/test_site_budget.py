"""The site-wide spend guard: caps on all users together, held and settled like a
user's budget, on both backends."""

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.errors import BudgetExhausted, Busy
from chat.limits.clock import ManualClock
from chat.limits.site import site_status
from chat.models import ModelCall
from tests.limits.conftest import admit_one, policy

NOON = ManualClock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
HOLD = Decimal("0.01")


@pytest.fixture
def site_caps(settings):
    for name in (
        "COST_PER_DAY",
        "COST_PER_MONTH",
        "TOKENS_PER_DAY",
        "TOKENS_PER_MONTH",
    ):
        setattr(settings, f"CHAT_SITE_BUDGET_{name}", None)
    settings.CHAT_SITE_BUDGET_COST_PER_DAY = "0.10"
    return settings


async def test_fifty_concurrent_requests_from_ten_users_stay_within_the_cap(
    limits, ledger, site_caps
):
    """Waves of 50 concurrent requests (10 users, 5 each) settle random real costs up
    to their hold; the site never spends past its cap, let alone by a reservation."""
    rng = random.Random(7)
    open_policy = policy()
    spent = Decimal(0)
    admitted_total = 0
    for _wave in range(6):
        admitted, refusals = [], []

        async def send(user: int):
            try:
                admitted.append(
                    await admit_one(
                        user, policy=open_policy, cost=str(HOLD), clock=NOON
                    )
                )
            except (Busy, BudgetExhausted) as exc:
                refusals.append(exc)

        await asyncio.gather(*(send(1 + i % 10) for i in range(50)))
        assert len(admitted) + len(refusals) == 50
        # Every hold is the full reservation: at most what is left fits.
        assert spent + len(admitted) * HOLD <= Decimal("0.10")
        for admission in admitted:
            real = HOLD * Decimal(rng.randint(0, 100)) / 100
            await admission.settle(input_tokens=10, output_tokens=50, cost=real)
            spent += real
        admitted_total += len(admitted)
        assert spent <= Decimal("0.10")
    (status,) = await site_status(now=NOON.now())
    assert status.cost_used == spent and status.cost_used <= Decimal("0.10")
    assert admitted_total > 10  # later waves used what earlier ones did not


async def test_holds_of_replies_in_flight_refuse_with_busy_then_the_cap_with_budget(
    limits, ledger, site_caps
):
    held = [await admit_one(u, cost="0.05", clock=NOON) for u in (1, 2)]
    with pytest.raises(Busy) as busy:
        await admit_one(3, cost="0.05", clock=NOON)
    assert busy.value.detail == "site_budget_held" and busy.value.retry_after
    for admission in held:
        await admission.settle(cost=Decimal("0.05"))
    with pytest.raises(BudgetExhausted) as refused:
        await admit_one(4, cost="0.01", clock=NOON)
    message = refused.value.message
    assert "service has reached its daily usage limit" in message
    assert "not a limit on your account" in message
    assert refused.value.code == "budget_exhausted"
    assert refused.value.retry_after == pytest.approx(12 * 3600)


async def test_a_users_own_refusal_gives_the_site_hold_back(limits, ledger, site_caps):
    tight = policy(tokens_per_day=50)
    with pytest.raises(BudgetExhausted) as refused:
        await admit_one(1, policy=tight, cost="0.05", clock=NOON)
    assert "your daily budget" in refused.value.message
    (status,) = await site_status(now=NOON.now())
    assert status.cost_used == 0


async def test_the_site_counter_starts_from_every_users_ledger(
    limits, ledger, site_caps
):
    users = get_user_model().objects
    alice = await users.acreate_user("alice-site")
    bob = await users.acreate_user("bob-site")
    today = timezone.now()
    for user, amount in ((alice, "0.05"), (bob, "0.045")):
        await ModelCall.objects.acreate(
            user=user, model="gpt-4o-mini", status="complete", cost=Decimal(amount)
        )
    await ModelCall.objects.acreate(  # yesterday's does not count
        user=bob, model="gpt-4o-mini", status="complete", cost=Decimal("1")
    )
    await ModelCall.objects.filter(cost=1).aupdate(created=today - timedelta(days=1))
    with pytest.raises(BudgetExhausted):
        await admit_one(alice.pk, cost="0.01")
    admission = await admit_one(alice.pk, cost="0.005")
    await admission.settle()


async def test_token_and_monthly_caps(limits, ledger, site_caps):
    site_caps.CHAT_SITE_BUDGET_COST_PER_DAY = None
    site_caps.CHAT_SITE_BUDGET_TOKENS_PER_MONTH = 250
    first = await admit_one(1, clock=NOON)  # holds 100 tokens
    await first.settle(input_tokens=60, output_tokens=60)
    second = await admit_one(2, clock=NOON)
    await second.settle(input_tokens=10, output_tokens=90)
    with pytest.raises(BudgetExhausted) as refused:
        await admit_one(3, clock=NOON)
    assert "monthly usage limit" in refused.value.message


async def test_no_site_cap_keeps_no_site_counter(limits, ledger, settings):
    settings.CHAT_SITE_BUDGET_COST_PER_DAY = None
    settings.CHAT_SITE_BUDGET_COST_PER_MONTH = None
    settings.CHAT_SITE_BUDGET_TOKENS_PER_DAY = None
    settings.CHAT_SITE_BUDGET_TOKENS_PER_MONTH = None
    admission = await admit_one(1, cost="5")
    assert admission.site is None
    await admission.settle(cost=Decimal(5))
    assert await site_status() == []


@pytest.fixture
def staff_client(client, db):
    staff = get_user_model().objects.create_superuser("root", password="pw-root-1!")
    client.force_login(staff)
    return client


def _spend_sync(amount: str) -> None:
    from asgiref.sync import async_to_sync

    async def spend():
        admission = await admit_one(1, cost=amount)
        await admission.settle(cost=Decimal(amount))

    async_to_sync(spend)()


def test_metrics_report_site_spend_against_the_cap(staff_client, site_caps):
    site_caps.REDIS_URL = ""
    site_caps.CHAT_SITE_BUDGET_TOKENS_PER_DAY = 1000
    _spend_sync("0.04")
    text = staff_client.get("/metrics").content.decode()
    assert 'chat_site_budget_used{kind="cost",period="day"} 0.04' in text
    assert 'chat_site_budget_limit{kind="cost",period="day"} 0.1' in text
    assert 'chat_site_budget_used{kind="tokens",period="day"} 0.0' in text
    assert 'chat_site_budget_used_ratio{period="day"} 0.4' in text


def test_admin_banner_appears_near_the_cap(staff_client, site_caps):
    site_caps.REDIS_URL = ""
    _spend_sync("0.05")
    assert "spending cap" not in staff_client.get("/admin/").content.decode()
    _spend_sync("0.04")
    page = staff_client.get("/admin/").content.decode()
    assert "The site is near its daily spending cap: $0.09 of $0.10 (90%)" in page
    assert 'id="site-name"' in page  # Django's own header is kept


def test_a_malformed_site_cap_is_a_system_check_error(settings):
    from chat.limits.checks import check_limits_settings

    settings.CHAT_SITE_BUDGET_COST_PER_DAY = "ten dollars"
    settings.CHAT_SITE_BUDGET_TOKENS_PER_MONTH = "-5"
    messages = [m.msg for m in check_limits_settings()]
    assert any("CHAT_SITE_BUDGET_COST_PER_DAY" in m for m in messages)
    assert any("CHAT_SITE_BUDGET_TOKENS_PER_MONTH" in m for m in messages)


def test_app_json_deploys_with_a_site_cap():
    import json
    from pathlib import Path

    app = json.loads((Path(__file__).parents[2] / "app.json").read_text())
    assert Decimal(app["env"]["CHAT_SITE_BUDGET_COST_PER_DAY"]["value"]) > 0
