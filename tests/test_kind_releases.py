"""Kinds release and deploy: payloads (REFERENCE.md §5, §6), get-or-create and PUT split,
normalization hazards (int ids, project order, finalization), deploy listing, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dexter_sync.core.changes import Action, FieldChange, ResourceChange
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.directory import Directory
from dexter_sync.core.state import DesiredResource, LiveObject, LiveState
from dexter_sync.kinds.base import ListRequest, ReadContext
from dexter_sync.kinds.deploys import DeployKind, format_instant
from dexter_sync.kinds.releases import ReleaseEntry, ReleaseKind
from tests import helpers_kinds as helpers
from tests.helpers_kinds import manifest_errors, read_live, send

RELEASES = ReleaseKind()
DEPLOYS = DeployKind()
DIRECTORY = Directory("acme", projects={"backend": "11", "frontend": "12"})


def release(**fields) -> ReleaseEntry:
    return ReleaseEntry.model_validate({"version": "backend@1.4.0", "projects": ["backend"], **fields})


def live_release(**overrides) -> dict:
    """A release as Sentry answers it (REFERENCE.md §5, Response): ids are ints."""
    data = {
        "id": 501, "version": "backend@1.4.0", "shortVersion": "1.4.0", "status": "open",
        "versionInfo": {"package": "backend", "version": {"raw": "1.4.0"}, "description": "1.4.0",
                        "buildHash": None},
        "ref": None, "url": None, "dateReleased": None, "dateCreated": "2024-05-01T09:00:00.123456Z",
        "data": {}, "newGroups": 0, "owner": None, "commitCount": 3, "lastCommit": None,
        "deployCount": 1, "lastDeploy": None, "authors": [],
        "projects": [{"id": 11, "slug": "backend", "name": "Backend", "newGroups": 0,
                      "platform": "python", "platforms": ["python"], "hasHealthData": False}],
        "firstEvent": None, "lastEvent": None, "currentProjectMeta": {}, "userAgent": None,
    }
    data.update(overrides)
    return data


def canonical_live(data: dict) -> dict:
    return RELEASES.canonical(RELEASES.entry_from_live(data, directory=DIRECTORY), directory=DIRECTORY)


def differing(desired: dict, live: dict) -> set[str]:
    return {k for k, v in desired.items() if live.get(k) != v}


def project(pid: int, slug: str) -> dict:
    return {"id": pid, "slug": slug, "name": slug.title(), "newGroups": 0, "platform": None,
            "platforms": [], "hasHealthData": False}


# ---- payloads ---------------------------------------------------------------------------


def test_create_payload_is_sentry_post_body():
    desired = release(projects=["frontend", "backend"], ref="v1.4.0", url="https://ci/1",
                      date_released="2024-05-01T12:00:00Z", status="open", owner="ann@acme.io",
                      commits=[{"id": "a" * 40, "repository": "acme/backend", "message": "fix",
                                "author_name": "Ann", "author_email": "ann@acme.io",
                                "timestamp": "2024-05-01T08:00:00Z",
                                "patch_set": [{"path": "app.py", "type": "M"}]}],
                      refs=[{"repository": "acme/backend", "commit": "b" * 40, "previous_commit": "c" * 40}])
    assert RELEASES.build_payload(desired, directory=DIRECTORY) == {
        "version": "backend@1.4.0", "projects": ["backend", "frontend"], "ref": "v1.4.0",
        "url": "https://ci/1", "dateReleased": "2024-05-01T12:00:00.000000Z",
        "commits": [{"id": "a" * 40, "repository": "acme/backend", "message": "fix",
                     "author_name": "Ann", "author_email": "ann@acme.io",
                     "timestamp": "2024-05-01T08:00:00.000000Z",
                     "patch_set": [{"path": "app.py", "type": "M"}]}],
        "refs": [{"repository": "acme/backend", "commit": "b" * 40, "previousCommit": "c" * 40}],
        "status": "open", "owner": "ann@acme.io",
    }


def test_finalized_without_date_uses_last_deploy_end():
    desired = release(finalized=True, deploys=[
        {"environment": "staging", "date_finished": "2024-05-01T10:00:00Z"},
        {"environment": "production", "date_finished": "2024-05-01T11:30:00Z"}])
    assert RELEASES.build_payload(desired, directory=DIRECTORY)["dateReleased"] == "2024-05-01T11:30:00.000000Z"
    assert RELEASES.build_payload(release(finalized=False), directory=DIRECTORY)["dateReleased"] is None


def test_create_is_get_or_create_and_idempotent():
    change = ResourceChange(Action.CREATE, "release", "backend@1.4.0", payload={"version": "backend@1.4.0"})
    request = RELEASES.create_request("acme", change)
    assert (request.method, request.path) == ("POST", "organizations/acme/releases/")
    assert RELEASES.create_is_idempotent() is True


def _update(diff_fields: list[str], payload: dict) -> ResourceChange:
    return ResourceChange(Action.UPDATE, "release", "backend@1.4.0+build 7", live_id="501",
                          payload=payload, diff=tuple(FieldChange((f,), None, 1) for f in diff_fields))


def test_update_of_fields_is_put_with_put_fields_only_and_encoded_version():
    payload = {"version": "backend@1.4.0+build 7", "projects": ["backend"], "ref": "v2", "owner": "x"}
    [request] = RELEASES.update_requests("acme", _update(["ref"], payload))
    assert request.method == "PUT"
    assert request.path == "organizations/acme/releases/backend%401.4.0%2Bbuild%207/"
    assert request.json == {"ref": "v2"}


def test_adding_projects_is_a_post_with_full_list_then_put():
    payload = {"version": "v", "projects": ["backend", "frontend"], "url": "https://x"}
    [only] = RELEASES.update_requests("acme", _update(["projects"], payload))
    assert (only.method, only.json["projects"]) == ("POST", ["backend", "frontend"])
    post, put = RELEASES.update_requests("acme", _update(["projects", "url"], payload))
    assert (post.method, put.method, put.json) == ("POST", "PUT", {"url": "https://x"})


def test_listing_reads_open_and_archived_releases_of_scope_projects():
    listings = RELEASES.list_requests(_ctx())
    assert [(l.request.path, l.request.params) for l in listings] == [
        ("organizations/acme/releases/", {"per_page": 100, "project": ["11"], "status": "open"}),
        ("organizations/acme/releases/", {"per_page": 100, "project": ["11"], "status": "archived"})]


def test_delete_path():
    change = ResourceChange(Action.DELETE, "release", "1.0", live_id="9")
    assert RELEASES.delete_request("acme", change).path == "organizations/acme/releases/1.0/"


# ---- normalization hazards ------------------------------------------------------------


def test_int_ids_and_release_project_order_compare_equal():
    desired = RELEASES.canonical(release(projects=["frontend", "backend"]), directory=DIRECTORY)
    data = live_release(projects=[project(12, "frontend"), project(11, "backend")])
    assert differing(desired, canonical_live(data)) == set()
    obj = RELEASES.to_live_object(data, ListRequest(RELEASES.list_requests(_ctx())[0].request),
                                  directory=DIRECTORY)
    assert (obj.key, obj.id) == ("backend@1.4.0", "501")


def test_release_made_by_sentry_cli_is_matched_by_version():
    # sentry-cli's `releases new` then `finalize`: no ref/url, dateReleased set by finalize.
    data = live_release(dateReleased="2024-05-01T12:00:00.654321Z")
    desired = RELEASES.canonical(release(finalized=True), directory=DIRECTORY)
    assert RELEASES.live_key(data, directory=DIRECTORY, project=None, parent=None) == RELEASES.key(release())
    assert differing(desired, canonical_live(data)) == set()


def test_finalized_compares_presence_of_release_date():
    desired = RELEASES.canonical(release(finalized=True), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_release())) == {"finalized"}
    unfinal = RELEASES.canonical(release(finalized=False), directory=DIRECTORY)
    assert differing(unfinal, canonical_live(live_release(dateReleased="2024-05-01T12:00:00Z"))) == {"finalized"}


def test_date_released_compares_as_instant():
    desired = RELEASES.canonical(release(date_released="2024-05-01T14:00:00+02:00"), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_release(dateReleased="2024-05-01T12:00:00Z"))) == set()


def test_derived_fields_never_compared():
    desired = RELEASES.canonical(release(), directory=DIRECTORY)
    noisy = live_release(commitCount=99, deployCount=7, lastDeploy={"id": "1"}, newGroups=4)
    assert differing(desired, canonical_live(noisy)) == set()
    assert set(canonical_live(noisy)) <= {"version", "projects", "ref", "url", "status",
                                          "finalized", "date_released"}


@pytest.mark.parametrize("field_name,value,live_key,live_value", [
    ("ref", "v1.4.0", "ref", "v1.4.0"),
    ("url", "https://ci/7", "url", "https://ci/7"),
    ("status", "archived", "status", "archived"),
    ("projects", ["backend", "frontend"], "projects", [project(11, "backend"), project(12, "frontend")]),
])
def test_one_field_change_differs_in_exactly_that_field(field_name, value, live_key, live_value):
    desired = RELEASES.canonical(release(**{field_name: value}), directory=DIRECTORY)
    assert differing(desired, canonical_live(live_release())) == {field_name}
    assert differing(desired, canonical_live(live_release(**{live_key: live_value}))) == set()


def test_export_round_trip():
    data = live_release(ref="v1.4.0", dateReleased="2024-05-01T12:00:00Z", status="open",
                        projects=[project(12, "frontend"), project(11, "backend")])
    exported = RELEASES.export(data, directory=DIRECTORY)
    assert exported == {"version": "backend@1.4.0", "projects": ["backend", "frontend"],
                        "ref": "v1.4.0", "date_released": "2024-05-01T12:00:00Z"}
    reparsed = ReleaseEntry.model_validate(exported)
    assert differing(RELEASES.canonical(reparsed, directory=DIRECTORY), canonical_live(data)) == set()


# ---- validation ------------------------------------------------------------------------


@pytest.mark.parametrize("fields,message", [
    ({"version": "latest"}, "reserved"),
    ({"version": ".."}, "reserved"),
    ({"version": "a/b"}, "may not contain '/'"),
    ({"version": "a\tb"}, "may not contain"),
    ({"version": "   "}, "may not be empty"),
    ({"version": "v" * 201}, "at most 200 characters"),
    ({"projects": []}, "at least 1 item"),
    ({"projects": ["backend", "backend"]}, "listed twice"),
    ({"status": "closed"}, "'open' or 'archived'"),
    ({"finalized": False, "date_released": "2024-05-01T00:00:00Z"}, "contradicts"),
    ({"commits": [{"id": "a", "patch_set": [{"path": "x", "type": "X"}]}]}, "'A', 'M' or 'D'"),
    ({"deploys": [{"environment": "prod/eu"}]}, "may not contain `/`"),
    ({"deploys": [{"environment": "e" * 65}]}, "at most 64 characters"),
    ({"deploys": [{"environment": "production", "projects": ["frontend"]}]}, "not in the release: frontend"),
    ({"deploys": [{"environment": "production", "name": "a"}, {"environment": "production", "name": "b"}]},
     "one deploy per environment"),
    ({"deploys": [{"environment": "p", "date_started": "2024-05-02T00:00:00Z",
                   "date_finished": "2024-05-01T00:00:00Z"}]}, "must not be after"),
    ({"finalised": True}, "Extra inputs are not permitted"),
])
def test_validation_errors(fields, message):
    with pytest.raises(ValidationError, match=message):
        release(**fields)


def test_deploys_to_one_environment_for_disjoint_projects_are_allowed():
    ok = release(projects=["backend", "frontend"], deploys=[
        {"environment": "production", "projects": ["backend"]},
        {"environment": "production", "projects": ["frontend"], "name": "web"}])
    assert [DEPLOYS.key(d) for _, d, _ in RELEASES.children(ok)] == [
        "backend@1.4.0/production/", "backend@1.4.0/production/web"]


# ---- deploys -----------------------------------------------------------------------------


def _deploys_release() -> ReleaseEntry:
    return release(deploys=[{"environment": "production", "name": "deploy-7", "url": "https://ci/7",
                             "date_started": "2024-05-01T10:00:00Z",
                             "date_finished": "2024-05-01T10:05:00Z"}])


def _ctx(desired: list[DesiredResource] = (), live: LiveState | None = None) -> ReadContext:
    return ReadContext("acme", DIRECTORY, ["backend"], desired=list(desired), live=live)


def test_children_carry_the_release_version_and_path():
    [(kind, deploy, path)] = RELEASES.children(_deploys_release())
    assert (kind, path) == ("deploy", ("deploys", 0))
    assert DEPLOYS.key(deploy) == "backend@1.4.0/production/deploy-7"
    assert DEPLOYS.build_payload(deploy, directory=DIRECTORY) == {
        "environment": "production", "name": "deploy-7", "url": "https://ci/7",
        "dateStarted": "2024-05-01T10:00:00.000000Z", "dateFinished": "2024-05-01T10:05:00.000000Z"}


def test_deploy_listing_reads_only_declared_and_live_releases():
    [(_, deploy, _)] = RELEASES.children(_deploys_release())
    other = release(version="2.0", deploys=[{"environment": "staging"}])
    [(_, missing, _)] = RELEASES.children(other)
    desired = [DesiredResource("deploy", DEPLOYS.key(d), d, parent_key=p)
               for d, p in ((deploy, "backend@1.4.0"), (missing, "2.0"))]
    live = LiveState(DIRECTORY, {"release": [
        LiveObject("release", "backend@1.4.0", "501", live_release()),
        LiveObject("release", "0.9", "400", live_release(version="0.9"))]})
    [listing] = DEPLOYS.list_requests(_ctx(desired, live))
    assert listing.request.path == "organizations/acme/releases/backend%401.4.0/deploys/"
    assert listing.parent == "backend@1.4.0"


def test_deploy_listing_matches_latest_deploy_per_environment():
    # The list holds only the latest deploy per project x environment (REFERENCE.md §6).
    listing = ListRequest(DEPLOYS.list_requests(_ctx(
        [DesiredResource("deploy", "k", RELEASES.children(_deploys_release())[0][1], parent_key="backend@1.4.0")],
        LiveState(DIRECTORY, {"release": [LiveObject("release", "backend@1.4.0", "501", live_release())]}),
    ))[0].request, parent="backend@1.4.0")
    body = [{"id": "77", "environment": "production", "dateStarted": "2024-05-01T10:00:00Z",
             "dateFinished": "2024-05-01T10:05:00.000000Z", "name": "deploy-7", "url": "https://ci/7"},
            {"id": "78", "environment": "staging", "dateStarted": None,
             "dateFinished": "2024-05-01T09:00:00Z", "name": None, "url": None}]
    objects = [DEPLOYS.to_live_object(d, listing, directory=DIRECTORY) for d in DEPLOYS.items(body, listing)]
    assert [o.key for o in objects] == ["backend@1.4.0/production/deploy-7", "backend@1.4.0/staging/"]
    [(_, deploy, _)] = RELEASES.children(_deploys_release())
    desired = DEPLOYS.canonical(deploy, directory=DIRECTORY)
    live = DEPLOYS.canonical(DEPLOYS.entry_from_live(objects[0].data, directory=DIRECTORY), directory=DIRECTORY)
    assert differing(desired, live) == set()


def test_deploy_is_create_only():
    assert (DEPLOYS.prunable, DEPLOYS.updatable, DEPLOYS.child_of, DEPLOYS.depends_on) == (
        False, False, "release", ("release",))
    change = ResourceChange(Action.CREATE, "deploy", "backend@1.4.0/production/", payload={"environment": "production"},
                            parent_key="backend@1.4.0")
    request = DEPLOYS.create_request("acme", change)
    assert (request.method, request.path) == ("POST", "organizations/acme/releases/backend%401.4.0/deploys/")
    with pytest.raises(DexterError):
        DEPLOYS.delete_request("acme", change)


def test_format_instant_is_sentry_format():
    assert format_instant("2024-05-01T12:00:00+02:00") == "2024-05-01T10:00:00.000000Z"


# ---- against the emulator (in-process, httpx ASGI transport) ----------------------------------


def on_emulator(scenario):
    return helpers.on_emulator(scenario, projects=["backend", "frontend"],
                               environments=["production"])


def test_emulator_round_trip_release_and_deploys():
    desired = release(version="backend@2.0.0+7", projects=["frontend", "backend"], ref="v2.0.0",
                      url="https://ci/7", date_released="2024-05-01T12:00:00Z", deploys=[
                          {"environment": "production", "name": "deploy-7", "url": "https://ci/d/7",
                           "date_started": "2024-05-01T11:00:00Z", "date_finished": "2024-05-01T11:10:00Z"}])

    async def scenario(client, directory):
        payload = RELEASES.build_payload(desired, directory=directory)
        change = ResourceChange(Action.CREATE, "release", desired.version, payload=payload)
        first = await send(client, RELEASES.create_request("acme", change))
        again = await send(client, RELEASES.create_request("acme", change))
        assert (first.status_code, again.status_code) == (201, 208)  # get-or-create
        ctx = ReadContext("acme", directory, ["backend", "frontend"])
        [live] = await read_live(client, RELEASES, ctx)
        assert live.key == desired.version
        assert differing(RELEASES.canonical(desired, directory=directory),
                         RELEASES.canonical(RELEASES.entry_from_live(live.data, directory=directory),
                                            directory=directory)) == set()
        [(_, deploy, _)] = RELEASES.children(desired)
        dchange = ResourceChange(Action.CREATE, "deploy", DEPLOYS.key(deploy), parent_key=desired.version,
                                 payload=DEPLOYS.build_payload(deploy, directory=directory))
        assert (await send(client, DEPLOYS.create_request("acme", dchange))).status_code == 201
        dctx = ReadContext("acme", directory, ["backend"], live=LiveState(directory, {"release": [live]}),
                           desired=[DesiredResource("deploy", DEPLOYS.key(deploy), deploy,
                                                    parent_key=desired.version)])
        [dlive] = await read_live(client, DEPLOYS, dctx)
        assert dlive.key == DEPLOYS.key(deploy)
        assert DEPLOYS.canonical(deploy, directory=directory) == DEPLOYS.canonical(
            DEPLOYS.entry_from_live(dlive.data, directory=directory), directory=directory)
        # An out-of-band edit shows as exactly that field; the PUT puts it back.
        await client.put(f"/api/0/{_enc_path(desired.version)}", json={"ref": "hotfix"})
        [drifted] = await read_live(client, RELEASES, ctx)
        live_canon = RELEASES.canonical(RELEASES.entry_from_live(drifted.data, directory=directory),
                                        directory=directory)
        assert differing(RELEASES.canonical(desired, directory=directory), live_canon) == {"ref"}
        [put] = RELEASES.update_requests("acme", ResourceChange(
            Action.UPDATE, "release", desired.version, payload=payload,
            diff=(FieldChange(("ref",), "hotfix", "v2.0.0"),)))
        assert (await send(client, put)).status_code == 200
        [healed] = await read_live(client, RELEASES, ctx)
        assert healed.data["ref"] == "v2.0.0"

    on_emulator(scenario)


def _enc_path(version: str) -> str:
    from dexter_sync.core.requests import path_segment
    return f"organizations/acme/releases/{path_segment(version)}/"


def test_emulator_release_made_like_sentry_cli_is_adopted_not_duplicated():
    async def scenario(client, directory):
        # sentry-cli: `releases new 3.1.0 -p backend`, then `releases finalize 3.1.0`.
        await client.post("/api/0/organizations/acme/releases/", json={"version": "3.1.0", "projects": ["backend"]})
        await client.put(f"/api/0/{_enc_path('3.1.0')}", json={"dateReleased": "2024-05-02T08:00:00Z"})
        desired = release(version="3.1.0", projects=["backend", "frontend"], finalized=True)
        ctx = ReadContext("acme", directory, ["backend", "frontend"])
        [live] = await read_live(client, RELEASES, ctx)
        canon = RELEASES.canonical(RELEASES.entry_from_live(live.data, directory=directory), directory=directory)
        assert differing(RELEASES.canonical(desired, directory=directory), canon) == {"projects"}
        [post] = RELEASES.update_requests("acme", ResourceChange(
            Action.UPDATE, "release", "3.1.0", payload=RELEASES.build_payload(desired, directory=directory),
            diff=(FieldChange(("projects",), ["backend"], ["backend", "frontend"]),)))
        assert (post.method, (await send(client, post)).status_code) == ("POST", 201)
        objects = await read_live(client, RELEASES, ctx)
        assert [o.key for o in objects] == ["3.1.0"]  # one release, now on both projects
        canon = RELEASES.canonical(RELEASES.entry_from_live(objects[0].data, directory=directory),
                                   directory=directory)
        assert differing(RELEASES.canonical(desired, directory=directory), canon) == set()

    on_emulator(scenario)


def test_emulator_archived_release_is_listed():
    async def scenario(client, directory):
        desired = release(version="0.9.0", status="archived")
        payload = RELEASES.build_payload(desired, directory=directory)
        await send(client, RELEASES.create_request("acme", ResourceChange(Action.CREATE, "release", "0.9.0",
                                                                           payload=payload)))
        objects = await read_live(client, RELEASES, ReadContext("acme", directory, ["backend"]))
        assert [(o.key, o.data["status"]) for o in objects] == [("0.9.0", "archived")]

    on_emulator(scenario)


# ---- through the manifest loader: errors carry file:line ---------------------------------------


def test_manifest_errors_name_file_line_and_field(tmp_path):
    error = manifest_errors(tmp_path, "releases.yaml",
        "releases:\n"
        "  - version: latest\n"
        "    projects: [backend]\n"
        "  - version: backend@1.0\n"
        "    projects: [backend]\n"
        "    deploys:\n"
        "      - {environment: prod/eu}\n"
        "  - version: backend@1.1\n"
        "    projects: [backend]\n"
        "    finalized: false\n"
        "    date_released: 2024-05-01T00:00:00Z\n"
        "    deploys:\n"
        "      - {environment: production, name: a}\n"
        "      - {environment: production, name: b}\n")
    found = {(d.span.line, d.path[-1]) for d in error.diagnostics}
    assert found == {(2, "version"), (7, "environment"), (10, "finalized"), (13, "deploys")}
    assert "is reserved" in str(error) and "may not contain `/`" in str(error)


def test_manifest_release_with_deploys_loads_children_with_parent(tmp_path):
    from dexter_sync.manifest import load_manifests

    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [releases.yaml]\n")
    (tmp_path / "releases.yaml").write_text(
        "releases:\n"
        "  - version: backend@1.0\n"
        "    projects: [backend]\n"
        "    finalized: true\n"
        "    deploys:\n"
        "      - {environment: staging}\n"
        "      - {environment: production, name: prod}\n")
    state = load_manifests(tmp_path)
    assert [(r.kind, r.key, r.parent_key, r.span.line) for r in state.resources] == [
        ("release", "backend@1.0", None, 2),
        ("deploy", "backend@1.0/staging/", "backend@1.0", 6),
        ("deploy", "backend@1.0/production/prod", "backend@1.0", 7)]


# ---- end to end through the CLI on the embedded emulator -----------------------------------------

E2E_RESOURCES = """\
discover_queries:
  - name: Slow pages
    projects: [backend]
    fields: [transaction, "p95(transaction.duration)"]
    range: 14d
releases:
  - version: backend@1.4.0
    projects: [backend]
    ref: v1.4.0
    finalized: true
    deploys:
      - {environment: production, name: deploy-1, date_finished: "2024-05-01T10:00:00Z"}
integration_links:
  - {type: repository, name: acme/backend, integration: acme-github, provider: github}
  - {type: code_mapping, project: backend, repository: acme/backend, stack_root: app/,
     source_root: src/app/, default_branch: main}
"""


def _cli(*args: str):
    import json

    from click.testing import CliRunner

    from dexter_sync.cli.main import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, (json.loads(result.stdout) if "--format" in args else result.output)


def test_cli_apply_then_plan_is_quiet_and_one_field_change_is_one_update(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("SENTRY_URL", "SENTRY_ORG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "dexter.yaml").write_text("version: 1\norganization: acme\ninclude: [r.yaml]\n")
    (tmp_path / "r.yaml").write_text(E2E_RESOURCES)
    code, output = _cli("apply", ".", "--auto-approve")
    assert code == 0, output
    code, plan = _cli("plan", ".", "--format", "json", "--detailed-exitcode")
    assert (code, plan["summary"]["create"], plan["summary"]["update"]) == (0, 0, 0)
    assert plan["summary"]["unchanged"] == 5  # query, release, deploy, repository, mapping
    (tmp_path / "r.yaml").write_text(E2E_RESOURCES.replace("ref: v1.4.0", "ref: v1.4.1")
                                     .replace("source_root: src/app/", "source_root: lib/"))
    code, plan = _cli("plan", ".", "--format", "json", "--detailed-exitcode")
    assert code == 2
    assert sorted((c["action"], c["kind"], [d["path"] for d in c["diff"]]) for c in plan["changes"]) == [
        ("update", "code_mapping", ["source_root"]), ("update", "release", ["ref"])]
