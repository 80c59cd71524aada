"""Prompt assembly: the system prompt with its per-turn canary, then the history.

Messages are built here, before the call, and streamed from the chat model itself:
a prompt | model chain would schedule work per chunk (about five times the cost).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from chat.guards.injection import canary_instruction

# User text always travels in its own user-role message, never spliced into the
# system prompt: the structural layer of the injection defence. The canary comes
# first, so a model that starts echoing its instructions shows the canary before
# any of the operator's prompt and the output filter stops it there.
PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "{canary_instruction}\n\n{system_prompt}"),
        MessagesPlaceholder("history"),
        MessagesPlaceholder("new"),
    ]
)


def system_messages(canary: str) -> list[BaseMessage]:
    """The system prompt for one turn, carrying that turn's canary. format_messages,
    not invoke: a runnable's callback set-up costs ten times the formatting."""
    return PROMPT.format_messages(
        system_prompt=settings.LLM_SYSTEM_PROMPT,
        canary_instruction=canary_instruction(canary),
        history=[],
        new=[],
    )


# Sent, never stored, after a reply that was cut short: the model sees its partial
# reply as its last turn and this as the user's.
CONTINUE_INSTRUCTION = (
    "Continue your previous reply exactly where it stopped. Do not repeat any of it "
    "and do not comment on the interruption."
)


def history_messages(pairs: Iterable[tuple[str, str]]) -> list[BaseMessage]:
    """(role, text) pairs from storage as LangChain messages; a reply and its
    continuations are stored apart but read as the one reply the user saw."""
    out: list[BaseMessage] = []
    for role, text in pairs:
        if role != "user" and out and isinstance(out[-1], AIMessage):
            out[-1] = AIMessage(out[-1].content + text)
        else:
            out.append(HumanMessage(text) if role == "user" else AIMessage(text))
    return out


def continue_message() -> HumanMessage:
    return HumanMessage(CONTINUE_INSTRUCTION)
