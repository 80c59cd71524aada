"""Fit a conversation into the model's context window: keep the system prompt and the
newest turns, drop whole turns oldest first, and refuse a message that cannot fit."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.messages import BaseMessage

from chat.errors import TooLong
from chat.llm.tokens import REPLY_PRIMING_TOKENS, count_message, counting_method


@dataclass(frozen=True)
class Trimmed:
    """The prompt to send and what trimming did to get there."""

    messages: list[BaseMessage]
    # History messages left out (whole messages, oldest first).
    dropped: int
    # The token count of `messages` as sent, reply priming included.
    input_tokens: int


def trim_history(
    system: list[BaseMessage],
    history: list[BaseMessage],
    new: BaseMessage,
    *,
    window: int,
    reply_budget: int,
    model: str,
) -> Trimmed:
    """The longest suffix of whole turns that fits window - reply_budget tokens."""
    limit = window - reply_budget
    if limit <= 0:
        raise ValueError(
            f"A reply budget of {reply_budget} leaves no room in {window} tokens."
        )
    fixed = REPLY_PRIMING_TOKENS + sum(count_message(m, model) for m in (*system, new))
    if fixed > limit:
        raise TooLong(
            f"This message is too long for the model: about {fixed:,} tokens, "
            f"the limit is {limit:,}.",
            detail=(
                f"model={model} window={window} reply_budget={reply_budget} "
                f"counted_by={counting_method(model)}"
            ),
        )
    room = limit - fixed
    kept = 0
    used = 0
    for turn in reversed(_turns(history)):
        cost = sum(count_message(m, model) for m in turn)
        if used + cost > room:
            break
        used += cost
        kept += len(turn)
    start = len(history) - kept
    return Trimmed(
        messages=[*system, *history[start:], new],
        dropped=start,
        input_tokens=fixed + used,
    )


def _turns(history: list[BaseMessage]) -> list[list[BaseMessage]]:
    """History cut before each user message: a question stays with its answers (and
    any tool calls in between), so none is kept without the other."""
    turns: list[list[BaseMessage]] = []
    for message in history:
        if _from_user(message) or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def _from_user(message: BaseMessage) -> bool:
    return message.type in ("human", "HumanMessageChunk") or (
        getattr(message, "role", None) == "user"
    )
