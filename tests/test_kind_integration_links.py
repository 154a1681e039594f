"""Kinds repository, code_mapping and external_issue_link (REFERENCE.md §7, §8, §9.2):
payloads, string-vs-int ids, link listing, validation, export round trip."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dexter_sync.core.changes import Action, FieldChange, ResourceChange
from dexter_sync.core.diagnostics import DexterError
from dexter_sync.core.directory import Directory, Integration, Repository
from dexter_sync.core.state import DesiredResource
from dexter_sync.kinds.base import ReadContext
from dexter_sync.kinds.code_mappings import CodeMappingEntry, CodeMappingKind
from dexter_sync.kinds.external_issue_links import (
    ROUTE_KEY,
    ExternalIssueLinkEntry,
    ExternalIssueLinkKind,
)
from dexter_sync.kinds.repositories import RepositoryEntry, RepositoryKind
from tests import helpers_kinds as helpers
from tests.helpers_kinds import manifest_errors, read_live, send

REPOS = RepositoryKind()
MAPPINGS = CodeMappingKind()
LINKS = ExternalIssueLinkKind()
DIRECTORY = Directory(
    "acme", projects={"backend": "3", "frontend": "4"},
    integrations={"2933": Integration("2933", "acme-github", "github"),
                  "24817": Integration("24817", "acme-jira", "jira")},
    repositories={"7": Repository("7", "acme/backend", "2933", "github")},
)


def canon(kind, entry) -> dict:
    return kind.canonical(entry, directory=DIRECTORY)


def live_canon(kind, data) -> dict:
    return kind.canonical(kind.entry_from_live(data, directory=DIRECTORY), directory=DIRECTORY)


def differing(desired: dict, live: dict) -> set[str]:
    return {k for k, v in desired.items() if live.get(k) != v}


# ---- repositories ---------------------------------------------------------------------------


def live_repo(**overrides) -> dict:
    data = {"id": "7", "name": "acme/backend", "url": "https://github.com/acme/backend",
            "provider": {"id": "integrations:github", "name": "GitHub"}, "status": "active",
            "dateCreated": "2024-05-01T00:00:00Z", "integrationId": "2933",
            "externalSlug": "acme/backend", "externalId": "873328"}
    data.update(overrides)
    return data


def test_repository_payload_is_private_post_body():
    entry = RepositoryEntry(name="acme/web", integration="acme-github")
    assert REPOS.build_payload(entry, directory=DIRECTORY) == {
        "provider": "integrations:github", "installation": "2933", "identifier": "acme/web"}
    change = ResourceChange(Action.CREATE, "repository", "acme/web", payload={})
    assert REPOS.create_request("acme", change).path == "organizations/acme/repos/"


def test_repository_adopted_by_name_with_provider_prefix_and_integration_name():
    desired = canon(REPOS, RepositoryEntry(name="acme/backend", integration="acme-github", provider="github",
                                           url="https://github.com/acme/backend"))
    assert differing(desired, live_canon(REPOS, live_repo())) == set()
    assert REPOS.live_key(live_repo(), directory=DIRECTORY, project=None, parent=None) == "acme/backend"


def test_repository_one_field_change_and_put_body():
    desired = canon(REPOS, RepositoryEntry(name="acme/backend", url="https://git.acme.io/backend"))
    assert differing(desired, live_canon(REPOS, live_repo())) == {"url"}
    change = ResourceChange(Action.UPDATE, "repository", "acme/backend", live_id="7", after=desired,
                            diff=(FieldChange(("url",), "https://github.com/acme/backend", desired["url"]),))
    request = REPOS.update_request("acme", change)
    assert (request.method, request.path, request.json) == (
        "PUT", "organizations/acme/repos/7/", {"url": "https://git.acme.io/backend"})
    assert REPOS.delete_request("acme", change).method == "DELETE"


def test_repository_without_integration_cannot_be_created():
    with pytest.raises(DexterError, match="set `integration`"):
        REPOS.build_payload(RepositoryEntry(name="acme/x"), directory=DIRECTORY)


def test_repository_export_round_trip():
    exported = REPOS.export(live_repo(), directory=DIRECTORY)
    assert exported == {"type": "repository", "name": "acme/backend", "integration": "acme-github",
                        "provider": "github", "url": "https://github.com/acme/backend"}
    exported.pop("type")  # the loader strips the section's type tag
    assert canon(REPOS, RepositoryEntry.model_validate(exported)) == live_canon(REPOS, live_repo())


def test_repository_references_itself_and_integration_with_provider():
    # Itself: so the plan checks it and the embedded emulator seeds it under its integration.
    refs = REPOS.references(RepositoryEntry(name="acme/x", integration="acme-github", provider="github"))
    assert [(r.kind, r.name, r.scope, r.provider) for r in refs] == [
        ("repository", "acme/x", "acme-github", None), ("integration", "acme-github", None, "github")]


# ---- code mappings -----------------------------------------------------------------------


def mapping(**fields) -> CodeMappingEntry:
    return CodeMappingEntry.model_validate({"project": "backend", "repository": "acme/backend",
                                            "stack_root": "app/", "source_root": "src/app/",
                                            "default_branch": "main", **fields})


def live_mapping(**overrides) -> dict:
    """REFERENCE.md §8 response: every id a string, provider object, roots as stored."""
    data = {"id": "12", "projectId": "3", "projectSlug": "backend", "repoId": "7",
            "repoName": "acme/backend", "integrationId": "2933",
            "provider": {"key": "github", "slug": "github", "name": "GitHub", "canAdd": True,
                         "canDisable": False, "features": ["commits"], "aspects": {}},
            "stackRoot": "app/", "sourceRoot": "src/app/", "defaultBranch": "main",
            "automaticallyGenerated": False}
    data.update(overrides)
    return data


def test_code_mapping_payload_ints_and_integration_from_repository():
    assert MAPPINGS.build_payload(mapping(), directory=DIRECTORY) == {
        "projectId": 3, "repositoryId": 7, "integrationId": 2933, "stackRoot": "app/",
        "sourceRoot": "src/app/", "defaultBranch": "main"}


def test_code_mapping_string_ids_compare_equal_and_key():
    desired = canon(MAPPINGS, mapping(integration="acme-github"))
    assert differing(desired, live_canon(MAPPINGS, live_mapping())) == set()
    assert MAPPINGS.key(mapping()) == "backend/acme/backend/app/"
    assert MAPPINGS.live_key(live_mapping(), directory=DIRECTORY, project=None, parent=None) == MAPPINGS.key(mapping())


def test_code_mapping_key_falls_back_to_directory_names():
    data = live_mapping(projectSlug=None, repoName=None)
    assert MAPPINGS.live_key(data, directory=DIRECTORY, project=None, parent=None) == "backend/acme/backend/app/"


@pytest.mark.parametrize("field_name,value,sentry_key", [
    ("source_root", "lib/", "sourceRoot"), ("default_branch", "release/2.x", "defaultBranch")])
def test_code_mapping_one_field_change(field_name, value, sentry_key):
    desired = canon(MAPPINGS, mapping(**{field_name: value}))
    assert differing(desired, live_canon(MAPPINGS, live_mapping())) == {field_name}
    assert differing(desired, live_canon(MAPPINGS, live_mapping(**{sentry_key: value}))) == set()


def test_code_mapping_empty_roots_allowed_and_compared_verbatim():
    desired = canon(MAPPINGS, mapping(stack_root="", source_root=""))
    assert differing(desired, live_canon(MAPPINGS, live_mapping(stackRoot="", sourceRoot=""))) == set()
    assert differing(canon(MAPPINGS, mapping(source_root="src/app")),
                     live_canon(MAPPINGS, live_mapping())) == {"source_root"}


@pytest.mark.parametrize("fields,message", [
    ({"stack_root": "has space"}, "may not contain spaces or quotes"),
    ({"source_root": "f'f"}, "may not contain spaces or quotes"),
    ({"source_root": 'a"b'}, "may not contain spaces or quotes"),
    ({"default_branch": "/main"}, "may not start or end with `/`"),
    ({"default_branch": "main/"}, "may not start or end with `/`"),
    ({"default_branch": "ma in"}, "only have letters"),
    ({"project": ""}, "at least 1 character"),
    ({"stackroot": "x"}, "Extra inputs are not permitted"),
])
def test_code_mapping_validation(fields, message):
    with pytest.raises(ValidationError, match=message):
        mapping(**fields)


def test_code_mapping_branch_rule_accepts_sentry_examples():
    for branch in ("main", "release/2.x", "feature_x-1", "v1.2"):
        assert mapping(default_branch=branch).default_branch == branch


def test_code_mapping_on_repository_created_by_same_apply_plans_but_waits():
    # The plan still shows the create; the request explains why it must wait for a re-plan.
    payload = MAPPINGS.build_payload(mapping(repository="acme/new"), directory=DIRECTORY)
    assert payload["repositoryId"] is None
    change = ResourceChange(Action.CREATE, "code_mapping", "k", payload=payload)
    with pytest.raises(DexterError, match="repository 'acme/new' did not exist") as error:
        MAPPINGS.create_request("acme", change)
    assert error.value.code == "unknown-reference"
    resolved = MAPPINGS.build_payload(mapping(), directory=DIRECTORY)
    request = MAPPINGS.create_request("acme", ResourceChange(Action.CREATE, "code_mapping", "k", payload=resolved))
    assert request.json == resolved and "_unresolved" not in request.json


def test_code_mapping_requests_and_export_round_trip():
    change = ResourceChange(Action.UPDATE, "code_mapping", "k", live_id="12", payload={"stackRoot": "app/"})
    assert (MAPPINGS.update_request("acme", change).method,
            MAPPINGS.update_request("acme", change).path) == ("PUT", "organizations/acme/code-mappings/12/")
    assert MAPPINGS.delete_request("acme", change).path == "organizations/acme/code-mappings/12/"
    [listing] = MAPPINGS.list_requests(ReadContext("acme", DIRECTORY, ["backend"]))
    assert listing.request.path == "organizations/acme/code-mappings/"
    exported = MAPPINGS.export(live_mapping(), directory=DIRECTORY)
    exported.pop("type")
    assert canon(MAPPINGS, CodeMappingEntry.model_validate(exported)) == live_canon(MAPPINGS, live_mapping())
    refs = {(r.kind, r.name) for r in MAPPINGS.references(mapping())}
    assert refs == {("project", "backend"), ("repository", "acme/backend")}


# ---- external issue links ------------------------------------------------------------------


def link(**fields) -> ExternalIssueLinkEntry:
    return ExternalIssueLinkEntry.model_validate(
        {"issue": "BACKEND-12", "integration": "acme-jira", "key": "PROJ-123", **fields})


def expanded_issue_detail_body() -> dict:
    """The issue detail with `?expand=integrationIssues` (REFERENCE.md §9.2): links in
    ExternalIssueSerializer's shape, with no integration id."""
    return {"id": "1234", "shortId": "BACKEND-12", "title": "ZeroDivisionError", "annotations": [],
            "integrationIssues": [
                {"id": "5", "key": "PROJ-123", "title": "Crash", "description": "",
                 "displayName": "PROJ-123", "integrationKey": "jira",
                 "integrationName": "acme-jira"}]}


def issue_integrations_body() -> list[dict]:
    """Sentry's `GET issues/{issue}/integrations/`: tracker integrations, each with its links."""
    return [
        {"id": "2933", "name": "acme-github", "provider": {"key": "github"}, "externalIssues": []},
        {"id": "24817", "name": "acme-jira", "provider": {"key": "jira"}, "externalIssues": [
            {"id": "5", "key": "PROJ-123", "url": "https://acme.atlassian.net/browse/PROJ-123",
             "title": "Crash", "description": "", "displayName": "PROJ-123"},
            {"id": "6", "key": "PROJ-124", "url": "https://acme.atlassian.net/browse/PROJ-124",
             "title": "Other", "description": "", "displayName": "PROJ-124"}]},
    ]


def _link_listing():
    desired = [DesiredResource("external_issue_link", LINKS.key(link()), link()),
               DesiredResource("external_issue_link", "x", link(key="PROJ-9")),
               DesiredResource("external_issue_link", "y", link(issue=42))]
    return LINKS.list_requests(ReadContext("acme", DIRECTORY, [], desired=desired))


def test_link_reads_once_per_declared_issue():
    listings = _link_listing()
    # One `integrations/` listing per declared issue; an issue that does not exist has no links.
    assert [(l.request.path, l.parent, l.paged, l.missing_ok) for l in listings] == [
        ("organizations/acme/issues/42/integrations/", "42", True, True),
        ("organizations/acme/issues/BACKEND-12/integrations/", "BACKEND-12", True, True)]
    assert LINKS.list_requests(ReadContext("acme", DIRECTORY, [])) == []


def test_link_listing_keys_match_and_carry_the_integration_id():
    listing = _link_listing()[1]
    items = LINKS.items(issue_integrations_body(), listing)
    assert {i["integrationId"] for i in items} == {"24817"}
    objects = [LINKS.to_live_object(i, listing, directory=DIRECTORY) for i in items]
    assert [(o.key, o.id) for o in objects] == [
        ("BACKEND-12/acme-jira/PROJ-123", "5"), ("BACKEND-12/acme-jira/PROJ-124", "6")]
    assert objects[0].key == LINKS.key(link())
    assert differing(canon(LINKS, link()), live_canon(LINKS, objects[0].data)) == set()


def test_an_expanded_issue_detail_is_not_a_link_listing():
    # the detail's links name no integration id: reading them as a listing would key every
    # link by a missing id (every declared link planned as a create, forever)
    with pytest.raises(DexterError, match="expected a list of integrations") as error:
        LINKS.items(expanded_issue_detail_body(), _link_listing()[1])
    assert error.value.code == "unreadable-live"


def test_link_payload_put_and_delete():
    payload = LINKS.build_payload(link(comment="seen in prod"), directory=DIRECTORY)
    change = ResourceChange(Action.CREATE, "external_issue_link", LINKS.key(link()), payload=payload)
    request = LINKS.create_request("acme", change)
    assert (request.method, request.path, request.json) == (
        "PUT", "organizations/acme/issues/BACKEND-12/integrations/24817/",
        {"externalIssue": "PROJ-123", "comment": "seen in prod"})
    assert ROUTE_KEY not in request.json
    listing = _link_listing()[1]
    live = LINKS.items(issue_integrations_body(), listing)[0]
    delete = LINKS.delete_request("acme", ResourceChange(Action.DELETE, "external_issue_link",
                                                         LINKS.key(link()), live_id="5", live=live))
    assert (delete.method, delete.path, delete.params) == (
        "DELETE", "organizations/acme/issues/BACKEND-12/integrations/24817/", {"externalIssue": "5"})


def test_link_raw_provider_fields_pass_through():
    gh = link(integration="acme-github", key="acme/backend#12",
              raw={"repo": "acme/backend", "externalIssue": "12"})
    payload = LINKS.build_payload(gh, directory=DIRECTORY)
    request = LINKS.create_request("acme", ResourceChange(Action.CREATE, "external_issue_link", "k", payload=payload))
    assert request.json == {"externalIssue": "12", "repo": "acme/backend"}
    assert request.path.endswith("/integrations/2933/")


@pytest.mark.parametrize("fields,message", [
    ({"issue": "not an issue"}, "short id such as"),
    ({"key": ""}, "at least 1 character"),
    ({"integration": ""}, "at least 1 character"),
    ({"title": "x"}, "Extra inputs are not permitted"),
])
def test_link_validation(fields, message):
    with pytest.raises(ValidationError, match=message):
        link(**fields)


def test_link_is_never_updated_and_references_issue():
    assert LINKS.updatable is False
    assert {(r.kind, r.name, r.provider) for r in LINKS.references(link(provider="jira"))} == {
        ("issue", "BACKEND-12", None), ("integration", "acme-jira", "jira")}
    with pytest.raises(DexterError, match="unknown integration"):  # a Jira name, not GitHub
        LINKS.build_payload(link(provider="github"), directory=DIRECTORY)
    with pytest.raises(DexterError, match="unknown integration"):
        LINKS.build_payload(link(integration="nope"), directory=DIRECTORY)


# ---- against the emulator (in-process, httpx ASGI transport) ----------------------------------


def on_emulator(scenario):
    """`scenario(client, directory)` on an org with a GitHub and a Jira integration and the
    repository acme/backend."""
    return helpers.on_emulator(scenario, directory_of=read_directory,
                               projects=["backend", "frontend"],
                               integrations=[("github", "acme-github"), ("jira", "acme-jira")],
                               repositories=[("acme/backend", "acme-github")])


async def read_directory(client) -> Directory:
    base = "/api/0/organizations/acme"
    projects = (await client.get(f"{base}/projects/")).json()
    integrations = (await client.get(f"{base}/integrations/")).json()
    repos = (await client.get(f"{base}/repos/")).json()
    return Directory(
        "acme", projects={p["slug"]: str(p["id"]) for p in projects},
        integrations={i["id"]: Integration(i["id"], i["name"], i["provider"]["key"]) for i in integrations},
        repositories={r["id"]: Repository(r["id"], r["name"], r["integrationId"]) for r in repos})


def test_emulator_repository_is_adopted_by_name():
    async def scenario(client, directory):
        desired = RepositoryEntry(name="acme/backend", integration="acme-github", provider="github")
        [live] = await read_live(client, REPOS, ReadContext("acme", directory, []))
        assert live.key == REPOS.key(desired)
        assert differing(canon_with(REPOS, desired, directory),
                         canon_with(REPOS, REPOS.entry_from_live(live.data, directory=directory), directory)) == set()

    on_emulator(scenario)


def canon_with(kind, entry, directory):
    return kind.canonical(entry, directory=directory)


def test_emulator_round_trip_code_mapping_drift_and_delete():
    desired = mapping(stack_root="", source_root="src/", default_branch="release/2.x")

    async def scenario(client, directory):
        change = ResourceChange(Action.CREATE, "code_mapping", MAPPINGS.key(desired),
                                payload=MAPPINGS.build_payload(desired, directory=directory))
        response = await send(client, MAPPINGS.create_request("acme", change))
        assert response.status_code == 201, response.text
        ctx = ReadContext("acme", directory, ["backend"])
        [live] = await read_live(client, MAPPINGS, ctx)
        assert live.key == MAPPINGS.key(desired)
        live_entry = MAPPINGS.entry_from_live(live.data, directory=directory)
        assert differing(canon_with(MAPPINGS, desired, directory), canon_with(MAPPINGS, live_entry, directory)) == set()
        exported = MAPPINGS.export(live.data, directory=directory)
        exported.pop("type")
        assert canon_with(MAPPINGS, CodeMappingEntry.model_validate(exported), directory) == \
            canon_with(MAPPINGS, live_entry, directory)
        # Out of band: another source root; the PUT of the manifest's payload heals it.
        await client.put(f"/api/0/organizations/acme/code-mappings/{live.id}/",
                         json={**change.payload, "sourceRoot": "lib/"})
        [drifted] = await read_live(client, MAPPINGS, ctx)
        assert differing(canon_with(MAPPINGS, desired, directory),
                         canon_with(MAPPINGS, MAPPINGS.entry_from_live(drifted.data, directory=directory),
                                    directory)) == {"source_root"}
        update = ResourceChange(Action.UPDATE, "code_mapping", live.key, live_id=live.id, payload=change.payload)
        assert (await send(client, MAPPINGS.update_request("acme", update))).status_code == 200
        [healed] = await read_live(client, MAPPINGS, ctx)
        assert healed.data["sourceRoot"] == "src/"
        assert (await send(client, MAPPINGS.delete_request("acme", update))).status_code == 204
        assert await read_live(client, MAPPINGS, ctx) == []

    on_emulator(scenario)


async def _new_issue(client) -> str:
    """Send one event to the backend project's DSN; the emulator groups it into an issue."""
    project = (await client.get("/api/0/projects/acme/backend/")).json()
    [key] = (await client.get("/api/0/projects/acme/backend/keys/")).json()
    response = await client.post(f"/api/{project['id']}/store/", params={"sentry_key": key["public"]},
                                 json={"message": "checkout failed", "level": "error", "platform": "python"})
    assert response.status_code == 200, response.text
    [issue] = (await client.get("/api/0/organizations/acme/issues/", params={"query": ""})).json()
    return issue["shortId"]


def test_emulator_round_trip_external_issue_link_by_short_id():
    async def scenario(client, directory):
        short_id = await _new_issue(client)
        desired = link(issue=short_id)
        payload = LINKS.build_payload(desired, directory=directory)
        change = ResourceChange(Action.CREATE, "external_issue_link", LINKS.key(desired), payload=payload)
        response = await send(client, LINKS.create_request("acme", change))
        assert response.status_code == 201, response.text
        wanted = [DesiredResource("external_issue_link", LINKS.key(desired), desired)]
        ctx = ReadContext("acme", directory, [], desired=wanted)
        [live] = await read_live(client, LINKS, ctx)
        assert live.key == LINKS.key(desired) == f"{short_id}/acme-jira/PROJ-123"
        live_canon = canon_with(LINKS, LINKS.entry_from_live(live.data, directory=directory), directory)
        assert differing(canon_with(LINKS, desired, directory), live_canon) == set()
        assert live_canon["provider"] == "jira"
        # Linking again is refused by Sentry (no duplicate link), then unlink by link id.
        assert (await send(client, LINKS.create_request("acme", change))).status_code == 400
        delete = ResourceChange(Action.DELETE, "external_issue_link", live.key, live_id=live.id, live=live.data)
        assert (await send(client, LINKS.delete_request("acme", delete))).status_code == 204
        assert await read_live(client, LINKS, ctx) == []

    on_emulator(scenario)


# ---- through the manifest loader: errors carry file:line ---------------------------------------


def test_manifest_errors_name_file_line_and_field(tmp_path):
    error = manifest_errors(tmp_path, "links.yaml",
        "integration_links:\n"
        "  - {type: repository, name: acme/backend, integration: acme-github, provider: github}\n"
        "  - type: code_mapping\n"
        "    project: backend\n"
        "    repository: acme/backend\n"
        "    stack_root: 'app root/'\n"
        "    source_root: src/\n"
        "    default_branch: main/\n"
        "  - {type: external_issue, issue: BACKEND-12, integration: acme-jira, key: PROJ-1, titel: x}\n")
    found = {(d.span.line, d.path[-1]) for d in error.diagnostics}
    assert found == {(6, "stack_root"), (8, "default_branch"), (9, "titel")}
    assert "may not contain spaces or quotes" in str(error)
