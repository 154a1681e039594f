"""One module per Sentry resource kind, plus the registry that lists them.

A kind knows its manifest model, natural key, payload building, normalization (both sides
go through the same canonical form), export, and which API calls read and write it.
Loader, schema, docs, planner, facade, apply and emulator seeding all iterate the registry:
adding a kind is one module and one line in `registry.py`.
"""
