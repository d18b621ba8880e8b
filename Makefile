# The two commands of the quick start: `make run` and `make test`.
# Each creates its own virtual environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint typecheck clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed
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
