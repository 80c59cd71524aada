"""A fake chat model for unit tests that streams token by token, like a real one, and
reports usage at the end like OpenAI does (langchain-core's fakes do not do both)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from chat.errors import ProviderUnavailable


class FakeStreamingChatModel(BaseChatModel):
    tokens: list[str] = ["Hello", ",", " world", "!"]
    delay: float = 0.0
    # (input, output) tokens reported in a final usage chunk; None sends none.
    usage: tuple[int, int] | None = (11, 4)
    cached_input: int = 0
    # Raise a provider error after this many tokens (None: never).
    fail_after: int | None = None
    calls: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "fake-streaming"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any):
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage("".join(self.tokens)))]
        )

    async def _astream(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.calls.append(messages)
        for i, token in enumerate(self.tokens):
            if self.fail_after is not None and i == self.fail_after:
                raise ProviderUnavailable(detail="fake failure")
            if self.delay:
                await asyncio.sleep(self.delay)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=token))
            if run_manager:
                await run_manager.on_llm_new_token(token, chunk=chunk)
            yield chunk
        if self.usage is not None:
            prompt, completion = self.usage
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    usage_metadata={
                        "input_tokens": prompt,
                        "output_tokens": completion,
                        "total_tokens": prompt + completion,
                        "input_token_details": {"cache_read": self.cached_input},
                    },
                )
            )
