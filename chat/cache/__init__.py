"""The response cache: replies stored by a stable key and replayed as a stream.

`replies` is the turn's interface, `keys` makes keys, `backends` holds the stores,
`invalidation` clears them, `langchain_cache` serves LangChain's non-streaming calls
and `stats` counts what happened. See docs/cache.md.
"""
