"""Conversations in and out: exports (Markdown, our versioned JSON, a zip of
everything; docs/export-format.md) and imports (our JSON and ChatGPT's
conversations.json), validated whole before anything is stored."""
