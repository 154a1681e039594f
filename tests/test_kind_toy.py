"""A new kind is one module, one registration and its emulator routes, nothing else.

The test writes a toy kind to a temporary module (it registers itself), adds one route to a
running emulator, and drives the real CLI through validate, plan, apply, plan again and
export against it. It runs in a subprocess so the toy registration never leaks into the
registry the other tests see.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

TOY_KIND = '''
"""A toy kind: organization-level named things with a colour."""

from __future__ import annotations

from typing import Any

from dexter_sync.core.changes import ResourceChange
from dexter_sync.core.directory import Directory
from dexter_sync.core.requests import ApiRequest, path_segment
from dexter_sync.kinds.base import EntryModel, ListRequest, ReadContext, ResourceKind
from dexter_sync.kinds.registry import register


class ToyEntry(EntryModel):
    name: str
    colour: str = "red"


class ToyKind(ResourceKind[ToyEntry]):
    name = "toy"
    section = "toys"
    entry_model = ToyEntry
    title = "A toy."

    def key(self, entry: ToyEntry) -> str:
        return entry.name

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data["name"])

    def build_payload(self, entry: ToyEntry, *, directory: Directory) -> dict[str, Any]:
        return {"name": entry.name, "colour": entry.colour}

    def canonical(self, entry: ToyEntry, *, directory: Directory) -> dict[str, Any]:
        return {"name": entry.name, "colour": entry.colour.lower()}

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> ToyEntry:
        return ToyEntry(name=data["name"], colour=data["colour"])

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        return [ListRequest(ApiRequest("GET", self._base(ctx.organization)), paged=False)]

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("POST", self._base(organization), json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("PUT", self._base(organization) + f"{change.live_id}/",
                          json=change.payload)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", self._base(organization) + f"{change.live_id}/")

    @staticmethod
    def _base(organization: str) -> str:
        return f"organizations/{path_segment(organization)}/toys/"


register(ToyKind())
'''

DRIVER = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import toy_kind  # noqa: F401  - registers the kind

from click.testing import CliRunner
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dexter_sync.cli.main import cli
from dexter_sync.emulator.routing import build_routes
from dexter_sync.emulator.testing import running_emulator

TOYS: dict[str, dict] = {}


async def toys(request: Request) -> Response:
    ident = request.path_params.get("toy_id")
    if request.method == "GET":
        return JSONResponse(sorted(TOYS.values(), key=lambda t: t["id"]))
    if request.method == "POST":
        body = await request.json()
        toy = {"id": str(len(TOYS) + 1), "name": body["name"], "colour": body["colour"].upper()}
        TOYS[toy["id"]] = toy
        return JSONResponse(toy, status_code=201)
    if ident not in TOYS:
        return JSONResponse({"detail": "The requested resource does not exist"}, 404)
    if request.method == "PUT":
        TOYS[ident].update({"colour": (await request.json())["colour"].upper()})
        return JSONResponse(TOYS[ident])
    del TOYS[ident]
    return Response(status_code=204)


root = sys.argv[2]
out = {}
with running_emulator() as emu:
    emu.app.router.routes[:0] = build_routes(
        [("/organizations/{org}/toys/", ["GET", "POST"], toys),
         ("/organizations/{org}/toys/{toy_id}/", ["PUT", "DELETE"], toys)],
        prefix="/api/0", kind="api")
    env = {"SENTRY_URL": emu.url, "SENTRY_AUTH_TOKEN": emu.token}
    runner = CliRunner()

    def dexter(*args):
        result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        return {"code": result.exit_code, "out": result.output}

    out["validate"] = dexter("validate", f"{root}/manifests")
    out["plan"] = dexter("plan", f"{root}/manifests", "--detailed-exitcode", "--format", "json")
    out["apply"] = dexter("apply", f"{root}/manifests", "--auto-approve")
    out["toys_after_apply"] = sorted(TOYS.values(), key=lambda t: t["id"])
    out["replan"] = dexter("plan", f"{root}/manifests", "--detailed-exitcode")
    TOYS["1"]["colour"] = "GREEN"  # changed outside dexter
    out["drift"] = dexter("plan", f"{root}/manifests", "--detailed-exitcode", "--format", "json")
    out["repair"] = dexter("apply", f"{root}/manifests", "--auto-approve")
    out["export"] = dexter("export", "--org", "acme", "--kinds", "toys", "--out",
                           f"{root}/exported")
    out["plan_exported"] = dexter("plan", f"{root}/exported", "--detailed-exitcode")
print(json.dumps(out))
'''


def test_a_toy_kind_validates_plans_applies_and_exports(tmp_path: Path) -> None:
    (tmp_path / "toy_kind.py").write_text(TOY_KIND)
    (tmp_path / "driver.py").write_text(DRIVER)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "dexter.yaml").write_text(
        "version: 1\norganization: acme\ninclude: [toys.yaml]\n")
    (manifests / "toys.yaml").write_text(textwrap.dedent("""\
        toys:
          - name: ball
            colour: blue
          - name: kite
        """))
    done = subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(tmp_path),
                           str(tmp_path)], capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])

    assert out["validate"]["code"] == 0, out["validate"]
    assert out["plan"]["code"] == 2, out["plan"]
    planned = json.loads(out["plan"]["out"])
    assert sorted((c["action"], c["kind"], c["key"]) for c in planned["changes"]) == [
        ("create", "toy", "ball"), ("create", "toy", "kite")]
    assert out["apply"]["code"] == 0, out["apply"]
    assert out["toys_after_apply"] == [{"id": "1", "name": "ball", "colour": "BLUE"},
                                       {"id": "2", "name": "kite", "colour": "RED"}]
    assert out["replan"]["code"] == 0, out["replan"]  # BLUE live == blue declared
    drift = json.loads(out["drift"]["out"])
    assert out["drift"]["code"] == 2
    assert [(c["action"], c["key"]) for c in drift["changes"]] == [("update", "ball")]
    assert out["repair"]["code"] == 0, out["repair"]
    assert out["export"]["code"] == 0, out["export"]
    exported = "".join(p.read_text() for p in sorted((tmp_path / "exported").rglob("*.yaml")))
    assert "name: ball" in exported and "name: kite" in exported
    assert out["plan_exported"]["code"] == 0, out["plan_exported"]
