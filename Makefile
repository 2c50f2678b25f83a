# Every target bootstraps .venv from plain python3; nothing else needs to be installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 4010
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: serve test sdk-suite catalog-live lint format typecheck bench soak fixtures wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

serve: $(STAMP_RUN)
	$(BIN)/avara-mock serve --host $(HOST) --port $(PORT)

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP_TEST)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP_TEST)
	$(BIN)/mypy
	$(BIN)/mypy --strict -p bench

# `test` collects tests/test_sdk_suite.py with the rest, so it runs the SDK's suite too. Two
# pytest-xdist workers, one a core: each worker starts its own session-wide live server.
test: lint typecheck
	$(BIN)/python -m pytest -n 2

# The pinned SDK's own four generated Viewer test files (studies, users, users' invitations,
# ephemeral sessions; its sdist, cached in .venv/sdk-suite/), enabled and run in one pytest
# against `serve --stateless`.
sdk-suite: $(STAMP_TEST)
	$(BIN)/python -m pytest tests/test_sdk_suite.py

bench: $(STAMP_TEST)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/plugin.py
	$(BIN)/python bench/contract.py
	$(BIN)/python bench/durable.py

# Ten minutes of mixed load on `serve --state FILE --workers 2` (not in `make test`): RSS and
# open files of each worker and p99 every 30 s, then every invariant checked; exit 1 if one
# fails. `make soak SOAK_MINUTES=2` for a shorter one.
SOAK_MINUTES ?= 10
soak: $(STAMP_TEST)
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES)

fixtures: $(STAMP_TEST)
	$(BIN)/python -m contract_tests.create.cases fixtures/create-requests.json

wheel: $(STAMP_TEST)
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache

# `avara-mock contract` against every defect of tests/catalog_stateful.py served live (`make
# test` serves a sample: LIVE_SAMPLE in tests/test_suite_stateful_catalog.py).
catalog-live: $(STAMP_TEST)
	AVARA_CATALOG_LIVE_ALL=1 $(BIN)/python -m pytest tests/test_suite_stateful_catalog.py -k test_cli
