"""The first-line title and the cleaning of a model's title: plain text, one
line, cut at a word; a code fence is never a title."""

import pytest

from chat.titles import TITLE_CHARS, clean_title, fallback_title


@pytest.mark.parametrize(
    ("content", "title"),
    [
        (
            "```python\nprint('hi')\n```\nWhy does this print twice?",
            "Why does this print twice?",
        ),
        ("~~~\nSELECT 1;\n~~~", "SELECT 1;"),
        ("```\n```\n\n", ""),
        (
            "# **How** do I use [Django](https://djangoproject.com) `async` views?",
            "How do I use Django async views?",
        ),
        ("> - [x] *Buy* __milk__ and ~~eggs~~", "Buy milk and eggs"),
        ("1. First step\n2. Second", "First step"),
        ("![a cat](cat.png) is cute", "a cat is cute"),
        ("<b>bold</b> <https://example.com>", "bold https://example.com"),
        ("\n\n   \n  Hello   there  \nsecond line", "Hello there"),
        ("", ""),
    ],
)
def test_fallback_title_is_the_first_plain_line(content, title):
    assert fallback_title(content) == title


def test_a_long_line_is_cut_at_a_word():
    title = fallback_title(
        "Please explain " + "the difference between these things " * 5
    )
    assert len(title) <= TITLE_CHARS and title.endswith("…")
    assert title[:-1].split()[-1] in {"the", "difference", "between", "these", "things"}
    assert not title[:-1].endswith(" ")


def test_a_long_word_is_cut_where_it_must():
    title = fallback_title("x" * 500)
    assert title == "x" * (TITLE_CHARS - 1) + "…"


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ('"Trip to Lisbon."', "Trip to Lisbon"),
        ("Title: **Garden plans**", "Garden plans"),
        ("## Le voyage à Paris\nSome more words", "Le voyage à Paris"),
        ("«Viaje a Madrid»", "Viaje a Madrid"),
        ("```\nTitle\n```", "Title"),
        ("   \n", ""),
        ("'   '", ""),
    ],
)
def test_a_model_answer_becomes_a_plain_title(answer, title):
    assert clean_title(answer) == title
