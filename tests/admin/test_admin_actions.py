"""Admin actions on users and the audited reading of a conversation."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.urls import reverse

import chat.admin.users
from chat.limits import LimitsUnavailable
from tests import factories

pytestmark = pytest.mark.django_db
SECRET_TEXT = "my passport number is X1234567"


@pytest.fixture
def conversation(user):
    conversation = factories.conversation(user, title="Passport renewal")
    factories.message(conversation, content=SECRET_TEXT)
    factories.message(conversation, role="assistant", content="I can help with that.")
    return conversation


def act(client, action: str, users) -> object:
    return client.post(
        reverse("admin:auth_user_changelist"),
        {"action": action, "_selected_action": [u.pk for u in users]},
        follow=True,
    )


def test_block_and_unblock_are_logged_and_spare_the_operator(
    staff_client, staff, user, other_user
):
    response = act(staff_client, "block_users", [user, other_user, staff])
    assert b"Blocked 2 user(s)." in response.content
    assert b"You cannot block yourself." in response.content
    User = get_user_model()
    assert not User.objects.get(pk=user.pk).is_active
    assert User.objects.get(pk=staff.pk).is_active
    logged = LogEntry.objects.filter(change_message="Blocked.", action_flag=CHANGE)
    assert {int(e.object_id) for e in logged} == {user.pk, other_user.pk}
    act(staff_client, "unblock_users", [user])
    assert User.objects.get(pk=user.pk).is_active
    assert LogEntry.objects.filter(change_message="Unblocked.").count() == 1


def test_reset_budget_resets_each_user_and_is_logged(
    staff_client, user, other_user, monkeypatch
):
    reset = []

    async def budget_reset(*, user_id):
        reset.append(user_id)

    monkeypatch.setattr(chat.admin.users, "budget_reset", budget_reset)
    response = act(staff_client, "reset_budgets", [user, other_user])
    assert sorted(reset) == sorted([user.pk, other_user.pk])
    assert b"Reset the budget of 2 user(s)." in response.content
    assert (
        LogEntry.objects.filter(change_message="Reset the usage budget.").count() == 2
    )


def test_reset_budget_reports_an_unavailable_limits_store(
    staff_client, user, monkeypatch
):
    async def budget_reset(*, user_id):
        raise LimitsUnavailable(detail="redis down")

    monkeypatch.setattr(chat.admin.users, "budget_reset", budget_reset)
    response = act(staff_client, "reset_budgets", [user])
    assert b"budgets were not reset" in response.content
    assert not LogEntry.objects.exists()


def test_reset_budget_works_with_the_limits_module(staff_client, user):
    response = act(staff_client, "reset_budgets", [user])
    assert b"Reset the budget of 1 user(s)." in response.content


def test_message_text_is_not_on_the_ordinary_pages(staff_client, conversation):
    message = conversation.messages.get(role="user")
    for url in (
        reverse("admin:chat_conversation_change", args=[conversation.pk]),
        reverse("admin:chat_message_change", args=[message.pk]),
        reverse("admin:chat_message_changelist"),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200
        assert SECRET_TEXT.encode() not in response.content
    page = staff_client.get(
        reverse("admin:chat_conversation_change", args=[conversation.pk])
    )
    assert b"Read the messages (audited)" in page.content


def test_reading_a_conversation_needs_a_reason_and_is_logged(
    staff_client, staff, conversation
):
    url = reverse("admin:chat_conversation_investigate", args=[conversation.pk])
    form = staff_client.get(url)
    assert form.status_code == 200
    assert SECRET_TEXT.encode() not in form.content
    assert "no-cache" in form["Cache-Control"]
    refused = staff_client.post(url, {"reason": ""})
    assert SECRET_TEXT.encode() not in refused.content
    assert not LogEntry.objects.exists()
    read = staff_client.post(url, {"reason": "Support ticket #4521: wrong answer"})
    assert SECRET_TEXT.encode() in read.content
    entry = LogEntry.objects.get()
    assert entry.user == staff
    assert entry.object_id == str(conversation.pk)
    assert entry.change_message == (
        "Read the messages to investigate: Support ticket #4521: wrong answer"
    )


def test_staff_without_view_permission_cannot_investigate(client, conversation):
    clerk = factories.user("clerk", is_staff=True)
    client.force_login(clerk)
    url = reverse("admin:chat_conversation_investigate", args=[conversation.pk])
    assert client.post(url, {"reason": "curious about it"}).status_code == 403
    assert not LogEntry.objects.exists()


def test_a_call_links_to_its_trace_user_and_conversation(
    staff_client, user, conversation, settings
):
    settings.CHAT_TRACE_URL = "https://smith.example/o/1/r/{run_id}?poll=true"
    call = factories.model_call(
        user,
        conversation=conversation,
        model="gpt-4o-mini",
        status="complete",
        run_id="0f0e0d0c-aaaa-bbbb-cccc-000000000001",
    )
    listing = staff_client.get(reverse("admin:chat_modelcall_changelist"))
    trace = (
        b"https://smith.example/o/1/r/0f0e0d0c-aaaa-bbbb-cccc-000000000001?poll=true"
    )
    assert trace in listing.content
    assert reverse("admin:auth_user_change", args=[user.pk]).encode() in listing.content
    assert (
        reverse("admin:chat_conversation_change", args=[conversation.pk]).encode()
        in listing.content
    )
    detail = staff_client.get(reverse("admin:chat_modelcall_change", args=[call.pk]))
    assert trace in detail.content


def test_an_error_shows_its_details_and_links(staff_client, user, conversation):
    record = factories.error_record(
        kind="reply",
        code="timeout",
        user=user,
        conversation=conversation,
        detail="APITimeoutError after 60 s",
        turn_id="0123456789ab",
    )
    detail = staff_client.get(
        reverse("admin:chat_errorrecord_change", args=[record.pk])
    )
    assert b"APITimeoutError after 60 s" in detail.content
    assert reverse("admin:auth_user_change", args=[user.pk]).encode() in detail.content
    listing = staff_client.get(
        reverse("admin:chat_errorrecord_changelist"), {"q": "0123456789ab"}
    )
    assert listing.context["report"]["total"] == 1
    assert b"0123456789ab" in listing.content
    # The investigate page links to a conversation's errors and calls this way.
    factories.model_call(
        user, conversation=conversation, model="gpt-4o", status="failed"
    )
    for name in ("errorrecord", "modelcall"):
        by_conversation = staff_client.get(
            reverse(f"admin:chat_{name}_changelist"),
            {"conversation__id__exact": str(conversation.pk)},
        )
        assert by_conversation.status_code == 200
        assert by_conversation.context["cl"].result_count == 1


def test_users_show_their_quota_plan_and_limits(
    staff_client, user, other_user, django_assert_max_num_queries
):
    factories.quota(user, plan="team", tokens_per_day=5000)
    with django_assert_max_num_queries(8):
        listing = staff_client.get(reverse("admin:auth_user_changelist"))
    assert b"team" in listing.content
    assert b"5,000 tokens per day" in listing.content
    by_plan = staff_client.get(
        reverse("admin:auth_user_changelist"), {"chat_quota__plan": "team"}
    )
    assert [u.pk for u in by_plan.context["cl"].result_list] == [user.pk]
    page = staff_client.get(reverse("admin:auth_user_change", args=[user.pk]))
    assert b'name="chat_quota-0-plan"' in page.content
