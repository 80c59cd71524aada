"""Model factories: rows with sensible defaults, each field overridable. Plain
functions (no factory library): `x(...)` saves and returns a row, `ax(...)` does
the same from async tests, `build_x(...)` returns it unsaved (for bulk_create);
`generate_usage` writes a realistic ledger at scale for the dashboard's tests."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Count, DateTimeField, DecimalField, Sum, UUIDField
from django.utils import timezone

from chat.models import Conversation, ErrorRecord, Message, ModelCall, Quota

PASSWORD = "pw-factory-123!"


def user(username: str, *, password: str = PASSWORD, **fields):
    return get_user_model().objects.create_user(username, password=password, **fields)


def build_conversation(user, **fields) -> Conversation:
    return Conversation(user=user, **({"title": "A conversation"} | fields))


def conversation(user, **fields) -> Conversation:
    row = build_conversation(user, **fields)
    row.save()
    return row


async def aconversation(user, **fields) -> Conversation:
    row = build_conversation(user, **fields)
    await row.asave()
    return row


def build_message(conversation, **fields) -> Message:
    return Message(conversation=conversation, **({"role": "user"} | fields))


def message(conversation, **fields) -> Message:
    """A message after the conversation's active leaf (unless given a parent), made
    the new leaf, as a send's messages are."""
    row = build_message(conversation, **fields)
    branches = Conversation.objects.filter(pk=conversation.pk)
    if "parent" not in fields:
        row.parent_id = branches.values_list("active_leaf_id", flat=True).get()
    row.save()
    branches.update(active_leaf=row)
    return row


async def amessage(conversation, **fields) -> Message:
    return await sync_to_async(message)(conversation, **fields)


def build_model_call(user, **fields) -> ModelCall:
    defaults = {"model": "gpt-4o-mini", "status": "complete"}
    return ModelCall(user=user, **(defaults | fields))


def model_call(user, **fields) -> ModelCall:
    row = build_model_call(user, **fields)
    row.save()
    return row


async def amodel_call(user, **fields) -> ModelCall:
    row = build_model_call(user, **fields)
    await row.asave()
    return row


def error_record(**fields) -> ErrorRecord:
    defaults = {"kind": "reply", "code": "internal"}
    return ErrorRecord.objects.create(**(defaults | fields))


def quota(user, **fields) -> Quota:
    return Quota.objects.create(user=user, **fields)


async def aquota(user, **fields) -> Quota:
    return await Quota.objects.acreate(user=user, **fields)


# --- A ledger at scale ---------------------------------------------------------

MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-nano", "smollm2")
WEIGHTS = (60, 12, 20, 8)
KINDS = {
    "reply": ("provider_unavailable", "timeout", "internal", "blocked_output"),
    "input_guard": ("blocked_input",),
    "admission": ("rate_limited", "busy", "budget_exhausted"),
}
PRICE = {  # USD per token: input, output (close to the registry's list prices)
    "gpt-4o-mini": (Decimal("0.00000015"), Decimal("0.0000006")),
    "gpt-4o": (Decimal("0.0000025"), Decimal("0.00001")),
    "gpt-4.1-nano": (Decimal("0.0000001"), Decimal("0.0000004")),
    "smollm2": (Decimal(0), Decimal(0)),
}


def insert_rows(model, rows: list[dict], batch: int = 10_000) -> None:
    """bulk_create for 100,000 rows in seconds: one executemany per batch of plain
    dicts (bulk_create spends ~20 s building instances and SQL), dates, decimals
    and UUIDs prepared by their field as the ORM would, `created` kept as given."""
    db = connections[DEFAULT_DB_ALIAS]
    fields = [model._meta.get_field(name) for name in rows[0]]
    special = (DateTimeField, DecimalField, UUIDField)
    prep = [
        (lambda v, f=f: f.get_db_prep_save(v, db))
        if isinstance(f.target_field if f.is_relation else f, special)
        else None
        for f in fields
    ]
    table = db.ops.quote_name(model._meta.db_table)
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    with db.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(
                sql,
                [
                    [p(v) if p else v for p, v in zip(prep, row.values())]
                    for row in rows[start : start + batch]
                ],
            )


def generate_usage(
    *, calls: int = 100_000, users: int = 250, errors: int = 5_000, seed: int = 8
) -> dict:
    """A realistic ledger: calls spread over the last 35 days, several models, cache
    hits, failures, conversations and error records; returns what it made."""
    rng = random.Random(seed)
    now = timezone.now()
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(username=f"user{i:04d}", email=f"user{i:04d}@example.com")
            for i in range(users)
        ],
        batch_size=1000,
    )
    people = list(
        User.objects.filter(username__startswith="user").values_list("pk", flat=True)
    )
    conversations = [
        Conversation(user_id=rng.choice(people), title=f"Conversation {i}")
        for i in range(users * 2)
    ]
    Conversation.objects.bulk_create(conversations, batch_size=1000)
    rows = []
    for _ in range(calls):
        model = rng.choices(MODELS, WEIGHTS)[0]
        hit = rng.random() < 0.08
        failed = not hit and rng.random() < 0.03
        inp = rng.randint(20, 3000)
        out = 0 if failed else rng.randint(5, 900)
        cached = rng.choice((0, 0, 0, inp // 2))
        price_in, price_out = PRICE[model]
        cost = (
            Decimal(0)
            if hit
            else (inp * price_in + out * price_out).quantize(Decimal("0.00000001"))
        )
        conversation = rng.choice(conversations)
        rows.append(
            dict(
                user=conversation.user_id,
                conversation=conversation.pk,
                model=model,
                endpoint="cache" if hit else "https://api.openai.com/v1",
                status="failed" if failed else "complete",
                input_tokens=inp,
                cached_input_tokens=cached,
                output_tokens=out,
                cost=cost,
                usage_estimated=False,
                cache_hit=hit,
                ttft_ms=None if failed else int(rng.lognormvariate(6, 0.5)),
                duration_ms=int(rng.lognormvariate(8, 0.6)),
                error_code="provider_unavailable" if failed else "",
                run_id=str(uuid.UUID(int=rng.getrandbits(128))),
                created=now - timedelta(seconds=rng.randint(0, 35 * 86400)),
            )
        )
    records = []
    kinds = list(KINDS)
    for _ in range(errors):
        kind = rng.choice(kinds)
        conversation = rng.choice(conversations)
        records.append(
            dict(
                kind=kind,
                code=rng.choice(KINDS[kind]),
                user=conversation.user_id,
                conversation=conversation.pk,
                endpoint="https://api.openai.com/v1",
                detail=f"HTTP 503 from upstream (attempt {rng.randint(1, 3)})",
                traceback="",
                turn_id=uuid.UUID(int=rng.getrandbits(128)).hex[:12],
                created=now - timedelta(seconds=rng.randint(0, 35 * 86400)),
            )
        )
    insert_rows(ModelCall, rows)
    insert_rows(ErrorRecord, records)
    first = conversations[0]
    Message.objects.bulk_create(
        [
            Message(
                conversation=first, role="user", content="How do I rotate my API key?"
            ),
            Message(
                conversation=first,
                role="assistant",
                content="Open Settings, then Keys, and choose *Rotate*.",
                model="gpt-4o-mini",
                input_tokens=40,
                output_tokens=12,
            ),
        ]
    )
    return {"users": people, "conversation": first, "now": now}


def ledger_totals(span) -> dict:
    """A direct aggregate over the ledger: what the dashboard must show for a span."""
    return ModelCall.objects.filter(
        created__gte=span.since, created__lt=span.until, cache_hit=False
    ).aggregate(
        calls=Count("id"),
        input_tokens=Sum("input_tokens"),
        output_tokens=Sum("output_tokens"),
        cost=Sum("cost"),
    )
