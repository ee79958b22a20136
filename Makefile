# tradebotd — developer and operator entry points.
# `make run` starts the sandbox, `make test` runs every test, `make bench` the benchmarks.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv run test lint format bench clean

venv: $(STAMP)

# Reinstall when the declared dependencies change.
$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# Sandbox only for now: a local Bot API emulator with one bot and no daemon yet
# (the daemon arrives with the core issue). Ctrl-C stops it.
SANDBOX_TOKEN ?= 123456:sandbox-token-not-a-real-one
SANDBOX_PORT  ?= 8081
run: venv
	@echo "sandbox: Bot API emulator for token $(SANDBOX_TOKEN) on 127.0.0.1:$(SANDBOX_PORT)"
	@echo "sandbox: send it a message as user 42 with:"
	@echo "  curl -s -X POST http://127.0.0.1:$(SANDBOX_PORT)/_emulator/bots/$(firstword $(subst :, ,$(SANDBOX_TOKEN)))/messages -d '{\"from\": 42, \"text\": \"/start\"}'"
	@echo "sandbox: read the queue with:"
	@echo "  curl -s http://127.0.0.1:$(SANDBOX_PORT)/bot$(SANDBOX_TOKEN)/getUpdates"
	$(BIN)/tradebotd emulator --port $(SANDBOX_PORT) --token $(SANDBOX_TOKEN)

test: venv lint
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check daemon tests bench
	$(BIN)/ruff format --check daemon tests bench

format: venv
	$(BIN)/ruff check --fix daemon tests bench
	$(BIN)/ruff format daemon tests bench

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
