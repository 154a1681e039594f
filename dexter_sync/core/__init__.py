"""Pure values and functions: source positions, diagnostics, requests, changes, plans,
normalization and diffing, ordering, safety.

No httpx, no file I/O, no clock in this package: everything here is a function over values,
so the planner can be tested and benchmarked without a server.
"""
