# jifen — `make run` serves the demo company, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup system python node assets messages run serve worker demo test test-fast lint format clean

setup: system python node assets messages

system:
	@bash scripts/setup-system.sh

python: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

node: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

assets: python node
	$(BIN)/python scripts/build_assets.py

# Compile the translations (.mo files are build output, not committed).
messages:
	@for po in $$(find src/jifen/locale -name '*.po' 2>/dev/null); do msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 1; done

run: setup
	$(BIN)/jifen migrate --no-input -v 0
	$(BIN)/jifen demo --if-empty
	# Plain log lines for a person at a terminal (production keeps one JSON object per line).
	JIFEN_LOG_FORMAT=text $(BIN)/jifen serve --host $(HOST) --port $(PORT) --with-worker

test: setup
	$(BIN)/python scripts/run_tests.py

# Only SQLite, no browser: the quick loop while coding.
test-fast: python
	$(BIN)/pytest -q -m "not browser" -n 2

# ruff, then the layering contract ([tool.importlinter] in pyproject.toml) and the type
# check of services and selectors ([tool.mypy]), both reading this checkout's src/ rather
# than wherever the venv installed jifen from.
lint: python
	$(BIN)/ruff check src tests bench scripts
	PYTHONPATH=src $(BIN)/lint-imports
	PYTHONPATH=src $(BIN)/mypy

# Lint fixes only; the code is wrapped by hand (docs/decisions/0005-lint-not-formatter.md).
format: python
	$(BIN)/ruff check --fix src tests bench scripts

clean:
	rm -rf $(VENV) node_modules src/jifen/static/vendor var/static
