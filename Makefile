# The two commands of the quick start: `make run` and `make test`.
# Each creates the virtual environment in .venv on first use: `make run` installs what running
# needs, `make test` adds the test tools.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# -qq: errors only. pip relays the build backend's warnings even with one -q, and an editable
# install always draws some (setuptools warns about folders named like the package).
PIP := $(BIN)/python -m pip -qq

.PHONY: run test lint typecheck clean bench-tools

# What running needs: the package and its dependencies.
$(BIN)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# Plus the test tools (pytest, ruff, mypy ...): the `test` extra.
$(BIN)/.installed: $(BIN)/.installed-run
	$(PIP) install -e '.[test]'
	touch $@

run: $(BIN)/.installed-run
	$(BIN)/diplograph serve --load examples/story.json

test: $(BIN)/.installed
	$(BIN)/ruff check diplograph loader api tests bench
	$(BIN)/ruff format --check diplograph loader api tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check diplograph loader api tests bench
	$(BIN)/ruff format --check diplograph loader api tests bench

clean:
	rm -rf $(VENV) data

# The programs the benchmarks drive besides Python (bench/README.md): wrk, the HTTP load generator
# of bench/isolation.py and bench/http_queries.py. Debian or Ubuntu; as root, or SUDO=sudo.
bench-tools:
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y wrk
