"""ChatOpenAI whose streams hold a bounded number of chunks.

`BaseChatModel.astream` (langchain_core/language_models/chat_models.py) appends
every `ChatGenerationChunk` of a stream to a local list and merges the list once
the stream ends, for `on_llm_end` (and `astream_events`' `on_chat_model_end`).
Each chunk is a pair of pydantic objects, about 2.4 KiB, so a 200-token reply
holds about 480 KiB until its last token, for a merge nobody reads before the end.
Here the model's `_astream` merges that list in place every `MERGE_EVERY` chunks,
so a stream holds at most that many chunks plus one merged one, and the merged
result at the end is the same (merging is associative). LangChain offers no hook
for this: the list is found in `astream`'s frame, and if a LangChain version names
it otherwise nothing is merged early (bench/README.md, "Memory per streaming
socket", has the upstream proposal and a reproduction).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.outputs import ChatGenerationChunk
from langchain_core.outputs.chat_generation import merge_chat_generation_chunks
from langchain_openai import ChatOpenAI

# Chunks held before they are merged into one. A merge builds one new chunk and
# copies the text so far, so merging every chunk would cost O(n²) copying; every
# 8 keeps a stream's chunks under 20 KiB for about 1% more CPU per token.
MERGE_EVERY = 8


def _held_chunks(frame) -> list | None:
    """The list `astream` appends each chunk to, if the caller is `astream`."""
    if frame is None or frame.f_code.co_name != "astream":
        return None
    held = frame.f_locals.get("chunks")
    return held if isinstance(held, list) else None


class BoundedChatOpenAI(ChatOpenAI):
    """ChatOpenAI, streaming with at most MERGE_EVERY + 1 chunks held."""

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        held = _held_chunks(sys._getframe(1))
        async for chunk in super()._astream(*args, **kwargs):
            if held is not None and len(held) >= MERGE_EVERY:
                merged = merge_chat_generation_chunks(held)
                if isinstance(merged, ChatGenerationChunk):
                    held[:] = [merged]
            yield chunk
