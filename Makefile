# Baiying developer entry points. Everything runs on the host (no Docker):
# deploy/local/*.sh manage PostgreSQL+PostGIS and Kafka under .state/.
#
#   make install   OS packages + .venv synced from uv.lock (project editable, dev group)
#   make lock      re-resolve uv.lock after changing dependencies in pyproject.toml
#   make infra     start postgres (5432) + kafka (9092); idempotent
#   make test      install + infra + pytest   (PYTEST_ARGS='-k foo -x')
#   make run       install + infra + `baiying run` (migrate, seed, serve all)
#   make lint      ruff + mypy strict (pinned in uv.lock); CI runs it after the tests
#   make bench     every benchmark, one JSON document on stdout (BENCH_ARGS='--quick')
#   make down      stop postgres + kafka (data kept in .state/)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Every target runs the project's own venv (deploy/local/venv.sh), never the system python.
PYTHON ?= .venv/bin/python
PYTEST_ARGS ?= -q tests
MYPY_ARGS ?=

# Where the local infra listens (see deploy/local/postgres.sh, kafka.sh).
export BAIYING_DATABASE_URL ?= postgresql://baiying:baiying@127.0.0.1:$(or $(BAIYING_PG_PORT),5432)/baiying
export BAIYING_KAFKA_BOOTSTRAP ?= 127.0.0.1:$(or $(BAIYING_KAFKA_PORT),9092)

# The `baiying` console script of the interpreter above (.venv/bin/baiying).
# Recursive variable: evaluated after `install` has run.
BAIYING ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/baiying

BENCH_ARGS ?=

.PHONY: help install venv lock infra test run lint down status bench

help:
	@sed -n 's/^#   make /  make /p' $(MAKEFILE_LIST)

install:
	deploy/local/install.sh
	deploy/local/venv.sh sync

lock:
	deploy/local/venv.sh lock

infra:
	deploy/local/infra.sh up

# infra.sh would re-run install.sh; `install` already did it.
# The browser tests are part of "all the tests": chromium is installed for them, and a run
# without it fails (tests/consoles/browser.py) instead of skipping them.
test: export BAIYING_INSTALL_BROWSER := 1
test: export BAIYING_REQUIRE_BROWSER := 1
test: install
	BAIYING_SKIP_INSTALL=1 deploy/local/infra.sh up
	deploy/local/keycloak.sh up
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Benchmarks are not tests: they never gate CI. Stdout carries only the JSON document,
# so everything else (make's echo, install, infra) goes to stderr.
bench:
	@$(MAKE) --no-print-directory install >&2
	@BAIYING_SKIP_INSTALL=1 deploy/local/infra.sh up >&2
	@$(PYTHON) -m bench.run_all $(BENCH_ARGS)

run: install
	BAIYING_SKIP_INSTALL=1 deploy/local/infra.sh up
	if [ "$${BAIYING_IDP:-dev}" = keycloak ]; then deploy/local/keycloak.sh up; fi
	$(BAIYING) run

# mypy cannot follow setuptools' folder-to-package mapping (shared/ -> baiying_shared),
# so it checks a tree of symlinks with the import names.
TYPECHECK_PACKAGES := baiying_shared=shared baiying_registry=services/registry \
  baiying_dispatcher=services/dispatcher baiying_notifier=services/notifier \
  baiying_sandbox=services/sandbox baiying_cli=services/cli baiying_consoles=services/consoles

# The venv alone (no OS packages, no infra): enough for lint.
venv:
	deploy/local/venv.sh sync

lint: venv
	$(PYTHON) -m ruff check .
	rm -rf .typecheck && mkdir -p .typecheck
	for pair in $(TYPECHECK_PACKAGES); do ln -s "$(CURDIR)/$${pair#*=}" ".typecheck/$${pair%%=*}"; done
	MYPYPATH=.typecheck $(PYTHON) -m mypy $(MYPY_ARGS) $(foreach p,$(TYPECHECK_PACKAGES),-p $(firstword $(subst =, ,$(p))))

down:
	deploy/local/infra.sh down

status:
	deploy/local/infra.sh status
