# Conversation-table infrastructure as code. `make help` lists the targets.
# Every target bootstraps the virtualenv it needs on first use (stamp files),
# so a fresh clone needs no other step.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD := build
TEMPLATES := $(BUILD)/**/*.template.json

.PHONY: help synth lint test check bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]' --config-settings editable_mode=compat
	@touch $@

synth: $(STAMP) ## Render build/ from environments/ and the designs (no AWS account needed)
	@$(PY) -m templates_src.synth --out $(BUILD)

lint: $(STAMP) ## cfn-lint every template under build/ in one process, informational checks included
	$(VENV)/bin/cfn-lint --include-checks I -- '$(TEMPLATES)'

test: $(STAMP) ## Run the test suite (snapshot, lint, semantics, bad input)
	$(PY) -m pytest

check: synth lint test ## synth + lint + test

bench: $(STAMP) ## Time `make synth` against importing the runtime libraries alone
	@$(PY) scripts/bench.py

clean: ## Remove the virtualenvs and caches (build/ is committed and stays)
	rm -rf $(VENV) .pytest_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
