"""What every baseline does per reply: stream the endpoint and emit app-shaped frames.

The frames (hello, start, delta with seq, end) have the shape of docs/protocol.md so
the load generator reads every server the same way; one delta frame per token.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

MODEL = os.environ.get("LLM_MODEL", "gpt-4o-mini")
HELLO = json.dumps(
    {"type": "hello", "protocol": 1, "user": "bench", "model": MODEL, "demo": False}
)

_openai_client = None
_chat_model = None


def openai_client():
    """One AsyncOpenAI client per process (it holds the connection pool)."""
    global _openai_client
    if _openai_client is None:
        from openai import AsyncOpenAI

        _openai_client = AsyncOpenAI(
            base_url=os.environ["OPENAI_BASE_URL"],
            api_key=os.environ.get("OPENAI_API_KEY", "bench"),
            max_retries=0,
        )
    return _openai_client


def chat_model():
    """The bare ChatOpenAI model, configured as chat/llm/chat_models.py does."""
    global _chat_model
    if _chat_model is None:
        import openai
        from langchain_openai import ChatOpenAI

        _chat_model = ChatOpenAI(
            model=MODEL,
            api_key=os.environ.get("OPENAI_API_KEY", "bench"),
            base_url=os.environ["OPENAI_BASE_URL"],
            temperature=0.7,
            top_p=1.0,
            max_tokens=int(os.environ.get("LLM_MAX_TOKENS", "512")),
            stream_usage=True,
            timeout=openai.Timeout(60.0, connect=5.0),
            max_retries=0,
        )
    return _chat_model


async def openai_tokens(content: str) -> AsyncIterator[str]:
    """Baselines (1) and (3): the openai SDK's stream, one text piece per chunk."""
    stream = await openai_client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": content}],
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=int(os.environ.get("LLM_MAX_TOKENS", "512")),
    )
    async for chunk in stream:
        if chunk.choices:
            text = chunk.choices[0].delta.content
            if text:
                yield text


async def event_tokens(content: str) -> AsyncIterator[str]:
    """Baseline (2): astream_events(version="v2") on the bare chat model."""
    from langchain_core.messages import HumanMessage

    events = chat_model().astream_events([HumanMessage(content)], version="v2")
    async for event in events:
        if event["event"] == "on_chat_model_stream":
            text = event["data"]["chunk"].text
            if text:
                yield text


SOURCES = {"openai": openai_tokens, "events": event_tokens}


async def reply(
    frame_text: str,
    send: Callable[[str], Awaitable[None]],
    source: Callable[[str], AsyncIterator[str]],
) -> None:
    """Answer one `send` frame: start, one delta per token, end."""
    frame = json.loads(frame_text)
    if frame.get("type") != "send":
        return
    message = str(uuid.uuid4())
    await send(
        json.dumps(
            {
                "type": "start",
                "id": frame.get("id"),
                "message": message,
                "conversation": None,
                "model": MODEL,
                "demo": False,
            }
        )
    )
    seq = 0
    parts: list[str] = []
    status = "complete"
    try:
        async for text in source(frame.get("content", "")):
            seq += 1
            parts.append(text)
            await send(
                json.dumps(
                    {"type": "delta", "message": message, "seq": seq, "text": text}
                )
            )
    except Exception as exc:  # a baseline reports, it does not hide
        status = "failed"
        await send(
            json.dumps(
                {
                    "type": "error",
                    "code": "provider_unavailable",
                    "message": repr(exc),
                    "id": None,
                    "message_id": message,
                }
            )
        )
    await send(
        json.dumps(
            {
                "type": "end",
                "message": message,
                "status": status,
                "seq": seq,
                "content": "".join(parts),
            }
        )
    )
