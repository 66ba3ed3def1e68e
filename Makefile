# make lab   - create .venv, install dockdojo, open the lessons in JupyterLab
# make test  - (root, Debian) install and start the test world, then run every check
# make bench - the benchmarks, on the same world

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab test bench venv clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

lab: venv
	$(BIN)/dockdojo lab

test: venv
	bash tests/run.sh test

bench: venv
	bash tests/run.sh bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
