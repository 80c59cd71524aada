"""Pages and the page's JSON API: login required, owner-checked."""

from decimal import Decimal

import pytest
from django.urls import reverse

from chat.models import Conversation, ModelCall
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(user):
    conv = factories.conversation(user, title="Colours")
    question = factories.message(conv, content="Hi")
    factories.message(
        conv,
        role="assistant",
        content="**Red**, <script>x</script>",
        parent=question,
        output_tokens=3,
        cost=Decimal("0.00001"),
    )
    return conv


def test_chat_page_requires_login(client):
    response = client.get(reverse("chat:index"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_chat_page_renders_with_csp_nonce(client, user):
    client.force_login(user)
    response = client.get(reverse("chat:index"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "'nonce-" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_api_requires_login(client):
    response = client.get(reverse("chat:conversation-list"))
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_conversation_list_and_detail(client, user, conversation):
    client.force_login(user)
    listing = client.get(reverse("chat:conversation-list")).json()
    assert [c["title"] for c in listing["conversations"]] == ["Colours"]
    detail = client.get(
        reverse("chat:conversation-detail", args=[conversation.id])
    ).json()
    roles = [m["role"] for m in detail["messages"]]
    assert roles == ["user", "assistant"]
    reply = detail["messages"][1]
    assert "<strong>Red</strong>" in reply["html"] and "<script" not in reply["html"]
    assert detail["messages"][0]["html"] is None


def test_someone_elses_conversation_is_404(client, other_user, conversation):
    client.force_login(other_user)
    url = reverse("chat:conversation-detail", args=[conversation.id])
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    listing = client.get(reverse("chat:conversation-list")).json()
    assert listing["conversations"] == []


def test_delete_needs_csrf_and_keeps_the_ledger(user, conversation):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = reverse("chat:conversation-detail", args=[conversation.id])
    assert client.delete(url).status_code == 403
    client.get(reverse("chat:index"))
    token = client.cookies["csrftoken"].value
    factories.model_call(user, model="demo", cost=1)
    assert client.delete(url, headers={"X-CSRFToken": token}).status_code == 200
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert ModelCall.objects.filter(user=user).count() == 1


@pytest.fixture
def billed_call(user):
    """One call the provider answered today: 15 tokens, $0.25."""
    return factories.model_call(
        user,
        input_tokens=10,
        output_tokens=5,
        cost=Decimal("0.25"),
    )


def test_usage_summary_counts_today_and_month(client, user, billed_call):
    client.force_login(user)
    usage = client.get(reverse("chat:usage")).json()
    assert usage["today"]["input_tokens"] == 10 and usage["today"]["cost"] == "0.250000"
    assert usage["month"]["output_tokens"] == 5


def test_usage_summary_has_no_budgets_when_none_is_configured(client, user):
    client.force_login(user)
    assert client.get(reverse("chat:usage")).json()["budgets"] == []


def test_usage_summary_shows_what_is_left_of_each_budget(
    client, user, settings, billed_call
):
    settings.CHAT_QUOTA_CACHE_SECONDS = 0
    settings.CHAT_BUDGET_TOKENS_PER_DAY = 1000
    settings.CHAT_BUDGET_COST_PER_MONTH = "2.00"
    client.force_login(user)
    day, month = client.get(reverse("chat:usage")).json()["budgets"]
    assert day["period"] == "day"
    assert (day["tokens_limit"], day["tokens_used"], day["tokens_left"]) == (
        1000,
        15,
        985,
    )
    assert day["cost_limit"] is None and day["cost_left"] is None
    assert day["resets"].startswith("resets") and day["resets_at"]
    assert month["period"] == "month" and month["tokens_left"] is None
    assert Decimal(month["cost_left"]) == Decimal("1.75")


def test_usage_summary_shows_no_budgets_when_limits_are_off(client, user, settings):
    settings.CHAT_LIMITS_ENABLED = False
    settings.CHAT_BUDGET_TOKENS_PER_DAY = 1000
    client.force_login(user)
    assert client.get(reverse("chat:usage")).json()["budgets"] == []


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
