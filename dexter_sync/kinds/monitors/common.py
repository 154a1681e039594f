"""What the three monitor kinds share: the entry fields every detector has (name, project,
owner, description, enabled), identity by name, the detector endpoints, and the
owner/project conversions of detector responses."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import Field, StrictBool

from ...core.changes import ResourceChange
from ...core.directory import Directory
from ...core.requests import ApiRequest, path_segment
from ...core.state import LiveObject
from ..base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from ..fields import Owner, owner_friendly, owner_refs, owner_to_sentry


class MonitorFields(EntryModel):
    """Fields of every monitor entry."""

    name: str = Field(min_length=1, max_length=200,
                      description="Monitor name: its natural key, unique across monitors.")
    project: str = Field(min_length=1, description="Project slug the monitor belongs to.")
    owner: Owner | None = Field(None, description="`team:<slug>` or `user:<email>`.")
    description: str | None = Field(None, description="Used as the issue description.")
    enabled: StrictBool = Field(True, description="Disabled monitors open no issues.")


M = TypeVar("M", bound=MonitorFields)


def common_payload(entry: MonitorFields, detector_type: str, directory: Directory
                   ) -> dict[str, Any]:
    body: dict[str, Any] = {"name": entry.name, "type": detector_type, "enabled": entry.enabled}
    declared = entry.model_fields_set
    if "owner" in declared:
        body["owner"] = owner_to_sentry(entry.owner, directory)
    if "description" in declared:
        body["description"] = entry.description
    return body


def common_canonical(entry: MonitorFields, directory: Directory) -> dict[str, Any]:
    out: dict[str, Any] = {"name": entry.name, "project": entry.project,
                           "enabled": entry.enabled}
    declared = entry.model_fields_set
    if "owner" in declared:
        out["owner"] = owner_friendly(owner_to_sentry(entry.owner, directory), directory)
    if "description" in declared:
        out["description"] = (entry.description or "").strip() or None
    return out


def owner_of(data: dict[str, Any]) -> str | None:
    """`team:<id>` / `user:<id>` from a detector's owner object (or string)."""
    owner = data.get("owner")
    if isinstance(owner, dict) and owner.get("type") and owner.get("id") is not None:
        return f"{owner['type']}:{owner['id']}"
    return owner if isinstance(owner, str) and owner else None


def common_from_live(data: dict[str, Any], directory: Directory) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": data.get("name"),
        "project": directory.project_slug(str(data.get("projectId"))) or str(data.get("projectId")),
    }
    if data.get("enabled") is False:
        entry["enabled"] = False
    owner = owner_of(data)
    if owner:
        entry["owner"] = owner_friendly(owner, directory)
    if (data.get("description") or "").strip():
        entry["description"] = data["description"]
    return entry


def data_source(data: dict[str, Any]) -> dict[str, Any]:
    """The first data source's `queryObj` of a detector response ({} when missing)."""
    sources = data.get("dataSources") or []
    first = sources[0] if sources and isinstance(sources[0], dict) else {}
    query = first.get("queryObj")
    return query if isinstance(query, dict) else {}


class MonitorKind(ResourceKind[M]):
    """Detector endpoints, identity by name; subclasses convert their entry."""

    section = "monitors"
    scope = "project"
    provides_reference = "monitor"  # an alert may name a monitor the same plan creates
    detector_type: ClassVar[str]
    query_alias: ClassVar[str]
    """The `type:` alias of the detector list search (`metric`, `uptime`, `cron`)."""

    def key(self, entry: M) -> str:
        return entry.name

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data.get("name"))

    def references(self, entry: M) -> list[Reference]:
        return [Reference("project", entry.project, ("project",)), *owner_refs(entry.owner)]

    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        path = f"organizations/{path_segment(ctx.organization)}/detectors/"
        return [ListRequest(ApiRequest("GET", path, params={
            "project": "-1", "query": f"type:{self.query_alias}", "per_page": 100}))]

    def items(self, body: Any, listing: ListRequest) -> list[dict[str, Any]]:
        # the search matches by type; keep only this kind's type (fail closed on others)
        return [d for d in super().items(body, listing)
                if isinstance(d, dict) and d.get("type") == self.detector_type]

    def to_live_object(self, data: dict[str, Any], listing: ListRequest, *,
                       directory: Directory) -> LiveObject:
        obj = super().to_live_object(data, listing, directory=directory)
        obj.project = directory.project_slug(str(data.get("projectId")))
        return obj

    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        path = (f"organizations/{path_segment(organization)}/projects/"
                f"{path_segment(change.project or '')}/detectors/")
        return ApiRequest("POST", path, json=change.payload)

    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("PUT", self.detail(organization, change), json=change.payload)

    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        return ApiRequest("DELETE", self.detail(organization, change))

    @staticmethod
    def detail(organization: str, change: ResourceChange) -> str:
        return (f"organizations/{path_segment(organization)}/detectors/"
                f"{path_segment(change.live_id or '')}/")
