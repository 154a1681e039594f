"""`python -m dexter_sync.cli` runs the `dexter` command (used by tests and the Action)."""

from .main import main

main()
