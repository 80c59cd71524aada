"""What a turn needs from the catalogue: its entry, candidates and settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.messages import BaseMessage

from chat.catalogue.entries import Entry
from chat.catalogue.instructions import instructions_messages
from chat.catalogue.selectors import choose
from chat.catalogue.services import instructions_get, preset_get
from chat.catalogue.store import get_catalogue
from chat.llm import chat_models
from chat.llm.registry import ModelSpec, get_spec
from chat.models import Conversation


@dataclass
class Route:
    """The catalogue entry a turn runs on, the models it may stream from (the
    entry, then its fallbacks) and the conversation's generation settings."""

    entry: Entry
    candidates: list[chat_models.Candidate] = field(default_factory=list)
    note: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None
    # The conversation's system prompt and the preset it started from.
    system_prompt: str = ""
    preset_id: int | None = None
    # The user's instructions, after the operator's system prompt (see
    # chat.catalogue.instructions).
    instructions: list[BaseMessage] = field(default_factory=list)

    @property
    def model(self) -> str:
        """The provider model name replies and ledger rows are stored under."""
        return self.entry.model

    @property
    def spec(self) -> ModelSpec:
        return self.entry.spec

    @property
    def endpoint(self) -> str:
        return self.entry.endpoint

    @property
    def context_window(self) -> int:
        return self.entry.spec.context_window

    @property
    def reply_cap(self) -> int:
        """The reply budget: the conversation's cap, else the entry's default, never
        above the model's own limit (the history is trimmed around it)."""
        cap = self.max_output_tokens or self.entry.reply_cap
        return min(cap, self.entry.spec.max_output_tokens)

    @property
    def cache_model(self) -> str:
        """The model part of the response-cache key: the same provider model at
        two catalogue entries (two endpoints) never shares replies."""
        if self.entry.from_environment:
            return self.entry.model
        return f"{self.entry.key}:{self.entry.model}"

    def _candidate(self, model: str, endpoint: str):
        for candidate in self.candidates:
            if candidate.name == model and candidate.endpoint == endpoint:
                return candidate
        return None

    def spec_of(self, model: str, endpoint: str) -> ModelSpec:
        """The limits and prices of the candidate that answered."""
        candidate = self._candidate(model, endpoint)
        if candidate is not None and candidate.spec is not None:
            return candidate.spec
        return get_spec(model)

    def catalogue_key_of(self, model: str, endpoint: str) -> str:
        candidate = self._candidate(model, endpoint)
        return candidate.catalogue_key if candidate else self.entry.key

    async def remember(self, conversation: Conversation) -> None:
        """The conversation keeps the model it was last used with (not a default
        standing in for a model that was disabled: that one may come back), and a
        new one the settings of the preset it started from."""
        changes = {}
        if not self.note and conversation.model_key != self.entry.key:
            changes["model_key"] = self.entry.key
        if self.preset_id is not None and conversation.preset_id is None:
            changes.update(
                preset_id=self.preset_id,
                system_prompt=self.system_prompt,
                temperature=self.temperature,
                max_output_tokens=self.max_output_tokens,
            )
        if changes:
            for name, value in changes.items():
                setattr(conversation, name, value)
            await Conversation.objects.filter(pk=conversation.pk).aupdate(**changes)


async def route_for(
    *,
    user,
    conversation=None,
    requested: str | None = None,
    preset_id: int | None = None,
) -> Route:
    """The turn's route: `requested` (the frame's `model`), else the conversation's
    model (or a new conversation's preset's), else the default; raises InvalidInput
    or ProviderUnavailable. A preset applies only to a new conversation."""
    source = conversation
    if preset_id is not None and conversation is None:
        source = await preset_get(user=user, preset_id=preset_id)
        requested = requested or source.model_key or None
    choice = await choose(user=user, conversation=conversation, requested=requested)
    entry = choice.entry
    system_prompt = getattr(source, "system_prompt", "")
    instructions = instructions_messages(
        custom=await instructions_get(user=user), conversation=system_prompt
    )
    temperature = getattr(source, "temperature", None)
    if temperature is not None:
        temperature = min(
            max(temperature, entry.min_temperature), entry.max_temperature
        )
    max_tokens = getattr(source, "max_output_tokens", None)
    if max_tokens is not None:
        max_tokens = min(max_tokens, entry.spec.max_output_tokens)
    candidates = chat_models.entry_candidates(
        entry, await get_catalogue(), temperature=temperature, max_tokens=max_tokens
    )
    return Route(
        entry,
        candidates,
        choice.note,
        temperature,
        max_tokens,
        system_prompt,
        getattr(source, "pk", None) if source is not conversation else None,
        instructions,
    )
