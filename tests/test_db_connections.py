"""Channels closes "old" database connections before every WebSocket message it
dispatches (channels.consumer.AsyncConsumer.dispatch). The settings must make that
cheap, or each message pays a reconnect before the user's message is stored:
PostgreSQL draws from a pool, SQLite keeps its connection."""

import pytest
from django.db import close_old_connections, connection
from django.db.backends.signals import connection_created

from chat.models import Message
from tests.conftest import need_service

pytestmark = pytest.mark.django_db(transaction=True)


def server_connections() -> int:
    """Connections opened to the database server so far (pool or no pool)."""
    pool = getattr(connection, "pool", None)
    if pool is not None:
        return pool.get_stats().get("connections_num", 0)
    return OPENED[0]


OPENED = [0]


def count_opened(sender, connection, **kwargs) -> None:
    OPENED[0] += 1


@pytest.fixture(autouse=True)
def _count():
    connection_created.connect(count_opened)
    yield
    connection_created.disconnect(count_opened)


def test_closing_between_messages_does_not_reconnect():
    Message.objects.count()
    opened = server_connections()
    for _ in range(5):
        close_old_connections()  # what Channels does before each message
        Message.objects.count()
    assert server_connections() == opened


def test_postgresql_connections_are_pooled(settings):
    if connection.vendor != "postgresql":
        need_service("PostgreSQL only: DATABASE_URL is not PostgreSQL here")
    assert connection.pool is not None
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
