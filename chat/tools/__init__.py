"""Tools the model can call: the Python sandbox, the safe web fetch, MCP servers,
which tools a turn may use, and the bounded tool loop (docs/tools.md)."""
