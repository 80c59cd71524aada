"""Ledger aggregates: totals leave cache hits out, savings price them, percentiles
are computed in the database and agree with linear interpolation."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from chat import percentiles as pct
from chat import usage
from chat.catalogue.store import catalogue_sync
from chat.llm.registry import cost, get_spec
from chat.models import ModelCall
from tests.catalogue.conftest import make_entry
from tests.factories import build_model_call as call

pytestmark = pytest.mark.django_db


def reference(values: list[float], fraction: float) -> float | None:
    """percentile_cont: linear interpolation between the two nearest ranks."""
    values = sorted(values)
    if not values:
        return None
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (position - low) * (values[high] - values[low])


@pytest.fixture
def latencies(user):
    rng = random.Random(3)
    rows, expected = [], {}
    for model, count in (("gpt-4o-mini", 101), ("gpt-4o", 7), ("smollm2", 1)):
        ttft = [rng.randint(50, 5000) for _ in range(count)]
        rows += [call(user, model=model, ttft_ms=t, duration_ms=t * 3) for t in ttft]
        expected[model] = ttft
    # Calls that never produced a token count for duration only.
    rows += [call(user, model="gpt-4o", ttft_ms=None, duration_ms=9000)] * 3
    ModelCall.objects.bulk_create(rows)
    return expected


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.95, 0.99, 1.0])
def test_percentiles_interpolate_between_ranks(latencies, fraction):
    since = timezone.now() - timedelta(days=1)
    found = usage.latency_percentiles(since=since, fractions=(fraction,))
    every = [t for values in latencies.values() for t in values]
    assert found[None]["ttft_ms"][fraction] == pytest.approx(reference(every, fraction))
    for model, values in latencies.items():
        assert found[model]["ttft_ms"][fraction] == pytest.approx(
            reference(values, fraction)
        )
    durations = [t * 3 for t in latencies["gpt-4o"]] + [9000] * 3
    assert found["gpt-4o"]["duration_ms"][fraction] == pytest.approx(
        reference(durations, fraction)
    )


def test_percentiles_of_no_rows_are_none(db):
    found = usage.latency_percentiles(since=timezone.now())
    assert found == {
        None: {f: dict.fromkeys(pct.FRACTIONS) for f in usage.LATENCY_FIELDS}
    }


def test_window_fallback_agrees_with_percentile_cont(latencies):
    """Both ways give the same figures (PostgreSQL only: SQLite has no
    percentile_cont)."""
    if connection.vendor != "postgresql":
        pytest.skip("percentile_cont needs PostgreSQL")
    rows = ModelCall.objects.all()
    native = pct._percentile_cont(rows, ["ttft_ms"], "model", pct.FRACTIONS)
    ranked = pct._complete(
        {
            g: {"ttft_ms": v}
            for g, v in pct._by_rank(rows, "ttft_ms", "model", pct.FRACTIONS).items()
        },
        ["ttft_ms"],
        pct.FRACTIONS,
    )
    assert native.keys() == ranked.keys()
    for group in native:
        for p in pct.FRACTIONS:
            assert ranked[group]["ttft_ms"][p] == pytest.approx(
                native[group]["ttft_ms"][p]
            )


def test_totals_leave_cache_hits_out_and_savings_price_them(user):
    ModelCall.objects.bulk_create(
        [
            call(user, input_tokens=1000, output_tokens=200, cost=Decimal("0.00027")),
            call(user, input_tokens=1000, output_tokens=200, cache_hit=True),
            call(
                user, model="mystery", input_tokens=5, output_tokens=5, cache_hit=True
            ),
        ]
    )
    since = timezone.now() - timedelta(hours=1)
    rows = list(usage.usage_by_entry(since=since))
    assert [(r["entry"], r["calls"], r["output_tokens"]) for r in rows] == [
        ("gpt-4o-mini", 1, 200)
    ]
    saved = usage.cache_savings(since=since)
    assert saved.hits == 2
    assert saved.saved == cost(
        get_spec("gpt-4o-mini"),
        input_tokens=1000,
        cached_input_tokens=0,
        output_tokens=200,
    )
    assert saved.unpriced == ["mystery"]


def test_range_end_is_exclusive(user):
    ModelCall.objects.bulk_create([call(user, output_tokens=3)])
    made = ModelCall.objects.get().created
    assert not list(usage.usage_by_day(since=made - timedelta(1), until=made))
    assert list(usage.usage_by_day(since=made, until=made + timedelta(seconds=1)))


@pytest.mark.django_db(transaction=True)
async def test_user_summary_counts_billed_calls_only(user):
    await ModelCall.objects.abulk_create(
        [
            call(user, output_tokens=7, cost=Decimal("0.5")),
            call(user, output_tokens=9, cache_hit=True),
        ]
    )
    summary = await usage.usage_summary(user=user)
    assert summary["today"]["output_tokens"] == 7
    assert summary["today"]["calls"] == 1
    assert summary["month"]["cost"] == "0.500000"


def test_users_are_annotated_with_usage_today_and_this_month(user, other_user):
    now = timezone.now()
    ModelCall.objects.bulk_create(
        [
            call(user, input_tokens=10, output_tokens=5, cost=Decimal("0.25")),
            call(user, input_tokens=100, output_tokens=0, cache_hit=True),
        ]
    )
    users = {
        u.username: u
        for u in usage.with_period_usage(get_user_model().objects.all(), now=now)
    }
    assert (users["alice"].tokens_today, users["alice"].tokens_month) == (15, 15)
    assert users["alice"].cost_month == Decimal("0.25")
    assert (users["bob"].tokens_today, users["bob"].cost_month) == (0, 0)


def test_usage_is_broken_down_by_catalogue_entry(user, staff_client):
    """Two entries serving one provider model at different prices are counted,
    and their cache hits priced, apart; older rows fall back to their model."""
    make_entry("cheap", model="shared-model", input_per_mtok="1", output_per_mtok="1")
    make_entry("dear", model="shared-model", input_per_mtok="9", output_per_mtok="9")
    rows = [
        call(user, model="shared-model", catalogue_key="cheap", output_tokens=10),
        call(user, model="shared-model", catalogue_key="dear", output_tokens=20),
        call(user, model="gpt-4o-mini", output_tokens=30),
    ]
    hits = [
        call(
            user,
            model="shared-model",
            catalogue_key=key,
            cache_hit=True,
            input_tokens=1000,
            output_tokens=1000,
        )
        for key in ("cheap", "dear")
    ]
    ModelCall.objects.bulk_create(rows + hits)
    since = timezone.now() - timedelta(hours=1)
    catalogue_sync()
    found = {
        r["entry"]: (r["model"], r["output_tokens"])
        for r in usage.usage_by_entry(since=since)
    }
    assert found == {
        "cheap": ("shared-model", 10),
        "dear": ("shared-model", 20),
        "gpt-4o-mini": ("gpt-4o-mini", 30),
    }
    saved = usage.cache_savings(since=since)
    at = {key: get_spec(key) for key in ("cheap", "dear")}
    assert saved.saved == sum(
        cost(
            at[hit.catalogue_key],
            input_tokens=hit.input_tokens,
            cached_input_tokens=hit.cached_input_tokens,
            output_tokens=hit.output_tokens,
        )
        for hit in hits
    )
    assert saved.saved == Decimal("0.002") + Decimal("0.018")
    page = staff_client.get(reverse("admin:chat_modelcall_dashboard")).content.decode()
    assert "By catalogue entry" in page
    assert "?catalogue_key=dear" in page and "?model=gpt-4o-mini" in page
    user_page = staff_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert "dear (shared-model) " in user_page.content.decode()
