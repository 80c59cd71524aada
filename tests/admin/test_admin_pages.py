"""The admin's observability pages with 100,000 ledger rows: each answers with a
bounded number of queries (no per-row queries), and the dashboard's figures are the
ledger's own aggregates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from chat.llm.registry import cost, get_spec
from chat.models import Conversation, ErrorRecord, Message, ModelCall
from chat.observability.dashboard import DateRange
from tests.factories import generate_usage, ledger_totals

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def usage_data(django_db_setup, django_db_blocker):
    """100,000 calls and 5,000 errors, made once for the module."""
    with django_db_blocker.unblock():
        data = generate_usage()
    yield data
    with django_db_blocker.unblock():
        ModelCall.objects.all().delete()
        ErrorRecord.objects.all().delete()
        Message.objects.all().delete()
        Conversation.objects.all().delete()
        get_user_model().objects.filter(username__startswith="user").delete()


def test_dashboard_loads_with_bounded_queries(
    usage_data, staff_client, django_assert_max_num_queries
):
    url = reverse("admin:chat_modelcall_dashboard")
    # 10, and the catalogue that prices cache hits: its version and, when it
    # changed, its rows (entries, their groups, fallbacks).
    with django_assert_max_num_queries(14):
        response = staff_client.get(url)
    assert response.status_code == 200
    assert b"Tokens per day, by model" in response.content
    assert response.content.count(b'<rect class="s') > 30


def test_dashboard_totals_equal_the_ledger(usage_data, staff_client):
    response = staff_client.get(reverse("admin:chat_modelcall_dashboard"))
    expected = ledger_totals(DateRange.last_days(30))
    totals = response.context["totals"]
    assert totals["calls"] == expected["calls"]
    assert totals["input_tokens"] == expected["input_tokens"]
    assert totals["output_tokens"] == expected["output_tokens"]
    # At the ledger's precision (1e-8): SQLite sums decimals as floats.
    cost = Decimal(expected["cost"]).quantize(Decimal("0.00000001"))
    assert totals["cost"] == cost
    assert f'data-metric="cost" data-value="{cost}"'.encode() in response.content
    # Days outside the range are left out: the data spans 35 days.
    assert expected["calls"] < ModelCall.objects.filter(cache_hit=False).count()


def test_dashboard_prices_cache_hits_at_registry_prices(usage_data, staff_client):
    response = staff_client.get(reverse("admin:chat_modelcall_dashboard"))
    span = DateRange.last_days(30)
    hits = ModelCall.objects.filter(
        created__gte=span.since, created__lt=span.until, cache_hit=True
    )
    saved = Decimal(0)
    for row in hits.values("model").annotate(
        i=Sum("input_tokens"), c=Sum("cached_input_tokens"), o=Sum("output_tokens")
    ):
        saved += cost(
            get_spec(row["model"]),
            input_tokens=row["i"],
            cached_input_tokens=row["c"],
            output_tokens=row["o"],
        )
    cache = response.context["cache"]
    assert cache.hits == hits.count()
    assert cache.saved == saved > 0
    assert response.context["cache_rate"] == pytest.approx(
        cache.hits / (cache.hits + response.context["totals"]["calls"])
    )


def test_dashboard_range_filter_narrows_the_figures(usage_data, staff_client):
    today = timezone.localdate()
    start, end = today - timedelta(6), today
    response = staff_client.get(
        reverse("admin:chat_modelcall_dashboard"),
        {"start": start.isoformat(), "end": end.isoformat()},
    )
    span = DateRange(start, end)
    assert response.context["span"] == span
    calls = ModelCall.objects.filter(
        created__gte=span.since, created__lt=span.until, cache_hit=False
    ).count()
    assert response.context["totals"]["calls"] == calls
    assert len(response.context["tokens_chart"].days) <= 10


def test_dashboard_rejects_a_reversed_range(usage_data, staff_client):
    today = timezone.localdate()
    response = staff_client.get(
        reverse("admin:chat_modelcall_dashboard"),
        {"start": today.isoformat(), "end": (today - timedelta(3)).isoformat()},
    )
    assert response.status_code == 200
    assert b"The start comes after the end." in response.content
    assert response.context["span"] == DateRange.last_days(30)


def test_dashboard_needs_view_permission(usage_data, client):
    user = get_user_model().objects.create_user(
        "clerk", password="pw-clerk-0123456!", is_staff=True
    )
    client.force_login(user)
    response = client.get(reverse("admin:chat_modelcall_dashboard"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("admin:chat_modelcall_changelist", 8),
        ("admin:chat_errorrecord_changelist", 12),
        ("admin:auth_user_changelist", 7),
        ("admin:chat_conversation_changelist", 8),
        ("admin:chat_message_changelist", 8),
    ],
)
def test_lists_load_with_bounded_queries(
    usage_data, staff_client, django_assert_max_num_queries, name, limit
):
    with django_assert_max_num_queries(limit):
        response = staff_client.get(reverse(name))
    assert response.status_code == 200


def test_errors_page_counts_by_kind_and_code_over_the_filtered_records(
    usage_data, staff_client
):
    response = staff_client.get(
        reverse("admin:chat_errorrecord_changelist"), {"kind": "admission"}
    )
    report = response.context["report"]
    expected = {
        (row["kind"], row["code"]): row["n"]
        for row in ErrorRecord.objects.filter(kind="admission")
        .values("kind", "code")
        .annotate(n=Count("id"))
    }
    assert {(r["kind"], r["code"]): r["n"] for r in report["pairs"]} == expected
    assert {name for _, name, _ in report["chart"].legend} <= {
        "rate_limited",
        "busy",
        "budget_exhausted",
    }
    record = ErrorRecord.objects.filter(kind="admission").select_related("user")[0]
    user_url = reverse("admin:auth_user_change", args=[record.user_id])
    assert user_url.encode() in response.content
    assert b"/admin/chat/conversation/" in response.content


def test_user_list_shows_usage_this_period_plan_and_state(usage_data, staff_client):
    User = get_user_model()
    heavy = (
        ModelCall.objects.filter(
            cache_hit=False,
            created__gte=timezone.localtime().replace(
                day=1, hour=0, minute=0, second=0, microsecond=0
            ),
        )
        .values("user")
        .annotate(t=Sum("input_tokens") + Sum("output_tokens"))
        .order_by("-t")[0]
    )
    response = staff_client.get(
        reverse("admin:auth_user_changelist"),
        {"o": "-6"},  # tokens this month, desc
    )
    assert response.status_code == 200
    first = response.context["cl"].result_list[0]
    assert first.pk == heavy["user"]
    assert first.tokens_month == heavy["t"]
    assert b"chat-state-active" in response.content
    User.objects.filter(pk=heavy["user"]).update(is_active=False)
    response = staff_client.get(reverse("admin:auth_user_changelist"), {"o": "-6"})
    assert b"chat-state-blocked" in response.content


def test_user_change_page_shows_usage_and_recent_conversations(
    usage_data, staff_client, django_assert_max_num_queries
):
    user_id = usage_data["conversation"].user_id
    with django_assert_max_num_queries(16):
        response = staff_client.get(reverse("admin:auth_user_change", args=[user_id]))
    assert response.status_code == 200
    assert b"tokens today" in response.content
    assert b"read (audited)" in response.content
