"""The user's own instructions in the prompt: custom instructions (every
conversation) and the conversation's system prompt.

They are the user's words, so they travel as a user-role message after the
operator's system prompt (which stays first, with its canary), marked as the
user's: the model never reads them with the operator's authority. They count
against the context window like any message and are always kept when trimming."""

from __future__ import annotations

from langchain_core.messages import BaseMessage, HumanMessage

HEADER = (
    "[Standing instructions from the user, not from the operator. Follow them where "
    "they do not conflict with the system prompt.]"
)


def instructions_messages(*, custom: str, conversation: str) -> list[BaseMessage]:
    """One user-role message holding both, or none when both are empty."""
    parts = [HEADER]
    if custom:
        parts.append(f"About me and how to answer:\n{custom}")
    if conversation:
        parts.append(f"For this conversation:\n{conversation}")
    return [HumanMessage("\n\n".join(parts))] if len(parts) > 1 else []
