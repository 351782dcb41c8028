# The two commands from the README. Both create .venv on first use.
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run decompose view diagnose test lint bytecode clean-venv

## run: the tactic comparison on the default organisation (every scenario x (100 draws of the assumptions + 20 seeds at the defaults))
run: $(STAMP) bytecode
	$(PYTHON) -m experiments.compare_tactics

## decompose: why each tactic works: each mechanism alone and left out (default org, 10 seeds);
## the comparison report (make run) embeds the newest one of its organisation
decompose: $(STAMP) bytecode
	$(PYTHON) -m experiments.decompose

## view: the live view in the browser (http://127.0.0.1:8765/; Ctrl-C stops it); options as
## for python -m sim.view, e.g. make view ARGS="org=small scenario=liaison port=9000"
view: $(STAMP) bytecode
	$(PYTHON) -m sim.view $(ARGS)

## diagnose: your funnel: fit the model to a CRM export (the example) and rank the tactics for it
diagnose: $(STAMP) bytecode
	$(PYTHON) -m experiments.diagnose data=examples/export.csv team=examples/team.yaml

## test: the test suite, on every core (pytest-xdist; pyproject.toml's addopts); exit 5, "no
## tests collected", fails like any other failure
test: $(STAMP) bytecode
	$(PYTHON) -m pytest

lint: $(STAMP)
	$(PYTHON) -m ruff check sim experiments tests notebooks hydra_plugins
	$(PYTHON) -m ruff format --check sim experiments tests notebooks hydra_plugins

# Compiled once here, so that every process a sweep starts does not compile the package again
# (an editable install is not byte-compiled, and PYTHONDONTWRITEBYTECODE=1 stops Python
# from saving what it compiles). Up-to-date files are skipped.
bytecode: $(STAMP)
	@$(PYTHON) -m compileall -q sim experiments hydra_plugins

$(STAMP): pyproject.toml
	@./.ci/ensure-venv "$(VENV)"
	@touch $(STAMP)

clean-venv:
	rm -rf $(VENV)
