"""The theme is stored with the account and rendered into the page, so it shows
from the first paint in any browser; the browser's preference until one is chosen."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.auth.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/preferences/"


def put(client, body, **extra):
    return client.put(URL, json.dumps(body), content_type="application/json", **extra)


def html_tag(client) -> str:
    page = client.get(reverse("chat:index")).content.decode()
    return page[page.index("<html") : page.index(">", page.index("<html")) + 1]


def test_the_browser_decides_until_a_theme_is_chosen(client, carol):
    client.force_login(carol)
    assert client.get(URL).json() == {"theme": "system"}
    assert 'data-theme="system"' in html_tag(client)


def test_a_chosen_theme_is_rendered_into_every_page_of_the_account(client, carol):
    client.force_login(carol)
    assert put(client, {"theme": "dark"}).json() == {"theme": "dark"}
    other_browser = Client()
    other_browser.force_login(carol)
    assert 'data-theme="dark"' in html_tag(other_browser)
    assert other_browser.get(URL).json() == {"theme": "dark"}
    assert put(client, {"theme": "system"}).json() == {"theme": "system"}
    assert 'data-theme="system"' in html_tag(other_browser)


@pytest.mark.parametrize(
    "body", ["dark", {"theme": "blue"}, {"theme": None}, {"theme": "dark", "x": 1}]
)
def test_a_bad_theme_is_refused_with_a_typed_error(client, carol, body):
    client.force_login(carol)
    response = put(client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert client.get(URL).json() == {"theme": "system"}


def test_not_json_is_refused(client, carol):
    client.force_login(carol)
    response = client.put(URL, "{", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": "The body must be JSON."}


def test_anonymous_visitors_have_no_theme_and_cannot_set_one(client):
    response = put(client, {"theme": "dark"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    login = client.get(reverse("account_login")).content.decode()
    assert "data-theme" not in login[: login.index("<head>")]


def test_a_change_needs_the_csrf_token(carol):
    client = Client(enforce_csrf_checks=True)
    client.login(username="carol", password=PASSWORD)
    assert put(client, {"theme": "dark"}).status_code == 403
