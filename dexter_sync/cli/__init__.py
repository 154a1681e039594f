"""Click commands, one module per verb, wired in `main.py` behind one error boundary.

Only this package prints. Exit codes (README, Stable interfaces): 0 success, 1 error,
2 plan has changes (`--detailed-exitcode`), 3 apply finished with changes failed or not
attempted.
"""
