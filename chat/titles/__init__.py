"""Conversation titles: a clean first line at once (`text`), the model's title once
the first reply completes (`generation`), never over a title the user chose."""

from chat.titles.text import TITLE_CHARS, clean_title, fallback_title

__all__ = ["TITLE_CHARS", "clean_title", "fallback_title"]
