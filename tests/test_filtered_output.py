"""A coalescing output filter never strands text (chat.filtered_output): what it
collects is flushed and published within its interval when the model pauses, a
leak found by that flush ends the reply with nothing of it shown, and a reply
that ends early shows what passed."""

from __future__ import annotations

import asyncio

import pytest

from chat.errors import BlockedOutput, ProviderUnavailable
from chat.filtered_output import FilteredOutput
from chat.guards.output_filter import StreamFilter

CANARY = "cnry-0123456789ab"
INTERVAL_MS = 20


def output(shown: list[str]) -> FilteredOutput:
    output_filter = StreamFilter(canary=CANARY, coalesce_ms=INTERVAL_MS)
    return FilteredOutput(output_filter, shown.append)


async def test_a_piece_followed_by_a_pause_is_shown_within_the_interval():
    shown: list[str] = []
    with output(shown) as out:
        out.feed("Hello ")  # the first piece is scanned at once
        out.feed("there, how are ")  # collected: it arrived within the interval
        assert "".join(shown).rstrip() == "Hello"
        await asyncio.sleep(INTERVAL_MS / 1000 * 3)
        assert "".join(shown).rstrip() == "Hello there, how are"
        out.feed("you?")
        out.finish()
    assert "".join(shown) == "Hello there, how are you?"


async def test_a_leak_found_by_the_timed_flush_ends_the_reply_with_nothing_shown():
    shown: list[str] = []
    with output(shown) as out:
        out.feed("Sure: ")
        out.feed(CANARY)
        await asyncio.sleep(INTERVAL_MS / 1000 * 3)
        with pytest.raises(BlockedOutput):
            out.feed(" and more")
    assert "".join(shown).rstrip() == "Sure:"


async def test_a_reply_that_fails_shows_what_it_collected():
    shown: list[str] = []
    with pytest.raises(ProviderUnavailable), output(shown) as out:
        out.feed("Hello ")
        out.feed("world, ")
        raise ProviderUnavailable(detail="gone")
    assert "".join(shown).rstrip() == "Hello world,"


async def test_the_timer_does_not_outlive_the_reply():
    shown: list[str] = []
    with output(shown) as out:
        out.feed("Hello ")
        out.feed("world ")
        out.finish()
    await asyncio.sleep(INTERVAL_MS / 1000 * 3)
    assert "".join(shown) == "Hello world "
