"""The app with changes of the stream path switched back off, one at a time, for
the on/off table of bench/README.md: `BENCH_OFF=orjson` (frames by the stdlib's
json), `BENCH_OFF=bounded` (plain ChatOpenAI, every chunk held to the end),
`BENCH_OFF=chunk_timeout` (LangChain's per-chunk `wait_for` back on, 120 s).
`LLM_HTTP_CLIENT=httpx` is the app's own setting; uvloop is a server choice."""

import json
import os

from chatproject.asgi import application  # noqa: F401

_off = set(filter(None, os.environ.get("BENCH_OFF", "").split(",")))

if "orjson" in _off:
    from chat import protocol

    def _stdlib_dumps(frame: dict) -> str:
        return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)

    protocol.dumps = _stdlib_dumps

if "bounded" in _off:
    from langchain_openai import ChatOpenAI

    from chat.llm import chat_models

    chat_models.BoundedChatOpenAI = ChatOpenAI

if "chunk_timeout" in _off:
    from chat.llm import chat_models

    class _PerChunkWaitFor(chat_models.BoundedChatOpenAI):
        def __init__(self, **kwargs):
            kwargs["stream_chunk_timeout"] = 120.0  # langchain-openai's default
            super().__init__(**kwargs)

    chat_models.BoundedChatOpenAI = _PerChunkWaitFor
