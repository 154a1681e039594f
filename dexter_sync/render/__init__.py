"""Plan rendering: one neutral PlanView (redaction applied) and thin formatters over it.

view.py       Plan -> PlanView (values formatted once, sensitive values masked)
text.py       terminal text (+ / ~ / -, colour only on a terminal without NO_COLOR)
markdown.py   PR-comment markdown, kept under GitHub's 65,536-character comment limit
jsonplan.py   the stable JSON of DESIGN.md "Stable interfaces" (format_version 1)
planfile.py   saved plans (`--out plan.json`): write, read with checks, stale detection
templates/    the jinja2 templates the text and markdown formatters fill

Formatters never walk the Plan themselves: they read the PlanView. No I/O here except
planfile.py, which reads and writes the saved plan file it is given.
"""
