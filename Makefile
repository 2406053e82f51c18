# Baiying developer entry points. Everything runs on the host (no Docker):
# deploy/local/*.sh manage PostgreSQL+PostGIS and Kafka under .state/.
#
#   make install   OS packages + editable install with dev extras
#   make infra     start postgres (5432) + kafka (9092); idempotent
#   make test      install + infra + pytest   (PYTEST_ARGS='-k foo -x')
#   make run       install + infra + `baiying run` (migrate, seed, serve all)
#   make lint      ruff + mypy
#   make bench     every benchmark, one JSON document on stdout (BENCH_ARGS='--quick')
#   make down      stop postgres + kafka (data kept in .state/)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
PYTEST_ARGS ?= -q tests
MYPY_ARGS ?=

# Where the local infra listens (see deploy/local/postgres.sh, kafka.sh).
export BAIYING_DATABASE_URL ?= postgresql://baiying:baiying@127.0.0.1:$(or $(BAIYING_PG_PORT),5432)/baiying
export BAIYING_KAFKA_BOOTSTRAP ?= 127.0.0.1:$(or $(BAIYING_KAFKA_PORT),9092)

# Debian's system python refuses `pip install` outside a venv (PEP 668).
# CI installs into the system interpreter on a throwaway machine, so allow it;
# harmless for pyenv/venv pythons.
export PIP_BREAK_SYSTEM_PACKAGES ?= 1
export PIP_DISABLE_PIP_VERSION_CHECK ?= 1
export PIP_ROOT_USER_ACTION ?= ignore

# The `baiying` console script lives in the interpreter's scripts dir, which
# may not be on PATH (pyenv shims need a rehash; /usr/local/bin for root).
# Recursive variable: evaluated after `install` has run.
BAIYING ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/baiying

BENCH_ARGS ?=

.PHONY: help install infra test run lint down status bench

help:
	@sed -n 's/^#   make /  make /p' $(MAKEFILE_LIST)

install:
	deploy/local/install.sh
	$(PYTHON) -m pip install -q -e '.[dev]'

infra:
	deploy/local/infra.sh up

# infra.sh would re-run install.sh; `install` already did it.
test: install
	BAIYING_SKIP_INSTALL=1 deploy/local/infra.sh up
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Benchmarks are not tests: they never gate CI. Stdout carries only the JSON document,
# so everything else (make's echo, install, infra) goes to stderr.
bench:
	@$(MAKE) --no-print-directory install >&2
	@BAIYING_SKIP_INSTALL=1 deploy/local/infra.sh up >&2
	@$(PYTHON) -m bench.run_all $(BENCH_ARGS)

run: install
	BAIYING_SKIP_INSTALL=1 deploy/local/infra.sh up
	$(BAIYING) run

# mypy cannot follow setuptools' folder-to-package mapping (shared/ -> baiying_shared),
# so it checks a tree of symlinks with the import names.
TYPECHECK_PACKAGES := baiying_shared=shared baiying_registry=services/registry \
  baiying_dispatcher=services/dispatcher baiying_notifier=services/notifier \
  baiying_sandbox=services/sandbox baiying_cli=services/cli baiying_consoles=services/consoles

lint:
	$(PYTHON) -m ruff check .
	rm -rf .typecheck && mkdir -p .typecheck
	for pair in $(TYPECHECK_PACKAGES); do ln -s "$(CURDIR)/$${pair#*=}" ".typecheck/$${pair%%=*}"; done
	MYPYPATH=.typecheck $(PYTHON) -m mypy $(MYPY_ARGS) $(foreach p,$(TYPECHECK_PACKAGES),-p $(firstword $(subst =, ,$(p))))

down:
	deploy/local/infra.sh down

status:
	deploy/local/infra.sh status
