"""Prometheus metrics: what the turn reports is counted, and /metrics answers only
a bearer token or a staff session."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from chat.cache import stats
from chat.observability import metrics
from chat.observability.metrics import REGISTRY


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def outcome(**fields) -> SimpleNamespace:
    """The fields of chat.conversations.ReplyOutcome the metrics read."""
    base = dict(
        model="gpt-4o-mini",
        status="complete",
        ttft_ms=420,
        duration_ms=2100,
        input_tokens=1200,
        cached_input_tokens=200,
        output_tokens=300,
        cost=Decimal("0.000345"),
        cache_hit=False,
    )
    return SimpleNamespace(**(base | fields))


def test_a_reply_feeds_latency_tokens_cost_and_status():
    before = {
        "ttft": sample("chat_time_to_first_token_seconds_count", model="gpt-4o-mini"),
        "slow": sample(
            "chat_reply_duration_seconds_bucket",
            model="gpt-4o-mini",
            status="complete",
            le="2.0",
        ),
        "input": sample("chat_tokens_total", model="gpt-4o-mini", kind="input"),
        "cached": sample("chat_tokens_total", model="gpt-4o-mini", kind="cached_input"),
        "output": sample("chat_tokens_total", model="gpt-4o-mini", kind="output"),
        "cost": sample("chat_cost_usd_total", model="gpt-4o-mini"),
        "replies": sample("chat_replies_total", model="gpt-4o-mini", status="complete"),
    }
    metrics.observe_reply(outcome())
    assert sample("chat_time_to_first_token_seconds_count", model="gpt-4o-mini") == (
        before["ttft"] + 1
    )
    # 2.1 s is above the 2 s bucket.
    assert (
        sample(
            "chat_reply_duration_seconds_bucket",
            model="gpt-4o-mini",
            status="complete",
            le="2.0",
        )
        == before["slow"]
    )
    assert sample("chat_tokens_total", model="gpt-4o-mini", kind="input") == (
        before["input"] + 1200
    )
    assert sample("chat_tokens_total", model="gpt-4o-mini", kind="cached_input") == (
        before["cached"] + 200
    )
    assert sample("chat_tokens_total", model="gpt-4o-mini", kind="output") == (
        before["output"] + 300
    )
    assert sample("chat_cost_usd_total", model="gpt-4o-mini") == pytest.approx(
        before["cost"] + 0.000345
    )
    assert sample("chat_replies_total", model="gpt-4o-mini", status="complete") == (
        before["replies"] + 1
    )


def test_a_cache_hit_counts_as_a_reply_but_not_as_billed_tokens():
    before = sample("chat_tokens_total", model="gpt-4o", kind="output")
    replies = sample("chat_replies_total", model="gpt-4o", status="complete")
    metrics.observe_reply(outcome(model="gpt-4o", cache_hit=True, cost=Decimal(0)))
    assert sample("chat_tokens_total", model="gpt-4o", kind="output") == before
    assert sample("chat_replies_total", model="gpt-4o", status="complete") == (
        replies + 1
    )


def test_a_reply_without_a_first_token_has_no_ttft_sample():
    before = sample("chat_time_to_first_token_seconds_count", model="smollm2")
    metrics.observe_reply(outcome(model="smollm2", status="failed", ttft_ms=None))
    assert sample("chat_time_to_first_token_seconds_count", model="smollm2") == before


def test_active_streams_and_queue_depth_follow_their_blocks():
    assert sample("chat_active_streams") == 0
    with metrics.active_stream(), metrics.active_stream():
        assert sample("chat_active_streams") == 2
        with metrics.queued_upstream():
            assert sample("chat_upstream_queue_depth") == 1
    assert sample("chat_active_streams") == 0
    assert sample("chat_upstream_queue_depth") == 0


def test_refusals_and_errors_are_counted_by_code_and_kind():
    refusals = sample("chat_refusals_total", code="rate_limited")
    errors = sample("chat_errors_total", kind="reply", code="timeout")
    metrics.observe_refusal("rate_limited")
    metrics.observe_error(kind="reply", code="timeout")
    assert sample("chat_refusals_total", code="rate_limited") == refusals + 1
    assert sample("chat_errors_total", kind="reply", code="timeout") == errors + 1


def test_cache_hits_and_misses_come_from_the_response_cache_counters():
    hits, misses = sample("chat_cache_hits_total"), sample("chat_cache_misses_total")
    stats.count("hits", 2)
    stats.count("misses")
    assert sample("chat_cache_hits_total") == hits + 2
    assert sample("chat_cache_misses_total") == misses + 1


def test_metrics_refuse_an_anonymous_request(client, settings):
    settings.CHAT_METRICS_TOKEN = "s3cret-metrics-token"
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"chat_" not in response.content


def test_metrics_refuse_a_wrong_token(client, settings):
    settings.CHAT_METRICS_TOKEN = "s3cret-metrics-token"
    response = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_a_token_is_refused_when_none_is_configured(client, settings):
    settings.CHAT_METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 401


def test_metrics_answer_the_configured_token(client, settings):
    settings.CHAT_METRICS_TOKEN = "s3cret-metrics-token"
    metrics.observe_refusal("busy")
    response = client.get(
        "/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name in (
        "chat_time_to_first_token_seconds",
        "chat_reply_duration_seconds",
        "chat_tokens_total",
        "chat_cost_usd_total",
        "chat_active_streams",
        "chat_upstream_queue_depth",
        "chat_refusals_total",
        "chat_errors_total",
        "process_cpu_seconds_total",
    ):
        assert name in body
    assert 'chat_refusals_total{code="busy"}' in body
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_metrics_answer_a_staff_session_but_not_a_user(client):
    User = get_user_model()
    user = User.objects.create_user("carol", password="pw-carol-0123456!")
    client.force_login(user)
    assert client.get("/metrics").status_code == 401
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert client.get("/metrics").status_code == 200
