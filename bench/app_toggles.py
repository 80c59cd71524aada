"""The app with changes of the stream path switched back off, one at a time, for
the on/off table of bench/README.md: `BENCH_OFF=orjson` (frames by the stdlib's
json), `BENCH_OFF=bounded` (plain ChatOpenAI, every chunk held to the end).
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
