# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package `make` installs, at exact versions with hashes; `make lock` rewrites it from pyproject.toml.
LOCK := requirements.lock
UV_VERSION := 0.13.9

.PHONY: run test lint typecheck pytest lock clean vendor vendor-check

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

# Browser assets under api/ui/static/vendor, from npm at the versions package-lock.json pins (only this
# and vendor-check need node; `make run` and `make test` use the committed files). npm works in build/.
VENDOR := api/ui/static/vendor
NPM_DIR := build/npm
vendor:
	@command -v npm >/dev/null 2>&1 || { echo "make vendor needs node and npm"; exit 1; }
	rm -rf $(NPM_DIR) && mkdir -p $(NPM_DIR) $(VENDOR)
	cp package.json package-lock.json $(NPM_DIR)/
	cd $(NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	cp $(NPM_DIR)/node_modules/elkjs/lib/elk.bundled.js $(VENDOR)/elk.bundled.js
	cp $(NPM_DIR)/node_modules/elkjs/LICENSE.md $(VENDOR)/elk.LICENSE.md
	cp $(NPM_DIR)/node_modules/uplot/dist/uPlot.iife.min.js $(VENDOR)/uplot.min.js
	cp $(NPM_DIR)/node_modules/uplot/dist/uPlot.min.css $(VENDOR)/uplot.min.css
	cp $(NPM_DIR)/node_modules/uplot/LICENSE $(VENDOR)/uplot.LICENSE
	cp $(NPM_DIR)/node_modules/axe-core/axe.min.js $(VENDOR)/axe.min.js
	cp $(NPM_DIR)/node_modules/axe-core/LICENSE $(VENDOR)/axe.LICENSE
	cp $(NPM_DIR)/node_modules/axe-core/LICENSE-3RD-PARTY.txt $(VENDOR)/axe.LICENSE-3RD-PARTY.txt
	cp api/ui/vendor_src/codemirror.js $(NPM_DIR)/codemirror.entry.js
	cd $(NPM_DIR) && ./node_modules/.bin/esbuild codemirror.entry.js --bundle \
		--format=esm --minify --legal-comments=none --target=es2020 --log-level=warning \
		--outfile=$(CURDIR)/$(VENDOR)/codemirror.js
	cd $(NPM_DIR)/node_modules && for package in @codemirror/* @lezer/* @marijn/* crelt style-mod w3c-keyname; do \
		printf '%s %s\n\n' "$$package" "$$(node -p "require('./$$package/package.json').version")"; \
		cat $$package/LICENSE*; printf '\n'; done > $(CURDIR)/$(VENDOR)/codemirror.LICENSE

# CI: rebuild the vendored files and fail if they differ from the committed ones (or are new).
vendor-check: vendor
	git diff --exit-code -- $(VENDOR) package.json package-lock.json
	@test -z "$$(git status --porcelain -- $(VENDOR))" || { git status --short -- $(VENDOR); \
		echo "vendored files not committed (make vendor, then commit $(VENDOR))"; exit 1; }

clean:
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
