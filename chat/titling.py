"""The model's title for a conversation, asked once its first reply completes.

A background task after the reply's end frame, so it never delays a reply. It is
one non-streaming LangChain call on the conversation's own model, made like any
other: budgeted to the user (admitted as a background call, so it takes no reply
slot and no rate-limit step), served from the response cache when the policy
allows (chat.cache.langchain_cache), redacted like a reply, and written to the
ledger (a ModelCall with purpose "title"). Each conversation asks once; a failure
leaves the first-line title, and a title the user chose is never replaced.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from decimal import Decimal

import openai
from django.conf import settings
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from chat import protocol, sockets
from chat.cache.langchain_cache import cache_scope_for
from chat.catalogue.store import get_catalogue
from chat.catalogue.turns import route_for
from chat.errors import ChatError
from chat.guards.redaction import redact_reply
from chat.limits import admit
from chat.llm import chat_models
from chat.llm.registry import cost, get_spec
from chat.llm.streaming import _usage_from
from chat.llm.tokens import count_messages
from chat.llm.usage_count import billed_usage
from chat.models import Conversation, Message, ModelCall
from chat.observability.callbacks import CallMeter
from chat.titles import clean_title

log = logging.getLogger("chat.titling")

# Enough for a few words in any script; deterministic, so a title can be cached.
TITLE_MAX_TOKENS = 24
TITLE_TEMPERATURE = 0.0
# How much of the first exchange the model reads, per side.
EXCERPT_CHARS = 1500
INSTRUCTIONS = (
    "You name chat conversations. Answer with a title of two to six words that "
    "says what the conversation is about, written in the language the user writes "
    "in. Plain text only: no quotes, no Markdown, no emoji, no final period."
)

# Strong references: the loop keeps only weak ones to running tasks.
_tasks: set[asyncio.Task] = set()


def title_after_reply(*, user, conversation: Conversation, reply: Message) -> None:
    """Start titling the conversation in the background if this completed reply
    is its first (its title still the first line). Never raises, never waits."""
    if (
        not settings.CHAT_TITLES
        or reply.status != Message.Status.COMPLETE
        or conversation.title_source != Conversation.TitleSource.FIRST_LINE
    ):
        return
    task = asyncio.create_task(
        title_generate(user=user, conversation_id=conversation.pk),
        name=f"title-{conversation.pk}",
    )
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def titles_pending() -> None:
    """Wait for the titles being made in this process (tests, shutdown)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


async def title_generate(*, user, conversation_id: uuid.UUID) -> str | None:
    """Ask the model for the conversation's title and store it; the title, or None
    when it kept its first line (not asked, refused, failed, or renamed meanwhile)."""
    try:
        return await _generate(user, conversation_id)
    except Exception:
        log.exception("titling conversation %s failed", conversation_id)
        return None


async def _generate(user, conversation_id: uuid.UUID) -> str | None:
    conversation = await Conversation.objects.filter(
        pk=conversation_id, user=user
    ).afirst()
    if conversation is None:
        return None
    try:
        route = await route_for(user=user, conversation=conversation)
    except ChatError as exc:
        log.info("no title for %s: %s", conversation_id, exc.code)
        return None
    if route.entry.demo:
        return None  # canned text would make a poor title
    # Claimed once: a second reply, tab or process finds it taken.
    claimed = await Conversation.objects.filter(
        pk=conversation_id, title_source=Conversation.TitleSource.FIRST_LINE
    ).aupdate(title_source=Conversation.TitleSource.MODEL)
    if not claimed:
        return None
    prompt = await _prompt(conversation)
    if prompt is None:
        return None
    candidate = chat_models.entry_candidates(
        route.entry,
        await get_catalogue(),
        temperature=TITLE_TEMPERATURE,
        max_tokens=TITLE_MAX_TOKENS,
    )[0]
    answer = await _call(user, conversation, candidate, prompt)
    title = clean_title(redact_reply(answer, pii=settings.CHAT_REDACT_PII))
    if not title:
        return None
    stored = await Conversation.objects.filter(
        pk=conversation_id, title_source=Conversation.TitleSource.MODEL
    ).aupdate(title=title)
    if not stored:
        return None  # renamed while the model was thinking
    conversation.title, conversation.title_source = title, "model"
    await sockets.user_broadcast(user.pk, protocol.title_frame(conversation))
    return title


async def _prompt(conversation: Conversation) -> list[BaseMessage] | None:
    """Instructions, then the first question and its answer."""
    rows = (
        Message.objects.filter(conversation=conversation)
        .exclude(content="")
        .order_by("created")
        .values_list("role", "content")
    )
    first: dict[str, str] = {}
    async for role, content in rows[:4]:
        first.setdefault(role, content)
    if Message.Role.USER not in first:
        return None
    excerpt = f"User: {first[Message.Role.USER][:EXCERPT_CHARS]}"
    if answer := first.get(Message.Role.ASSISTANT):
        excerpt += f"\n\nAssistant: {answer[:EXCERPT_CHARS]}"
    return [
        SystemMessage(INSTRUCTIONS),
        HumanMessage(f"{excerpt}\n\nTitle of this conversation:"),
    ]


async def _call(
    user, conversation: Conversation, candidate, prompt: list[BaseMessage]
) -> str:
    """One call through admission, the cache and the ledger; its text, or ""."""
    spec = candidate.spec or get_spec(candidate.name)
    input_estimate = count_messages(prompt, candidate.name)
    try:
        admission = await admit(
            user=user,
            model=candidate.name,
            endpoint=candidate.endpoint,
            estimated_input_tokens=input_estimate,
            reply_cap_tokens=TITLE_MAX_TOKENS,
            estimated_cost=cost(
                spec,
                input_tokens=input_estimate,
                cached_input_tokens=0,
                output_tokens=TITLE_MAX_TOKENS,
            ),
            background=True,
        )
    except ChatError as exc:
        log.info("no title for %s: %s", conversation.pk, exc.code)
        return ""
    meter = CallMeter()
    started = time.monotonic()
    text, error_code, hit = "", "", False
    try:
        with cache_scope_for(user) as lookups:
            message = await candidate.model.ainvoke(
                prompt,
                config={
                    "run_name": "chat_title",
                    "callbacks": [meter],
                    "tags": ["chat", "title"],
                    "metadata": {"conversation_id": str(conversation.pk)},
                },
            )
        text, hit = message.text, lookups.hits > 0
        provider_usage = _usage_from(message.usage_metadata)
    except (openai.APITimeoutError, TimeoutError):
        error_code, provider_usage = "timeout", None
    except Exception as exc:
        log.warning("title call for %s failed: %s", conversation.pk, type(exc).__name__)
        error_code, provider_usage = "provider_unavailable", None
    usage = await billed_usage(
        model=candidate.name,
        endpoint=candidate.endpoint,
        messages=prompt,
        text=text,
        provider=provider_usage,
        failed_before_text=bool(error_code),
    )
    price = Decimal(0)
    if not hit:
        price = cost(
            spec,
            input_tokens=usage.input_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            output_tokens=usage.output_tokens,
        )
    await admission.settle(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost=price,
        cache_hit=hit,
    )
    call = meter.last
    await ModelCall.objects.acreate(
        user=user,
        conversation=conversation,
        model=candidate.name,
        catalogue_key=candidate.catalogue_key,
        endpoint="cache" if hit else candidate.endpoint,
        status=Message.Status.FAILED if error_code else Message.Status.COMPLETE,
        cache_hit=hit,
        purpose=ModelCall.Purpose.TITLE,
        run_id=call.run_id if call else "",
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        usage_estimated=usage.estimated,
        cost=price,
        duration_ms=int((time.monotonic() - started) * 1000),
        error_code=error_code,
    )
    return text
