"""Extract the response schemas the emulator's OpenAPI test needs from Sentry's published
documents (../shared/sentry-api/) into tests/data/sentry-openapi-subset.json, so the test runs
wherever the repository is cloned. Run: python tests/data/openapi_subset.py [SENTRY_API_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUBSET = HERE / "sentry-openapi-subset.json"
DEFAULT_API_DIR = HERE.parents[2] / "shared" / "sentry-api"


def extract(api_dir: Path, wanted: list[tuple[str, str, str, str]]) -> dict:
    """{document: {"paths": {path: {method: {"responses": {status: ...}}}}}} for `wanted`."""
    out: dict = {}
    documents: dict[str, dict] = {}
    for doc, path, method, status in sorted(set(wanted)):
        if doc not in documents:
            documents[doc] = json.loads((api_dir / doc).read_text())
        response = documents[doc]["paths"][path][method]["responses"][status]
        slot = out.setdefault(doc, {"paths": {}})["paths"].setdefault(path, {})
        slot.setdefault(method, {"responses": {}})["responses"][status] = response
    return out


def wanted_by_tests() -> list[tuple[str, str, str, str]]:
    sys.path.insert(0, str(HERE.parents[1]))
    from tests.test_emulator_openapi import TABLE, UPDATES, WRITES

    return [tuple(row[:4]) for row in TABLE + WRITES + UPDATES]


if __name__ == "__main__":
    api_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_API_DIR
    SUBSET.write_text(json.dumps(extract(api_dir, wanted_by_tests()), indent=1,
                                 sort_keys=True) + "\n")
    print(f"wrote {SUBSET} ({SUBSET.stat().st_size} bytes)")
