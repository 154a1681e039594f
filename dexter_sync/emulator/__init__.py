"""The Sentry API emulator: a Starlette app over a SQLite store that answers the subset of
Sentry's REST API that dexter uses, with Sentry's validation, response normalizations,
pagination, rate-limit headers and awkward habits (REFERENCE.md), plus fault injection and
admin endpoints for tests and benchmarks.

It stands beside the dexter stack: nothing here imports from dexter_sync outside this
package. `create_app(EmulatorConfig(...))` builds the ASGI app (`app.state.store` is the
store); `testing.running_emulator()` serves it on a loopback port.
"""

from .app import create_app
from .config import EmulatorConfig, FaultSettings, QuirkSettings, RateLimitSettings
from .store import Store

__all__ = ["EmulatorConfig", "FaultSettings", "QuirkSettings", "RateLimitSettings", "Store",
           "create_app"]
