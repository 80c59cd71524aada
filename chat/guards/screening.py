"""The injection policy applied to what a user writes: a message, or their own
instructions and system prompts (chat.catalogue).

Three backends (CHAT_INJECTION_BACKENDS), always consulted cheapest first:
`heuristics` (chat.guards.injection, about a millisecond), `classifier` (a local ONNX
model, chat.guards.classifier, milliseconds) and `judge` (a catalogue model,
chat.catalogue.judge, a network call; registered by the app at start-up, since
the catalogue depends on the guards and not the other way round).
CHAT_INJECTION_COMBINE says how they add up:

- `any`: a message is an attempt when any backend says so; the first that does
  ends the screening, so the dearer backends see only what the cheaper passed;
- `borderline`: the heuristics decide clear cases (a score at the threshold or
  above is an attempt, below CHAT_INJECTION_BORDERLINE is not); only scores in
  between go to the other backends, and any of them that says so decides.

An optional backend that fails (missing files or packages, an outage, a timeout,
an unreadable verdict) never raises to the user: with CHAT_INJECTION_ON_FAILURE
`open` (the default) the message goes on with an `injection:<backend>_unavailable`
flag recorded, since the heuristics have already run; with `closed` it is refused
(or only flagged, under the `flag` policy).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from django.conf import settings

from chat.errors import BlockedInput
from chat.guards.classifier import ClassifierUnavailable, get_classifier
from chat.guards.injection import screen
from chat.guards.repeats import RepeatedErrors

__all__ = [
    "BACKENDS",
    "JudgeUnavailable",
    "Verdict",
    "screen_input",
    "use_judge",
    "verdict",
]

BACKENDS = ("heuristics", "classifier", "judge")

logger = logging.getLogger(__name__)
_failures = RepeatedErrors(logger, window=300.0)
_judge: Callable[[str], Awaitable[bool]] | None = None


class JudgeUnavailable(Exception):
    """The judge model is not configured, failed, or gave no readable verdict."""


def use_judge(judge: Callable[[str], Awaitable[bool]]) -> None:
    """Install the judge backend (chat.catalogue.judge, from ChatConfig.ready)."""
    global _judge
    _judge = judge


@dataclass
class Verdict:
    """Whether the text is an injection attempt, which backends said so (as
    reasons), and which optional backends could not answer."""

    flagged: bool = False
    reasons: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


async def screen_input(text: str) -> list[str]:
    """Apply the injection policy: raise BlockedInput, or return flags to record."""
    policy = settings.CHAT_INJECTION_POLICY
    if policy == "off":
        return []
    result = await verdict(text)
    flags = [f"injection:{name}_unavailable" for name in result.unavailable]
    failed_closed = bool(result.unavailable) and (
        settings.CHAT_INJECTION_ON_FAILURE == "closed"
    )
    if not result.flagged and not failed_closed:
        return flags
    if policy == "block":
        if result.flagged:
            raise BlockedInput(
                "This message looks like an attempt to override the assistant's "
                "instructions, so it was not sent. Rephrase it and try again.",
                detail=", ".join(result.reasons),
            )
        raise BlockedInput(
            "The safety check could not run, so this message was not sent. "
            "Try again in a moment.",
            detail=", ".join(flags),
        )
    return flags + [f"injection:{reason}" for reason in result.reasons]


async def verdict(text: str) -> Verdict:
    """The combined verdict of the configured backends on one text."""
    names = set(settings.CHAT_INJECTION_BACKENDS)
    result = Verdict()
    others = [name for name in BACKENDS[1:] if name in names]
    if "heuristics" in names:
        heuristic = screen(text, threshold=settings.CHAT_INJECTION_THRESHOLD)
        if heuristic.flagged:
            result.flagged, result.reasons = True, heuristic.reasons
            return result
        if (
            settings.CHAT_INJECTION_COMBINE == "borderline"
            and heuristic.score < settings.CHAT_INJECTION_BORDERLINE
        ):
            return result
    for name in others:
        try:
            flagged = await _ask(name, text)
        except (ClassifierUnavailable, JudgeUnavailable) as exc:
            _failures.warning(str(exc), source=name, kind=type(exc).__name__)
            result.unavailable.append(name)
            continue
        if flagged:
            result.flagged, result.reasons = True, [name]
            return result
    return result


async def _ask(name: str, text: str) -> bool:
    if name == "classifier":

        def probability() -> float:
            return get_classifier(settings.CHAT_INJECTION_CLASSIFIER_PATH).probability(
                text
            )

        try:
            score = await asyncio.to_thread(probability)
        except ClassifierUnavailable:
            raise
        except Exception as exc:  # a model that fails at run time
            raise ClassifierUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return score >= settings.CHAT_INJECTION_CLASSIFIER_THRESHOLD
    if _judge is None:
        raise JudgeUnavailable("no judge is installed")
    return await _judge(text)
