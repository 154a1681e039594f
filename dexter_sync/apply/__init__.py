"""Apply: a Plan -> dependency-ordered waves -> concurrent writes through the facade -> ApplyReport.

waves.py      pure: which changes may run together, in which order
executor.py   running the waves concurrently, stopping when the circuit breaker opens
creating.py   create safety: a POST is never retried blindly (look up by natural key first)
changing.py   updates and deletes (idempotent; a delete answered 404 is already done)
tasks.py      following Sentry's 202 `{"uuid"}` rule tasks until they settle
pending.py    the durable record of the rule tasks a create started and has not seen end
earlier_tasks.py  settling the tasks an earlier (killed) run left in that record
failures.py   what a failed write means next: rejected, ambiguous, rate-limited, breaker
ports.py      what apply needs from the facade (a Protocol) and the one write helper
progress.py   a progress bar on a terminal, plain lines otherwise (stderr)
report.py     ApplyReport and its text/json rendering, exit codes

No printing here except through the progress sink the CLI hands in; no httpx (the facade
owns HTTP). Identity is the natural key, never a local state file (the pending-task record
only holds back creates that a running Sentry task may still make).
"""
