# tradebotd — developer and operator entry points.
# `make run` starts the sandbox, `make test` runs every test, `make bench` the benchmarks.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv run test e2e lint format bench clean install uninstall upgrade

venv: $(STAMP)

# Reinstall when the declared dependencies change.
$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

# With TELEGRAM_BOT_TOKEN in the environment: the real bot, polling unless
# POLLING_ENABLED says otherwise. Without: the sandbox, the daemon against the built-in
# Bot API emulator on 127.0.0.1:$(SANDBOX_PORT) (it prints how to talk to it). Ctrl-C stops.
SANDBOX_PORT ?= 8081
run: venv
ifdef TELEGRAM_BOT_TOKEN
	POLLING_ENABLED=$${POLLING_ENABLED:-1} $(BIN)/tradebotd run
else
	$(BIN)/tradebotd sandbox --port $(SANDBOX_PORT)
endif

# Everything, the container end-to-end test included (E2E=0 skips that one, saying so).
test: venv lint
	$(BIN)/pytest

# Only the end-to-end test: make install inside a booted systemd container (needs root
# and systemd-nspawn).
e2e: venv
	$(BIN)/pytest -m container

lint: venv
	$(BIN)/ruff check daemon tests bench
	$(BIN)/ruff format --check daemon tests bench
	$(BIN)/mypy daemon

format: venv
	$(BIN)/ruff check --fix daemon tests bench
	$(BIN)/ruff format daemon tests bench

# On a VPS, as root (docs/deploy.md): the service, its timers, /etc/tradebotd, the venv.
install:
	scripts/install.sh

upgrade:
	scripts/install.sh --upgrade

uninstall:
	scripts/uninstall.sh

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
