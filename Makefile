# make lab   - create .venv, install dockdojo with JupyterLab (.[lab]), open the lessons
# make test  - (root, Debian) also install the development tools (.[dev]), install and
#              start the test world, then run every check
# make bench - the benchmarks, on the same world (with the development tools)
#
# Each install leaves a stamp in .venv and is done again when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab test bench venv clean

$(BIN)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	touch $@

$(BIN)/.installed-lab: pyproject.toml | $(BIN)/.created
	$(BIN)/pip install -q -e '.[lab]'
	touch $@

$(BIN)/.installed-dev: pyproject.toml | $(BIN)/.created
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed-lab

lab: $(BIN)/.installed-lab
	$(BIN)/dockdojo lab

test: $(BIN)/.installed-dev
	bash tests/run.sh test

bench: $(BIN)/.installed-dev
	bash tests/run.sh bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
