from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def repair_sqlite_search(using: str = "default", **kwargs) -> None:
    """SQLite drops a table's triggers when a migration rebuilds it: put the
    search index's back (chat.search.sqlite.repair)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    from chat.search import sqlite

    with connection.cursor() as cursor:
        sqlite.repair(cursor)


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from langchain_core.globals import set_llm_cache

        from chat import checks, sockets  # noqa: F401  (system checks, signals)
        from chat.cache.langchain_cache import LangChainCache
        from chat.catalogue import checks as catalogue_checks  # noqa: F401
        from chat.catalogue import invalidation  # noqa: F401  (signals)
        from chat.catalogue.judge import judge
        from chat.guards.screening import use_judge

        # Non-streaming LangChain calls (titles, summaries) share the reply cache.
        set_llm_cache(LangChainCache())
        # The injection screen's optional judge is a catalogue model.
        use_judge(judge)
        post_migrate.connect(repair_sqlite_search, sender=self)
