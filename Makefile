# The two commands from the README. Both create .venv on first use.
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint clean-venv

## run: the tactic comparison on the default organisation (every scenario x 20 seeds)
run: $(STAMP)
	$(PYTHON) -m experiments.compare_tactics

## test: the test suite (exit 5, "no tests collected", fails like any other failure)
test: $(STAMP)
	$(PYTHON) -m pytest

lint: $(STAMP)
	$(PYTHON) -m ruff check sim experiments tests notebooks hydra_plugins
	$(PYTHON) -m ruff format --check sim experiments tests notebooks hydra_plugins

$(STAMP): pyproject.toml
	@./.ci/ensure-venv "$(VENV)"
	@touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
