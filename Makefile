# Two commands on a fresh clone: `make run` serves the site, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test mutation warm venv dev clean

run: $(VENV)/.installed
	$(BIN)/streamlit run app.py

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# Mutation testing of the numerical core (mutmut, one module at a time against its own tests),
# not part of `make test`: scores and survivors in assets/benchmarks/mutation/. One module, or
# only the last run's survivors: .venv/bin/python -m benchmarks.mutation --help
mutation: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.mutation

# Before a lecture: every page's computations for camera at sigma 25, working size 512, kept
# in the on-disk store (.store, or DDT_STORE) that `make run` reads after any restart. Other
# images, noise levels or pages: .venv/bin/python -m benchmarks.warm --start --help
warm: $(VENV)/.installed
	$(BIN)/python -m benchmarks.warm --start

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

clean:
	rm -rf $(VENV)
