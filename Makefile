# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package `make` installs, at exact versions with hashes; `make lock` rewrites it from pyproject.toml.
LOCK := requirements.lock
UV_VERSION := 0.13.9

.PHONY: run test lint typecheck pytest lock clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The locked versions only, then the project itself (editable) without resolving anything again;
# `pip check` fails if pyproject.toml asks for something the lock lacks (run `make lock`).
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

# Re-resolve the lock from pyproject.toml (dependencies and the dev extra, for every platform),
# keeping locked versions that still fit; `make lock UPGRADE=1` moves everything to the newest.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) --quiet -o $(LOCK)

run: $(STAMP)
	$(BIN)/journeys up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

clean:
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
