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
NODE_STAMP := node_modules/.installed
# cdk-nag, aws-cdk-lib and constructs: their own package (security/package.json), some 8,400 files.
CDK_STAMP := security/node_modules/.installed
# Every Python environment is installed from a lock with hashes: .venv from uv.lock
# (pyproject.toml, with the dev extra), each tool from tools/<tool>.lock.txt
# (compiled from tools/<tool>.in). `make lock` after editing those inputs,
# `make upgrade` to move every lock to the newest versions the inputs allow.
# uv itself: pinned in tools/uv.in, installed with pip --require-hashes.
UV_DIR := .tools/uv
UV := $(UV_DIR)/bin/uv
UV_STAMP := $(UV_DIR)/.installed
# uv uses the Python the Makefile is given, never one it downloads.
export UV_PYTHON_DOWNLOADS := never
# The locks of tools/: uv itself, the build backend of the editable install, checkov, taskcat.
TOOL_LOCKS := uv build checkov taskcat
COMPILE := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock (or make upgrade)'
# Bytecode is written on a module's first import and read by every later process (test workers,
# moto servers, command lines, checkov and taskcat): with PYTHONDONTWRITEBYTECODE set, each would
# compile what it imports again. Compiling only what is imported beats compiling every installed
# module up front (8,500 files, most never imported: 19 s of CPU before pytest could start).
unexport PYTHONDONTWRITEBYTECODE
# make test: the checks beside pytest (and their installs) yield the CPU to pytest, the longest.
BESIDE := nice -n 10
# make test: checkov and taskcat lint start once cdk-nag's npm ci is done (order only). That install
# (8,400 files) takes half as long again with them running beside it (measured: 9.4 s alone, 15.5 s
# beside two niced CPU-bound processes). Empty: a check run alone starts at once.
AFTER_NODE ?=
# checkov pins boto3 1.35 and networkx<2.7: it gets its own virtualenv.
CHECKOV_VENV := .tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# taskcat pins cfn-lint<2 and old jsonschema/urllib3: its own virtualenv too.
TASKCAT_VENV := .tools/taskcat
TASKCAT_STAMP := $(TASKCAT_VENV)/.installed
TASKCAT_CONFIG := $(BUILD)/taskcat/.taskcat.yml
# make test: pytest's workers (pytest-xdist); `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= auto
# More pytest arguments, e.g. make pytest PYTEST_ARGS='-k deploy'.
PYTEST_ARGS ?=

CLI := $(PY) -m templates_src
RULES_DOC := docs/rules.md
WORKFLOWS := $(wildcard .github/workflows/*.yml)

# Exit codes: the command (python -m templates_src ...) exits 0 ok, 1 AWS
# failure, 2 bad input, 3 refused by a guard; make reports any failure as 2.
# CI that needs the exact code calls the command, not make.

.PHONY: help synth lint test pytest rule-packs bootstrap lock upgrade check bench clean security checkov cdk-nag migration-example access-report local plan deploy \
	destroy moto-server taskcat-lint taskcat rules cost check-build pr-comment adopt drift import mutation migrate

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Bootstrap output goes to stderr: `make plan FORMAT=markdown > comment.md` keeps stdout for the plan.
# uv, from PyPI with the machine's pip (the one tool not installed by uv), checked against its hashes.
$(UV_STAMP): tools/uv.lock.txt
	@echo "make: installing uv into $(UV_DIR) from tools/uv.lock.txt" >&2
	@rm -rf $(UV_DIR)
	@PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--require-hashes --no-deps --only-binary :all: --target $(UV_DIR) -r tools/uv.lock.txt >&2
	@touch $@

# The locked dependencies, then the project itself, editable (compat: a .pth naming this
# directory, so .venv imports the working tree's templates_src), built by the locked setuptools.
$(STAMP): pyproject.toml uv.lock tools/build.lock.txt $(UV_STAMP)
	@echo "make: creating $(VENV) from uv.lock" >&2
	@$(UV) sync --quiet --locked --python $(PYTHON) --extra dev --no-install-project >&2
	@$(UV) pip install --quiet --python $(PY) --no-deps --editable . --config-setting editable_mode=compat \
		--build-constraints tools/build.lock.txt --require-build-hashes >&2
	@touch $@

# Test-time only: the AGPL IAM simulator, exactly as package-lock.json pins it.
$(NODE_STAMP): package.json package-lock.json
	@echo "make: installing node_modules from package-lock.json" >&2
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Test-time only too: cdk-nag's packs (security/cdk_nag.mjs), exactly as security/package-lock.json pins them.
$(CDK_STAMP): security/package.json security/package-lock.json
	@echo "make: installing security/node_modules from security/package-lock.json" >&2
	@$(BESIDE) npm ci --prefix security --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_STAMP): tools/checkov.lock.txt $(UV_STAMP)
	@echo "make: creating $(CHECKOV_VENV) from tools/checkov.lock.txt" >&2
	@$(UV) venv --quiet --allow-existing --python $(PYTHON) $(CHECKOV_VENV)
	@$(BESIDE) $(UV) pip sync --quiet --python $(CHECKOV_VENV)/bin/python --require-hashes tools/checkov.lock.txt
	@touch $@

$(TASKCAT_STAMP): tools/taskcat.lock.txt $(UV_STAMP)
	@echo "make: creating $(TASKCAT_VENV) from tools/taskcat.lock.txt" >&2
	@$(UV) venv --quiet --allow-existing --python $(PYTHON) $(TASKCAT_VENV)
	@$(BESIDE) $(UV) pip sync --quiet --python $(TASKCAT_VENV)/bin/python --require-hashes tools/taskcat.lock.txt
	@touch $@

bootstrap: $(STAMP) $(NODE_STAMP) $(CDK_STAMP) $(CHECKOV_STAMP) $(TASKCAT_STAMP) ## Install every environment make test uses (make -j bootstrap: side by side)

# Re-compiles each tools/<tool>.lock.txt from its .in, starting from its pins ($(1): --upgrade to
# drop them); a lock is replaced only when it changes, so only a changed one re-installs.
define compile_tool_locks
	@for t in $(TOOL_LOCKS); do lock=tools/$$t.lock.txt; echo "$(COMPILE) $(1) tools/$$t.in -o $$lock"; \
		cp $$lock $$lock.new && $(COMPILE) $(1) tools/$$t.in -o $$lock.new || { rm -f $$lock.new; exit 1; }; \
		if cmp -s $$lock.new $$lock; then rm $$lock.new; else mv $$lock.new $$lock; fi; done
endef

lock: $(UV_STAMP) ## Re-lock after editing pyproject.toml or tools/*.in; every pin the inputs still allow is kept
	$(UV) lock --python $(PYTHON)
	$(call compile_tool_locks,)

upgrade: $(UV_STAMP) ## Move every lock to the newest versions its inputs allow, re-install, re-render build/, show the diff
	$(UV) lock --python $(PYTHON) --upgrade
	$(call compile_tool_locks,--upgrade)
	npm update --package-lock-only --no-audit --no-fund --loglevel=error
	npm update --prefix security --package-lock-only --no-audit --no-fund --loglevel=error
	@$(MAKE) --no-print-directory -j4 --output-sync=target bootstrap
	@$(MAKE) --no-print-directory synth
	@echo "== the upgrade, in the locks (review, run make test, commit):"
	@git diff --stat -- uv.lock tools/ package-lock.json
	@echo "== and in build/, the generated templates:"
	@git diff --stat -- build/; git status --porcelain --untracked-files=all -- build/ | grep -v '^ M' || true
	@git diff --quiet -- build/ && test -z "$$(git status --porcelain -- build/)" && echo "build/ unchanged" || true

# The deploy workflow is generated too (build/ci/deploy.yml); synth writes it where GitHub reads it.
DEPLOY_WORKFLOW := .github/workflows/deploy.yml
synth: $(STAMP) ## Render build/ (and the deploy workflow) from environments/ and the designs (no AWS account needed)
	@$(CLI) synth --out $(BUILD)

lint: $(STAMP) ## cfn-lint every template (one process, informational checks included), ruff, mypy, workflow schema
	$(VENV)/bin/cfn-lint --include-checks I -- '$(TEMPLATES)'
	$(VENV)/bin/ruff check templates_src tests scripts security
	$(VENV)/bin/ruff format --check templates_src tests scripts security
	$(VENV)/bin/mypy
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)

# The environments install side by side, and each check starts as soon as what it needs is
# there; each one's output is printed whole when it ends, and every check runs even when one fails.
# pytest's closing line is printed again last, whichever check ended last, after a FAILED line if any job failed.
PYTEST_LOG := .pytest_cache/make-test.log
# pytest starts without cdk-nag's install, the longest: its one test that needs it runs as a job of its own.
test: ## Run every test: checkov, taskcat lint, cdk-nag's packs and pytest, side by side
	@rm -f $(PYTEST_LOG)
	@$(MAKE) --no-print-directory --jobs=5 --output-sync=target --keep-going checkov taskcat-lint rule-packs pytest \
		PYTEST_TEE=$(PYTEST_LOG) AFTER_NODE=$(CDK_STAMP) PYTEST_NEEDS='$(STAMP) $(NODE_STAMP)' \
		PYTEST_ARGS='--ignore=$(RULE_PACKS_TEST) $(PYTEST_ARGS)'; status=$$?; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED: see the 'make[1]: ***' lines above for which jobs"; fi; \
	echo "make test: pytest: $$(tail -n 1 $(PYTEST_LOG) 2>/dev/null)"; exit $$status

# Under pytest-xdist (PYTEST_WORKERS) the modules whose AWS calls tests/test_deploy_role_calls.py
# simulates run in one worker with it (tests/conftest.py: pytest_xdist_make_scheduler).
RULE_PACKS_TEST := tests/test_rule_packs.py
PYTEST_NEEDS ?= $(STAMP) $(NODE_STAMP) $(CDK_STAMP)
pytest: $(PYTEST_NEEDS) ## pytest alone, every test (make test runs it beside checkov, taskcat-lint and rule-packs)
	$(if $(PYTEST_TEE),@mkdir -p $(dir $(PYTEST_TEE)))
	$(if $(PYTEST_TEE),set -o pipefail; )$(PY) -m pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS)) $(PYTEST_ARGS)$(if \
		$(PYTEST_TEE), 2>&1 | tee $(PYTEST_TEE))

rule-packs: $(STAMP) $(CDK_STAMP) ## cdk-nag's packs over every template, the known-bad one failing (tests/test_rule_packs.py)
	$(BESIDE) $(PY) -m pytest -p no:cacheprovider $(RULE_PACKS_TEST)

# No design in build/ migrates: the migration stacks are scanned from the test fixture moved to generation 2.
MIGRATION_EXAMPLE := .tools/migration-example
security: checkov cdk-nag ## checkov and cdk-nag (AwsSolutions, HIPAA, NIST 800-53) over build/ and the migration stacks, offline

# Rendered again on every run (a phony target: once per make run), as the fixture may have changed.
migration-example: $(STAMP) | $(AFTER_NODE)
	@$(BESIDE) $(PY) -m tests.migration_designs $(MIGRATION_EXAMPLE) 2>/dev/null

checkov: $(CHECKOV_STAMP) migration-example | $(AFTER_NODE) ## checkov over build/ and the migration stacks (make security's first half)
	@# checkov through security/checkov_run.py: JSONPath's parse table built once, not per expression
	@# (~10 s of the scan); its self-check first proves the reused table parses as the stock one.
	$(BESIDE) $(CHECKOV_VENV)/bin/python security/checkov_run.py --self-check
	@# Every template in one run, each named (-f): checkov given two directories reports one of them twice.
	BC_SKIP_MAPPING=TRUE $(BESIDE) $(CHECKOV_VENV)/bin/python security/checkov_run.py \
		$$(find $(BUILD) $(MIGRATION_EXAMPLE)/scan -name '*.template.json' | sort | sed 's/^/-f /') \
		--framework cloudformation --skip-download --compact --quiet

# make test runs the packs as rule-packs (tests/test_rule_packs.py): over these templates and the fixtures'.
cdk-nag: $(CDK_STAMP) migration-example ## cdk-nag's packs over build/ and the migration stacks (make security's second half)
	$(BESIDE) node security/cdk_nag.mjs --with-build $(MIGRATION_EXAMPLE)/scan/*.template.json

local: $(STAMP) ## Deploy to a moto server on 127.0.0.1, load samples, run every access pattern (DESIGN=<name> or ENV=dev)
	@$(CLI) local $(if $(DESIGN),--design $(DESIGN),--env $(or $(ENV),dev))

plan: synth ## Offline plan of build/ENV against git BASE (default HEAD), or DEPLOYED=1 the deployed stacks; FORMAT=, ALLOW=
	@test -n "$(ENV)" || { echo "usage: make plan ENV=<env> [BASE=<git ref> | DEPLOYED=1] [ALLOW=G00x]" >&2; exit 2; }
	@$(CLI) plan --env $(ENV) $(if $(DEPLOYED),--deployed,--base $(or $(BASE),HEAD)) $(if $(ALLOW),--allow $(ALLOW)) $(if $(FORMAT),--format $(FORMAT))

check-build: synth ## Fail when build/ differs from what make synth renders (CI and the pre-commit hook)
	@git diff --exit-code --stat -- build/ $(DEPLOY_WORKFLOW) && test -z "$$(git status --porcelain --untracked-files=all -- build/)" \
		|| { echo "build/ is not what make synth renders: commit the regenerated files" >&2; exit 1; }

pr-comment: $(STAMP) ## Every environment's plan as one PR comment (Markdown) against BASE; LABELS=allow:G00x,...
	@test -n "$(BASE)" || { echo "usage: make pr-comment BASE=<git ref> [LABELS=allow:G00x]" >&2; exit 2; }
	@$(MAKE) --no-print-directory synth
	@$(CLI) pr-comment --base $(BASE) $(if $(LABELS),--labels "$(LABELS)")

adopt: $(STAMP) ## Write a design and environment from an existing table: TABLE= ENV= [REGION=] [DESIGN=] [TRAFFIC=<CloudTrail logs>] [FORCE=1]
	@test -n "$(TABLE)" -a -n "$(ENV)" || { echo "usage: make adopt TABLE=<table> ENV=<env> [REGION=<region>] [DESIGN=<name>] [TRAFFIC=<logs>]" >&2; exit 2; }
	@$(CLI) adopt --table $(TABLE) --env $(ENV) --region $(or $(REGION),$(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1) $(if $(DESIGN),--design $(DESIGN)) $(if $(TRAFFIC),--traffic $(TRAFFIC)) $(if $(FORCE),--force)

drift: $(STAMP) ## Compare ENV's live table with build/ENV/ (exit 4 when drifted); FORMAT=markdown
	@test -n "$(ENV)" || { echo "usage: make drift ENV=<env> [FORMAT=markdown]" >&2; exit 2; }
	@$(CLI) drift --env $(ENV) $(if $(FORMAT),--format $(FORMAT))

cost: $(STAMP) ## Monthly cost and capacity of ENV under its traffic profile (offline); FORMAT=markdown|json
	@test -n "$(ENV)" || { echo "usage: make cost ENV=<env> [FORMAT=markdown|json]" >&2; exit 2; }
	@$(CLI) cost --env $(ENV) $(if $(FORMAT),--format $(FORMAT))

deploy: $(STAMP) ## Change-set deploy of ENV's data then access stack (boto3; honours AWS_ENDPOINT_URL); ALLOW=<guard id>
	@test -n "$(ENV)" || { echo "usage: make deploy ENV=<env> [ALLOW=G00x]" >&2; exit 2; }
	@$(CLI) deploy --env $(ENV) $(if $(ALLOW),--allow $(ALLOW))

migrate: $(STAMP) ## Move ENV's table to its design's new key schema (docs/migrations.md); ROLLBACK=1; ALLOW=G001 retires the old
	@test -n "$(ENV)" || { echo "usage: make migrate ENV=<env> [ROLLBACK=1] [ALLOW=G001] [BUCKET=<s3 bucket>]" >&2; exit 2; }
	@$(CLI) migrate --env $(ENV) $(if $(ROLLBACK),--rollback) $(if $(ALLOW),--allow $(ALLOW)) $(if $(BUCKET),--bucket $(BUCKET))

import: $(STAMP) ## Take ENV's adopted (or released) table into its data stack: an IMPORT change set (an administrator runs it)
	@test -n "$(ENV)" || { echo "usage: make import ENV=<env>" >&2; exit 2; }
	@$(CLI) deploy --env $(ENV) --import

destroy: $(STAMP) ## Delete ENV's stacks (access first); refused for protected environments such as prod
	@test -n "$(ENV)" || { echo "usage: make destroy ENV=<env>" >&2; exit 2; }
	@$(CLI) destroy --env $(ENV)

moto-server: $(STAMP) ## A local AWS endpoint for `make deploy` (PORT=5000, ACCOUNT=111111111111: set the env's account)
	MOTO_ACCOUNT_ID=$(or $(ACCOUNT),111111111111) $(PY) -m templates_src.local.moto_shim -H 127.0.0.1 -p $(or $(PORT),5000)

taskcat-lint: $(TASKCAT_STAMP) | $(AFTER_NODE) ## taskcat lint of build/taskcat/.taskcat.yml, offline, in its own virtualenv
	@# taskcat through scripts/taskcat_lint.py: each template linted once per set of Regions, where taskcat
	@# lints every template again for every test; what it reports is the same.
	$(BESIDE) $(TASKCAT_VENV)/bin/python scripts/taskcat_lint.py lint --input-file $(TASKCAT_CONFIG) --project-root .

taskcat: $(TASKCAT_STAMP) ## Multi-region test deployments with taskcat (needs a real AWS account; not run here)
	$(TASKCAT_VENV)/bin/taskcat test run --input-file $(TASKCAT_CONFIG) --project-root .

access-report: synth ## Print who may do what, per environment (also in build/<env>/access-report.md)
	@$(CLI) report $(if $(ENV),--env $(ENV))

rules: $(STAMP) ## List every spec rule and plan guard by ID; writes docs/rules.md
	@$(CLI) rules --format markdown > $(RULES_DOC).tmp && mv $(RULES_DOC).tmp $(RULES_DOC)
	@$(CLI) rules

check: synth lint test ## synth + lint + test

# Not part of make test (too slow): the covered modules are [tool.mutmut] only_mutate in pyproject.toml.
MUTATION_BUDGET ?= 5400
mutation: $(STAMP) $(NODE_STAMP) $(CDK_STAMP) ## Mutation testing (mutmut) of the guards, grants, spec rules, key policies, live reader; MUTATION_BUDGET=<s>
	@MUTATION_BUDGET=$(MUTATION_BUDGET) $(PY) scripts/mutation.py

bench: $(STAMP) ## Time `make synth` against its floor (importing exactly the libraries synth loads); fails when over 1.3x
	@$(PY) scripts/bench.py

clean: ## Remove the virtualenvs and caches (build/ is committed and stays)
	rm -rf $(VENV) .tools node_modules security/node_modules .pytest_cache *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
