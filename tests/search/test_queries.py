"""Search through GET /api/conversations/?q=, on the database the suite runs on:
PostgreSQL full-text search, or SQLite FTS5 (test_engines.py runs this module on
SQLite too). Ranking, snippets, the message to jump to, isolation between users,
and hostile queries answered as plain words."""

import os

import pytest
from django.db import connection
from django.urls import reverse

from chat.models import Conversation, Message
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("chat:conversation-list")


@pytest.fixture
def library(user, other_user):
    """Alice's conversations, and Bob's with the same words."""
    trip = factories.conversation(user, title="Trip to Lisbon")
    factories.message(trip, content="Where should I eat in Lisbon?")
    factories.message(
        trip,
        role="assistant",
        content="Try the pastries in Belém; the tram 28 goes there.",
    )
    garden = factories.conversation(user, title="Garden plans")
    question = factories.message(
        garden, content="Which tomatoes grow well on a balcony?"
    )
    tomato = factories.message(
        garden,
        role="assistant",
        content="Cherry tomatoes love a sunny balcony near basil. Tomatoes need "
        "water daily; "
        "a tomato cage helps. <b>Tomatoes</b> & basil (x<y) are friends. "
        "Drop 1 or 2 seeds per pot, a table in the chat message says.",
    )
    notes = factories.conversation(user, title="Tomatoes everywhere")
    factories.message(notes, content="A list of sauces")
    secret = factories.conversation(other_user, title="Bob's tomatoes and Lisbon")
    factories.message(secret, content="tomatoes Lisbon pastries tram balcony")
    return {
        "trip": trip,
        "garden": garden,
        "notes": notes,
        "question": question,
        "tomato": tomato,
    }


def search(client, q):
    response = client.get(LIST, {"q": q})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_runs_on_the_expected_engine():
    """test_engines.py runs this module on SQLite and says so."""
    expected = os.environ.get("SEARCH_EXPECT_VENDOR")
    if expected:
        assert connection.vendor == expected


def test_title_matches_rank_first_then_text_with_the_message(client, user, library):
    client.force_login(user)
    results = search(client, "tomatoes")
    ids = [r["id"] for r in results]
    assert ids == [str(library["notes"].id), str(library["garden"].id)]
    garden = results[1]
    # Either engine's best: the short question, or the reply that says it most.
    assert garden["message"] in {str(library["question"].id), str(library["tomato"].id)}
    assert garden["title"] == "Garden plans"
    assert results[0]["message"] is None
    assert "<mark>Tomatoes</mark>" in results[0]["snippet"]


def test_snippet_is_escaped_then_marked(client, user, library):
    client.force_login(user)
    (garden,) = [r for r in search(client, "basil") if r["message"]]
    snippet = garden["snippet"]
    assert "<mark>basil</mark>" in snippet
    assert "&amp; <mark>basil</mark> (x&lt;y)" in snippet
    # PostgreSQL's parser drops the tag, SQLite keeps it as text: either way, the
    # only elements are the marks.
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


def test_more_matching_words_rank_higher(client, user):
    one = factories.conversation(user, title="First")
    factories.message(one, content="A note about rust on a bicycle chain.")
    many = factories.conversation(user, title="Second")
    factories.message(many, content="Rust, rust and more rust: the rusty chain.")
    client.force_login(user)
    assert [r["id"] for r in search(client, "rust chain")] == [
        str(many.id),
        str(one.id),
    ]


def test_every_word_must_match_and_the_last_is_a_prefix(client, user, library):
    client.force_login(user)
    assert [r["id"] for r in search(client, "tram pastr")] == [str(library["trip"].id)]
    assert search(client, "tram tomatoes") == []


def test_only_the_users_own_conversations(client, user, other_user, library):
    client.force_login(user)
    for q in ("Bob", "Lisbon", "pastries tram", "balcony"):
        assert all(
            Conversation.objects.get(pk=r["id"]).user_id == user.pk
            for r in search(client, q)
        ), q
    client.force_login(other_user)
    assert [r["title"] for r in search(client, "tomatoes")] == [
        "Bob's tomatoes and Lisbon"
    ]


def test_renamed_and_deleted_conversations_follow(client, user, library):
    client.force_login(user)
    trip = library["trip"]
    trip.title = "Portugal holidays"
    trip.save()
    assert [r["id"] for r in search(client, "portugal")] == [str(trip.id)]
    assert all(r["message"] for r in search(client, "lisbon"))
    trip.delete()
    assert search(client, "portugal") == [] and search(client, "lisbon") == []


def test_a_streaming_reply_is_found_once_finished(client, user):
    conv = factories.conversation(user, title="Draft")
    reply = factories.message(
        conv, role="assistant", content="halfway zebra", status="streaming"
    )
    client.force_login(user)
    assert search(client, "zebra") == []
    Message.objects.filter(pk=reply.pk).update(
        content="a finished zebra", status="complete"
    )
    assert [r["message"] for r in search(client, "zebra")] == [str(reply.id)]


def test_archived_conversations_are_found_and_marked(client, user, library):
    Conversation.objects.filter(pk=library["trip"].pk).update(archived=True)
    client.force_login(user)
    (found,) = search(client, "lisbon eat")
    assert found["archived"] is True


@pytest.mark.parametrize(
    "query",
    [
        '"tomatoes',
        "tomatoes*",
        "* tomatoes",
        "-tomatoes",
        "tomatoes NEAR basil",
        "NEAR(tomatoes basil)",
        "NEAR/ tomatoes",
        "basil:tomatoes",
        "tomatoes' OR 1=1 --",
        "tomatoes'); DROP TABLE chat_message; --",
        "tomatoes & !basil | (near:*)",
        "tomatoes \\ % _ ^ ~ < > {}",
        "tomatoes\x00",
    ],
)
def test_hostile_queries_are_plain_words(client, user, library, query):
    """Every word of these is in the garden's reply: operators, quotes and SQL
    are not syntax, and no query is an error."""
    client.force_login(user)
    results = search(client, query)
    assert str(library["garden"].id) in {r["id"] for r in results}
    assert Message.objects.filter(pk=library["tomato"].pk).exists()


def test_operator_words_are_searched_for_not_obeyed(client, user, library):
    client.force_login(user)
    assert search(client, "tomatoes OR lisbon") == []
    trip = str(library["trip"].id)
    assert [r["id"] for r in search(client, "tram -pastries")] == [trip]


@pytest.mark.parametrize("query", ["", "   ", "***", '"" - :', "_", "—", "()"])
def test_a_query_without_words_finds_nothing(client, user, library, query):
    client.force_login(user)
    assert search(client, query) == []


@pytest.mark.parametrize("query", ["²", "١٢٣", "naïve café", "日本語"])
def test_any_script_is_searched_without_error(client, user, library, query):
    client.force_login(user)
    assert search(client, query) == []


def test_a_10_kb_query_is_a_clear_400(client, user, library):
    client.force_login(user)
    response = client.get(LIST, {"q": "tomatoes " * 1200})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "at most 200 characters" in body["message"]


def test_search_needs_login(client):
    assert client.get(LIST, {"q": "x"}).status_code == 401
