"""dexter: a config-as-code reconciler for Sentry.

Layers (each imports only the ones below it; see README "Architecture"):
cli -> manifest / planner (core) / render / apply -> facade / gateway / client (sentry)
The emulator stands beside the stack and imports nothing above it.
"""

__version__ = "0.1.0"
