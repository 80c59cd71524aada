from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from chat.admin.quotas import QuotaAdmin, describe
from chat.limits.policies import default_policy, forget_quota, policy_for, resolve
from chat.models import Quota
from chat.rate_rules import RateRule, parse_rate_rules, validate_rate_limits


@pytest.mark.parametrize(
    ("text", "rules"),
    [
        ("10/60", (RateRule(10, 60),)),
        ("10/1m, 200/1d", (RateRule(10, 60), RateRule(200, 86400))),
        (["3/2h"], (RateRule(3, 7200),)),
        ([(5, 30)], (RateRule(5, 30),)),
        ("", ()),
    ],
)
def test_rate_rules_are_parsed(text, rules):
    assert parse_rate_rules(text) == rules


@pytest.mark.parametrize("text", ["ten/60", "10", "10/0", "10/1w"])
def test_bad_rate_rules_say_what_is_wrong(text):
    with pytest.raises(ValueError, match="should look like|positive window"):
        parse_rate_rules(text)
    with pytest.raises(ValidationError):
        validate_rate_limits(text)


def test_default_policy_comes_from_settings(settings):
    settings.CHAT_RATE_LIMITS = "4/1m"
    settings.CHAT_MAX_CONCURRENT_REPLIES = 2
    settings.CHAT_BUDGET_TOKENS_PER_DAY = "1000"
    settings.CHAT_BUDGET_COST_PER_MONTH = "2.50"
    policy = default_policy()
    assert policy.rate_rules == (RateRule(4, 60),)
    assert policy.max_concurrent == 2
    assert policy.budget("day") == (1000, None)
    assert policy.budget("month") == (None, Decimal("2.50"))


def test_misconfigured_rate_limits_fail_loudly(settings):
    settings.CHAT_RATE_LIMITS = "lots"
    with pytest.raises(ImproperlyConfigured, match="CHAT_RATE_LIMITS"):
        default_policy()


def test_quota_fields_override_only_where_filled(settings):
    settings.CHAT_RATE_LIMITS = ["10/1m"]
    settings.CHAT_BUDGET_TOKENS_PER_DAY = 1000
    settings.CHAT_BUDGET_TOKENS_PER_MONTH = 20000
    quota = Quota(rate_limits="2/1m", tokens_per_day=50)
    policy = resolve(quota)
    assert policy.rate_rules == (RateRule(2, 60),)
    assert policy.budget("day") == (50, None)
    assert policy.budget("month") == (20000, None)


def test_unlimited_quota_drops_rate_and_budgets_but_not_concurrency(settings):
    settings.CHAT_RATE_LIMITS = ["10/1m"]
    settings.CHAT_BUDGET_TOKENS_PER_DAY = 1000
    policy = resolve(Quota(unlimited=True, tokens_per_day=5))
    assert policy.rate_rules == ()
    assert policy.budget("day") == (None, None)
    assert policy.max_concurrent == 1


@pytest.mark.django_db(transaction=True)
async def test_policy_for_reads_the_users_quota_and_caches_it(settings, user):
    settings.CHAT_QUOTA_CACHE_SECONDS = 30
    settings.CHAT_BUDGET_TOKENS_PER_DAY = 1000
    forget_quota()
    assert (await policy_for(user)).tokens_per_day == 1000
    await Quota.objects.acreate(user=user, tokens_per_day=7)
    # Cached: no Quota when first asked.
    assert (await policy_for(user)).tokens_per_day == 1000
    forget_quota(user.pk)
    assert (await policy_for(user)).tokens_per_day == 7


def test_quota_admin_shows_the_limits_in_effect(settings):
    from django.contrib.admin import AdminSite

    settings.CHAT_RATE_LIMITS = ["10/1m"]
    settings.CHAT_BUDGET_TOKENS_PER_DAY = None
    model_admin = QuotaAdmin(Quota, AdminSite())
    quota = Quota(pk=1, max_concurrent_replies=2, cost_per_day=Decimal("0.50"))
    assert model_admin.limits_in_effect(quota) == (
        "10 requests per 60s; 2 replies at a time; 0.50 per day"
    )
    assert "no budget" in describe(resolve(Quota(unlimited=True)))


def test_system_check_accepts_the_defaults():
    from chat.limits.checks import check_limits_settings

    assert check_limits_settings() == []


def test_system_check_names_each_bad_setting(settings):
    from chat.limits.checks import check_limits_settings

    settings.CHAT_RATE_LIMITS = "often"
    settings.CHAT_LIMITS_ON_REDIS_ERROR = "open"
    settings.CHAT_UPSTREAM_RPM = -5
    settings.CHAT_BUDGET_COST_PER_DAY = "lots"
    settings.CHAT_UPSTREAM_POLL_SECONDS = 0
    settings.LLM_MAX_TOKENS = 512
    settings.CHAT_BUDGET_TOKENS_PER_DAY = 100
    ids = [message.id for message in check_limits_settings()]
    assert ids == [
        "chat.limits.E001",
        "chat.limits.E002",
        "chat.limits.E003",
        "chat.limits.E004",
        "chat.limits.E005",
        "chat.limits.W001",
    ]
