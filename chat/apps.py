from django.apps import AppConfig


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
