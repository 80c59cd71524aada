"""The turn pipeline: the one place that orders the steps of a turn.

`turn_begin` runs everything that can refuse a message (guards, context window) and
stores it before any model call; `turn_generate` streams the reply into the hub,
filters it, and always stores a final status, usage and cost, however it ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from langchain_core.messages import BaseMessage, HumanMessage

from chat import conversations, ephemeral, protocol, shutdown
from chat.cache.keys import generation_params
from chat.cache.replies import (
    CachedReply,
    CacheSlot,
    cache_slot,
    replay_reply,
    reply_forget,
    reply_lookup,
    reply_store,
)
from chat.catalogue.turns import Route, route_for
from chat.conversations import Exchange, FailedCall, Redo, ReplyOutcome
from chat.delivery import get_hub, watchers
from chat.edits import edit_create, edit_plan
from chat.errors import BlockedInput, BlockedOutput, ChatError, InternalError
from chat.filtered_output import FilteredOutput
from chat.final_save import save_with_retry
from chat.guards.injection import make_canary
from chat.guards.output_filter import StreamFilter
from chat.guards.sanitize import clean_user_text
from chat.guards.screening import screen_input
from chat.limits import Admission, LimitsUnavailable, admit
from chat.llm import chat_models, prompts
from chat.llm.failover import stream_reply
from chat.llm.registry import cost, get_spec
from chat.llm.streaming import StreamStats, Usage
from chat.llm.tokens import count_messages
from chat.llm.trimming import trim_history
from chat.llm.usage_count import billed_usage
from chat.logs import log_context
from chat.models import Message
from chat.observability import metrics, records
from chat.observability.callbacks import CallMeter
from chat.observability.tracing import tracing_callbacks
from chat.send_locks import send_lock
from chat.titling import title_after_reply
from chat.tools.turn import ToolTurn, tool_reply, tool_turn_for

log = logging.getLogger("chat.turns")


@dataclass
class Turn:
    id: str
    user: object
    exchange: Exchange
    model: str
    # The prompt to send; None when this turn is a resend of an existing one.
    messages: list[BaseMessage] | None = None
    canary: str = ""
    flags: list[str] = field(default_factory=list)
    # Its rate, concurrency and budget hold; settled in _finish, however it ends.
    admission: Admission | None = None
    # A regenerate or continue asks for a new answer: never served from the cache.
    cacheable: bool = True
    # Every model call of the turn (retries and fallbacks too), for the ledger.
    meter: CallMeter = field(default_factory=CallMeter)
    # The catalogue entry, its candidates and generation settings (chat.catalogue).
    route: Route | None = None
    # The tools it may call (chat.tools); None: a plain reply.
    tools: ToolTurn | None = None
    # The API key it was asked with (None: the page), named in its ledger rows.
    api_key_id: int | None = None
    # Its conversation may be titled by the model (not one the API made for a call).
    titled: bool = True

    @property
    def reply_id(self) -> str:
        return str(self.exchange.reply.id)

    @property
    def stored(self) -> bool:
        """False for a stateless API request (chat/ephemeral.py)."""
        return self.exchange.conversation is not None


async def turn_begin(
    *,
    user,
    client_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    content: str,
    model_key: str | None = None,
    preset_id: int | None = None,
    edits: uuid.UUID | None = None,
) -> Turn:
    """Check and store a new message (or, with `edits`, a new version of that user
    message: chat/edits.py); a resend of a known client id returns its turn, even
    one arriving on another process at the same instant (chat/send_locks.py)."""
    async with send_lock(user_id=user.pk, client_id=client_id):
        return await _turn_begin(
            user=user,
            client_id=client_id,
            conversation_id=conversation_id,
            content=content,
            model_key=model_key,
            preset_id=preset_id,
            edits=edits,
        )


async def _turn_begin(
    *,
    user,
    client_id: uuid.UUID,
    conversation_id: uuid.UUID | None,
    content: str,
    model_key: str | None,
    preset_id: int | None,
    edits: uuid.UUID | None = None,
) -> Turn:
    """Check and store a new message; a resend of a known client id returns its turn.

    A resend is found without a lookup of its own: a new send is checked, then
    stored, and exchange_create answers a resend with the first one's exchange. When
    a check refuses, the message may be a resend (of a reply still streaming, say),
    so only then is it looked up first. A resend that passes the checks counts once
    more against the rate limit; its slot and budget hold are released unused."""
    model = chat_models.model_name()
    turn_id = uuid.uuid4().hex[:12]
    try:
        text = clean_user_text(content, max_chars=settings.CHAT_MAX_MESSAGE_CHARS)
        flags = await screen_input(text)
        conversation = before = None
        history: list[BaseMessage] = []
        if edits is not None:
            plan = await edit_plan(
                user=user, message_id=edits, conversation_id=conversation_id
            )
            conversation, before = plan.conversation, plan.message
        elif conversation_id is not None:
            conversation = await conversations.conversation_get(
                user=user, conversation_id=conversation_id
            )
        if conversation is not None:
            history = prompts.history_messages(
                await conversations.history_get(
                    conversation=conversation, before=before
                )
            )
        route = await route_for(
            user=user,
            conversation=conversation,
            requested=model_key,
            preset_id=preset_id,
        )
        model = route.model
        tools = await tool_turn_for(user=user, route=route, conversation=conversation)
        canary = make_canary()
        messages = _prompt(route, canary, history, HumanMessage(text))
        admission = await turn_admit(
            user=user,
            turn_id=turn_id,
            model=model,
            messages=messages,
            route=route,
            tools=tools is not None,
        )
    except ChatError as exc:
        existing = await conversations.exchange_find(user=user, client_id=client_id)
        if existing:
            return Turn(turn_id, user, existing, model)
        if isinstance(exc, BlockedInput):
            await records.error_record(
                exc, user=user, kind="input_guard", turn_id=turn_id
            )
        raise
    store = (
        edit_create(
            user=user,
            client_id=client_id,
            message_id=edits,
            conversation_id=conversation_id,
            content=text,
            model=model,
            flags=flags,
        )
        if edits is not None
        else conversations.exchange_create(
            user=user,
            conversation=conversation,
            client_id=client_id,
            content=text,
            model=model,
            flags=flags,
        )
    )
    exchange = await _store(admission, store)
    if not exchange.created:
        return Turn(turn_id, user, exchange, model)
    await route.remember(exchange.conversation)
    return Turn(
        turn_id,
        user,
        exchange,
        model,
        messages,
        canary,
        flags,
        admission,
        # A reply that used tools depends on what they returned: never cached.
        cacheable=tools is None,
        route=route,
        tools=tools,
    )


async def turn_redo(
    *, user, client_id: uuid.UUID, message_id: uuid.UUID, mode: Redo
) -> Turn:
    """Regenerate or continue the conversation's last reply as a new turn, through
    the same limits, prompt building and recording as a send; a resend of a known
    client id returns its turn."""
    model = chat_models.model_name()
    turn_id = uuid.uuid4().hex[:12]
    existing = await conversations.redo_find(user=user, client_id=client_id)
    if existing:
        return Turn(turn_id, user, existing, model)
    plan = await conversations.redo_plan(user=user, message_id=message_id, mode=mode)
    if mode is Redo.REGENERATE:
        pairs = await conversations.history_get(
            conversation=plan.conversation, before=plan.user_message
        )
        new = HumanMessage(plan.user_message.content)
    else:
        # Everything the user saw, ending with the reply cut short.
        pairs = await conversations.history_get(conversation=plan.conversation)
        new = prompts.continue_message()
    route = await route_for(user=user, conversation=plan.conversation)
    model = route.model
    tools = await tool_turn_for(user=user, route=route, conversation=plan.conversation)
    canary = make_canary()
    messages = _prompt(route, canary, prompts.history_messages(pairs), new)
    admission = await turn_admit(
        user=user,
        turn_id=turn_id,
        model=model,
        messages=messages,
        route=route,
        tools=tools is not None,
    )
    exchange = await _store(
        admission,
        conversations.redo_create(
            user=user,
            client_id=client_id,
            message_id=message_id,
            mode=mode,
            model=model,
        ),
    )
    if not exchange.created:
        return Turn(turn_id, user, exchange, model)
    if mode is Redo.REGENERATE:
        await reply_forget(plan.target.cache_key)
    return Turn(
        turn_id,
        user,
        exchange,
        model,
        messages,
        canary,
        admission=admission,
        cacheable=False,
        route=route,
        tools=tools,
    )


async def turn_begin_messages(
    *,
    user,
    client_id: uuid.UUID,
    messages: list[BaseMessage],
    model_key: str | None = None,
    store: bool = True,
    api_key_id: int | None = None,
) -> Turn:
    """A turn on a client's own list of messages (the OpenAI-compatible API) instead
    of a stored conversation: every message is cleaned, every user message screened,
    the list (trimmed to the window) follows the system prompt; with `store`, a new
    conversation keeps the last user message and the reply, as a send does, else
    nothing is kept but the ledger (chat/ephemeral.py)."""
    model = chat_models.model_name()
    turn_id = uuid.uuid4().hex[:12]
    max_chars = settings.CHAT_MAX_MESSAGE_CHARS
    try:
        cleaned, flags = [], []
        for message in messages:
            text = clean_user_text(message.content, max_chars=max_chars)
            if isinstance(message, HumanMessage):
                flags += await screen_input(text)
            cleaned.append(message.model_copy(update={"content": text}))
        *history, new = cleaned
        route = await route_for(user=user, requested=model_key)
        model = route.model
        canary = make_canary()
        prompt = _prompt(route, canary, history, new)
        admission = await turn_admit(
            user=user, turn_id=turn_id, model=model, messages=prompt, route=route
        )
    except BlockedInput as exc:
        await records.error_record(exc, user=user, kind="input_guard", turn_id=turn_id)
        raise
    if not store:
        begin = ephemeral.exchange_begin(user=user, model=model)
    else:
        begin = conversations.exchange_create(
            user=user,
            conversation=None,
            client_id=client_id,
            content=new.content,
            model=model,
            flags=flags,
        )
    exchange = await _store(admission, begin)
    return Turn(
        turn_id,
        user,
        exchange,
        model,
        prompt,
        canary,
        flags,
        admission,
        route=route,
        api_key_id=api_key_id,
        titled=False,
    )


def _prompt(
    route: Route, canary: str, history: list[BaseMessage], new: BaseMessage
) -> list[BaseMessage]:
    """System prompt, the history that fits the model's window beside the reply
    budget, then the new message; raises TooLong when even that cannot fit."""
    return trim_history(
        prompts.system_messages(canary) + route.instructions,
        history,
        new,
        window=route.context_window,
        reply_budget=route.reply_cap,
        model=route.model,
    ).messages


async def _store(admission: Admission, store: Awaitable[Exchange]) -> Exchange:
    """Await the store of an admitted turn. Its admission is given back unused when
    the store fails or finds a resend (whose first turn holds its own)."""
    try:
        exchange = await store
    except BaseException:
        await admission.settle()
        raise
    if not exchange.created:
        await admission.settle()
    return exchange


async def turn_admit(
    *,
    user,
    turn_id: str,
    model: str,
    messages,
    route: Route | None = None,
    tools: bool = False,
) -> Admission:
    """Rate, concurrency and budget checks, holding input estimate plus reply cap
    (for a turn with tools, enough for all its rounds: CHAT_TOOL_MAX_TOKENS); a
    refusal is an error frame for the send, and nothing is stored."""
    spec = route.spec if route else get_spec(model)
    reply_cap = (
        route.reply_cap
        if route
        else min(settings.LLM_MAX_TOKENS, spec.max_output_tokens)
    )
    input_tokens = count_messages(messages, model)
    if tools:
        reply_cap = max(reply_cap, settings.CHAT_TOOL_MAX_TOKENS - input_tokens)
    try:
        return await admit(
            user=user,
            model=model,
            endpoint=route.endpoint if route else chat_models.endpoint(),
            estimated_input_tokens=input_tokens,
            reply_cap_tokens=reply_cap,
            estimated_cost=cost(
                spec,
                input_tokens=input_tokens,
                cached_input_tokens=0,
                output_tokens=reply_cap,
            ),
            wait_upstream=False,
        )
    except LimitsUnavailable as exc:
        await records.error_record(exc, user=user, kind="limits", turn_id=turn_id)
        raise


def turn_start(turn: Turn) -> None:
    """Run generation as its own task, owned by the hub rather than by any socket, so
    a stop can reach it mid-stream and a closed page does not lose the reply."""
    # A fresh context: the task must not inherit the request's executors (Django's
    # per-request thread, sync middleware), which quit when the request returns.
    contextvars.Context().run(_spawn, turn)


def _spawn(turn: Turn) -> None:
    hub = get_hub()
    hub.open(turn.reply_id)
    task = asyncio.create_task(turn_generate(turn), name=f"turn-{turn.id}")
    hub.attach_task(turn.reply_id, task)
    shutdown.track_reply(task)
    if grace := settings.CHAT_UNWATCHED_REPLY_GRACE_SECONDS:
        watchdog = asyncio.create_task(
            watchers.stop_when_unwatched(turn.reply_id, grace)
        )
        task.add_done_callback(lambda _: watchdog.cancel())


async def turn_stop(*, user, message_id: uuid.UUID) -> None:
    """Stop a reply of this user's that is generating in this process."""
    reply = await conversations.reply_get(user=user, message_id=message_id)
    await get_hub().request_stop(str(reply.id))


def _config(turn: Turn) -> dict:
    exchange = turn.exchange
    return {
        "run_name": "chat_reply",
        # Per-call measurements, and LangSmith when it is configured.
        "callbacks": [turn.meter, *tracing_callbacks()],
        "tags": ["chat", f"model:{turn.model}"],
        "metadata": {
            "turn_id": turn.id,
            "user_id": getattr(turn.user, "pk", None),
            "conversation_id": str(exchange.conversation.id) if turn.stored else None,
            "message_id": turn.reply_id,
            "user_message_id": str(exchange.user_message.id) if turn.stored else None,
        },
    }


@dataclass
class ReplyRun:
    """One reply from its cache lookup to its stored end: where its text comes from,
    what streamed and what was shown, how it ended, and what it used and cost."""

    turn: Turn
    output_filter: StreamFilter
    stats: StreamStats = field(default_factory=StreamStats)
    # The cache entry this reply is looked up and stored under (None: not cached),
    # and the entry served when the lookup hit.
    slot: CacheSlot | None = None
    hit: CachedReply | None = None
    # What the source produced, and what passed the output filter to the client.
    raw: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    status: str = Message.Status.COMPLETE
    error: ChatError | None = None
    # Set when the reply is measured, after it ended.
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = Decimal(0)

    @property
    def model(self) -> str:
        """The model that answered (a fallback's, if it took over)."""
        return self.stats.model or self.turn.model

    @property
    def truncated(self) -> bool:
        """Cut by the provider's token limit (finish_reason "length")."""
        return self.hit is None and self.stats.finish_reason == "length"

    @property
    def raw_text(self) -> str:
        return "".join(self.raw)

    @property
    def content(self) -> str:
        return "".join(self.shown)

    def failed(self, error: ChatError) -> None:
        """A failure after text was sent is an interruption, never silently
        retried; before any text, the reply failed."""
        self.error = error
        self.status = Message.Status.INTERRUPTED if self.raw else Message.Status.FAILED


async def turn_generate(turn: Turn) -> None:
    """Stream, filter and deliver one reply, then store how it ended."""
    output_filter = StreamFilter(
        canary=turn.canary,
        pii=settings.CHAT_REDACT_PII,
        system_prompt=settings.LLM_SYSTEM_PROMPT,
        coalesce_ms=settings.CHAT_COALESCE_MS,
    )
    run = ReplyRun(turn, output_filter)
    with metrics.active_stream(), log_context(turn_id=turn.id):
        try:
            await _cache_lookup(run)
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()
            run.status = Message.Status.CANCELLED
        else:
            await _stream(run)
    await _finish(run)


async def _cache_lookup(run: ReplyRun) -> None:
    """Find the reply in the response cache, keyed on the primary model and its
    parameters, on the canary-free prompt, in the user's scope (unless
    CHAT_CACHE_SCOPE=shared). Never raises: a failing store is a miss."""
    turn = run.turn
    if not turn.cacheable:
        return
    run.slot = cache_slot(
        user=turn.user,
        model=turn.route.cache_model,
        params=generation_params(turn.route.candidates[0].model),
        messages=turn.messages,
        canary=turn.canary,
    )
    if run.slot is not None:
        run.hit = await reply_lookup(run.slot)


async def _stream(run: ReplyRun) -> None:
    """Deliver the reply's text; records how it ended on `run`."""
    turn = run.turn
    hub = get_hub()
    checkpoint_every = settings.CHAT_CHECKPOINT_SECONDS
    next_checkpoint = time.monotonic() + checkpoint_every
    try:
        if run.hit is None and turn.admission is not None:

            async def queued(position: int) -> None:
                hub.note(turn.reply_id, protocol.queued_frame(turn.reply_id, position))

            with metrics.queued_upstream():
                await turn.admission.wait_upstream(on_queue=queued)
        # A hit streams through exactly the path of a model reply.
        if run.hit is not None:
            source = replay_reply(run.hit, run.stats)
        elif turn.tools is not None:
            source = tool_reply(
                turn,
                run.stats,
                _config(turn),
                lambda frame: hub.note(turn.reply_id, frame),
            )
        else:
            source = stream_reply(
                turn.messages,
                _config(turn),
                run.stats,
                on_status=lambda words, retry: hub.note(
                    turn.reply_id, protocol.status_frame(turn.reply_id, words, retry)
                ),
                candidates=turn.route.candidates,
            )

        def show(safe: str) -> None:
            run.shown.append(safe)
            hub.publish(turn.reply_id, safe)

        with FilteredOutput(run.output_filter, show) as output:
            async for piece in source:
                run.raw.append(piece)
                output.feed(piece)
                if turn.stored and time.monotonic() >= next_checkpoint:
                    next_checkpoint = time.monotonic() + checkpoint_every
                    try:
                        await conversations.reply_checkpoint(
                            reply=turn.exchange.reply, content=run.content
                        )
                    except Exception:  # a missed checkpoint must not end the reply
                        log.warning(
                            "checkpoint failed for turn %s", turn.id, exc_info=True
                        )
            output.finish()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        task.uncancel()
        # A stop is the user's choice; a shutdown past its grace period is not.
        run.status = (
            Message.Status.INTERRUPTED
            if shutdown.interrupted(task)
            else Message.Status.CANCELLED
        )
    except BlockedOutput as exc:
        metrics.observe_refusal(exc.code)
        run.status, run.error = Message.Status.FILTERED, exc
    except ChatError as exc:
        run.failed(exc)
    except Exception as exc:
        log.exception("turn %s failed", turn.id)
        error = InternalError(detail=repr(exc))
        error.__cause__ = exc
        run.failed(error)


def _saved(hit: CachedReply | None, spec) -> dict | None:
    """What a cache hit saved: the tokens and cost of the call it stood in for."""
    if hit is None:
        return None
    saved = cost(
        spec,
        input_tokens=hit.input_tokens,
        cached_input_tokens=hit.cached_input_tokens,
        output_tokens=hit.output_tokens,
    )
    return {
        "input_tokens": hit.input_tokens,
        "output_tokens": hit.output_tokens,
        "cost": f"{saved:.8f}",
    }


async def _finish(run: ReplyRun) -> None:
    """However the reply ended: measure it, give back its hold, store it and end
    its log, fill the cache, report it. Each step in this order, for a reason the
    step's docstring gives."""
    await _measure(run)
    await _settle(run)
    outcome = _outcome(run)
    await _store_and_close(run, outcome)
    await _cache_fill(run)
    _report(run, outcome)


async def _measure(run: ReplyRun) -> None:
    """Usage: the provider's when it sent one, else our own count, exact where a
    tokenizer can be had, capped at max_tokens (chat/llm/usage_count.py); a call
    that failed before any text is not billed by providers: zero. A cache hit
    keeps the original token counts (what was served) but costs nothing; chat.usage
    leaves cache_hit rows out of totals and prices them as savings."""
    turn, model = run.turn, run.model
    if turn.tools is not None and run.hit is None:
        run.stats.usage = turn.tools.finish(
            turn.route.spec_of(model, run.stats.endpoint), model, turn.messages or []
        )
    run.usage = await billed_usage(
        model=model,
        endpoint=run.stats.endpoint or chat_models.endpoint(),
        messages=turn.messages,
        text=run.raw_text,
        provider=run.stats.usage,
        failed_before_text=run.status == Message.Status.FAILED,
    )
    if run.hit is None:
        run.cost = cost(
            turn.route.spec_of(model, run.stats.endpoint),
            input_tokens=run.usage.input_tokens,
            cached_input_tokens=run.usage.cached_input_tokens,
            output_tokens=run.usage.output_tokens,
        )


async def _settle(run: ReplyRun) -> None:
    """Settle the turn's admission before any database write, so the user's slot
    frees as soon as it can; a turn refused while queued for the provider has zero
    usage."""
    if run.turn.admission is not None:
        await run.turn.admission.settle(
            input_tokens=run.usage.input_tokens,
            output_tokens=run.usage.output_tokens,
            cost=run.cost,
            cache_hit=run.hit is not None,
        )


def _outcome(run: ReplyRun) -> ReplyOutcome:
    stats = run.stats
    return ReplyOutcome(
        content=run.content,
        status=run.status,
        model=run.model,
        endpoint="cache" if run.hit else stats.endpoint or run.turn.route.endpoint,
        input_tokens=run.usage.input_tokens,
        cached_input_tokens=run.usage.cached_input_tokens,
        output_tokens=run.usage.output_tokens,
        usage_estimated=run.usage.estimated,
        cost=run.cost,
        ttft_ms=stats.ttft_ms,
        duration_ms=stats.duration_ms(),
        error_code=run.error.code if run.error else "",
        run_id=stats.run_id,
        cache_hit=run.hit is not None,
        cache_key=run.slot.key if run.slot else "",
        failed_calls=_failed_calls(run.turn, stats),
        catalogue_key=stats.catalogue_key or run.turn.route.entry.key,
        truncated=run.truncated,
        rounds=run.turn.tools.rounds if run.turn.tools else [],
        tool_steps=run.turn.tools.steps if run.turn.tools else [],
        api_key_id=run.turn.api_key_id,
    )


def _failed_calls(turn: Turn, stats: StreamStats) -> list[FailedCall]:
    """The attempts before the call that gave the reply: tried, failed before any
    text (providers bill none of it), then retried or passed to a fallback. A
    tool turn's calls are its rounds, each with its own row."""
    if turn.tools is not None:
        return []
    return [
        FailedCall(
            model=call.model,
            endpoint=call.endpoint,
            error_code=stats.call_errors.get(call.run_id, "internal"),
            run_id=call.run_id,
            duration_ms=call.duration_ms,
            catalogue_key=turn.route.catalogue_key_of(call.model, call.endpoint),
        )
        for call in turn.meter.calls
        if call.run_id != stats.run_id
    ]


async def _store_and_close(run: ReplyRun, outcome: ReplyOutcome) -> None:
    """Store the reply and its ledger rows, record its error, and end its log with
    the stored reply; if storing fails, the log still ends, with the text."""
    turn, error = run.turn, run.error
    hub = get_hub()
    finish = conversations.reply_finish if turn.stored else ephemeral.reply_finish
    try:
        reply = await save_with_retry(
            lambda: finish(user=turn.user, exchange=turn.exchange, outcome=outcome),
            what=f"reply {turn.reply_id}",
        )
        if error is not None:
            await records.error_record(
                error,
                user=turn.user,
                kind="output_guard" if isinstance(error, BlockedOutput) else "reply",
                turn_id=turn.id,
                conversation=turn.exchange.conversation,
                message=reply if turn.stored else None,
                endpoint=outcome.endpoint,
            )
            hub.note(
                turn.reply_id,
                protocol.error_frame(error, message_id=turn.reply_id, turn_id=turn.id),
            )
        hub.close(
            turn.reply_id,
            protocol.end_frame(reply, cached=_saved(run.hit, turn.route.spec)),
        )
        if turn.titled:
            title_after_reply(
                user=turn.user, conversation=turn.exchange.conversation, reply=reply
            )
    except Exception:
        log.exception("turn %s could not be stored", turn.id)
        hub.close(turn.reply_id, protocol.end_unsaved_frame(turn.reply_id, run.content))


async def _cache_fill(run: ReplyRun) -> None:
    """Fill the cache after the client has its end frame; reply_store applies the
    policy (complete, unfiltered, non-empty) and never raises. Only the primary's
    own replies: a fallback's answer must not be served as the primary's."""
    if (
        run.slot is not None
        and run.hit is None
        and run.model == run.turn.model
        and not run.truncated
    ):
        await reply_store(
            run.slot,
            text=run.content,
            usage=run.usage,
            status=run.status,
            filtered=run.content != run.raw_text,
        )


def _report(run: ReplyRun, outcome: ReplyOutcome) -> None:
    metrics.observe_reply(outcome)
    log.info(
        "turn finished",
        extra={
            "turn_id": run.turn.id,
            "status": run.status,
            "model": run.turn.model,
            "input_tokens": run.usage.input_tokens,
            "output_tokens": run.usage.output_tokens,
            "estimated": run.usage.estimated,
            "ttft_ms": run.stats.ttft_ms,
            "duration_ms": outcome.duration_ms,
            "error_code": outcome.error_code,
            "cache_hit": run.hit is not None,
        },
    )
