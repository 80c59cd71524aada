"""What a search engine answers with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# Conversations a search answers with, at most.
RESULTS = 50


@dataclass(frozen=True)
class Hit:
    """One matching title (message_id None) or message, as an engine ranks it:
    a higher score is a better match; the snippet is marked, not yet escaped."""

    conversation_id: uuid.UUID
    message_id: uuid.UUID | None
    score: float
    snippet: str
