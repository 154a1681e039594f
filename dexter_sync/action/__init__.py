"""The GitHub Action's steps (`action.yml` at the repository root runs `dexter action`).

Beside the CLI, not under it: these modules read GitHub's runner interface (inputs as
environment variables, the event payload, the output and summary files), run the `dexter`
command itself as a subprocess (so the Action obeys exactly the documented exit codes), and
talk to GitHub's REST API for the pull-request comment. Nothing here talks to Sentry.

    runner.py      inputs, step outputs, job summary, the pull-request event
    running.py     runs `dexter plan` / `dexter apply` and reads their answers
    masking.py     the tokens, masked in everything a step prints or writes
    body.py        plan -> comment body under GitHub's 65,536-character limit, with a marker
    comments.py    GitHub REST: find the comment by its marker, update it or create one
    steps.py       the `plan` and `apply` steps, wiring the above together
"""
