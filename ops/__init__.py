"""The operator command line (`python -m ops --help`): validate, simulate, runbook, up, preview, refresh,
destroy, lifecycle, bench."""
