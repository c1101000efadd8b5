# Two entry points for a fresh machine: `make rehearse` (the main job) and `make test` (the suite).
# Both run the real Pulumi engine: `make cli` puts the pinned Pulumi CLI (tools/pulumi-cli/go.mod) in place,
# from PATH when pulumi is that version or newer, else built once per machine from the Go module proxy into
# ~/.cache/entsso-cluster/pulumi/<version> (needs Go 1.26; several minutes on a cold Go cache).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The sim stack's secrets are encrypted under this published sample passphrase: it protects nothing real
# (lab and prod have passphrases of their own). `make rehearse` hands it to the Pulumi CLI.
SIM_PASSPHRASE := entsso-sim-sample-passphrase

.PHONY: setup cli rehearse test lint typecheck unit bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

setup: $(STAMP)

cli: setup
	$(PY) -m ops.pulumi_cli

rehearse: setup cli
	PULUMI_CONFIG_PASSPHRASE=$(SIM_PASSPHRASE) $(PY) -m ops validate --stack sim
	PULUMI_CONFIG_PASSPHRASE=$(SIM_PASSPHRASE) $(PY) -m ops lifecycle --stack sim

lint: setup
	$(PY) -m ruff check .

typecheck: setup
	$(PY) -m mypy
	$(PY) -m mypy policy/policies.py
	$(PY) -m mypy tools/pulumi-cli/plugins/guarded_host.py

unit: setup cli
	$(PY) -m pytest -n 2 --dist loadfile -q

test: lint typecheck unit

bench: setup cli
	$(PY) -m ops bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .entsso
