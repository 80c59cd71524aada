"""Rebuild conversation search's index: PostgreSQL's GIN indexes in the language
CHAT_SEARCH_LANGUAGE names now (run after changing it), SQLite's FTS5 triggers
and rows."""

from django.core.management.base import BaseCommand
from django.db import connection

from chat.search import postgres, sqlite


class Command(BaseCommand):
    help = "Rebuild the search index (e.g. after changing CHAT_SEARCH_LANGUAGE)."

    def handle(self, *args, **options) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                postgres.build_indexes(cursor)
                self.stdout.write(f"Search indexes built in {postgres.language()!r}.")
            elif connection.vendor == "sqlite":
                sqlite.drop(cursor)
                sqlite.create(cursor)
                self.stdout.write("Search index rebuilt.")
