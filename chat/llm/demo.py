"""The built-in demo model: streams a canned Markdown reply token by token, so the
app works with no model configured. The page labels it clearly as a demo."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

DEMO_REPLY = """This is the **demo model**: no real language model is configured, so \
this canned reply streams token by token to show the app working.

You wrote:

> {echo}

To chat with a real model, run `make run` (it starts a local SmolLM2 server) or set \
`OPENAI_API_KEY` (and optionally `OPENAI_BASE_URL`) and restart.

```python
print("tokens stream over a WebSocket")
```
"""

_TOKEN = re.compile(r"\s*\S+|\s+")


class DemoChatModel(BaseChatModel):
    """Echoes the last user message inside a canned reply; reports no usage, like
    many OpenAI-compatible servers on streams."""

    delay_ms: float = 15.0

    @property
    def _llm_type(self) -> str:
        return "demo"

    def _reply(self, messages: list[BaseMessage]) -> str:
        last = messages[-1].text if messages else ""
        echo = " ".join(last.split())[:300] or "(nothing)"
        return DEMO_REPLY.format(echo=echo)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = self._reply(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for token in _TOKEN.findall(self._reply(messages)):
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for token in _TOKEN.findall(self._reply(messages)):
            if self.delay_ms:
                await asyncio.sleep(self.delay_ms / 1000)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
