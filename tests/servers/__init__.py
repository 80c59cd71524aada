"""Real HTTP servers for tests: a scripted fake OpenAI API and the local llama.cpp."""
