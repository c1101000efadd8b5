# Two entry points for a fresh machine: `make rehearse` (the main job) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup rehearse test lint typecheck unit bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

setup: $(STAMP)

rehearse: setup
	$(PY) -m ops validate --stack sim
	$(PY) -m ops rehearse lifecycle --stack sim

lint: setup
	$(PY) -m ruff check .

typecheck: setup
	$(PY) -m mypy
	$(PY) -m mypy policy/policies.py

unit: setup
	$(PY) -m pytest -n 2 --dist loadfile -q

test: lint typecheck unit

bench: setup
	$(PY) -m ops bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .entsso
