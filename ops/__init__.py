"""The operator command line: validate, simulate, runbook, rehearse, bench (`python -m ops --help`)."""
