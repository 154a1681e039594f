"""What the three monitor kinds share: the entry fields every detector has (name, project,
owner, description, enabled), identity by name, the detector endpoints, and the
owner/project conversions of detector responses."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar, TypeVar

from pydantic import Field, StrictBool, model_validator

from ...core.changes import ResourceChange
from ...core.directory import Directory
from ...core.requests import ApiRequest, path_segment
from ...core.state import LiveObject
from ..base import EntryModel, ListRequest, ReadContext, Reference, ResourceKind
from ..fields import Owner, camelize, owner_friendly, owner_refs, owner_to_sentry

SENTRY_FORM_KEYS = ("data_sources", "condition_group", "config")
SENTRY_FORM = ("Sentry's own form (request keys, Sentry's units), read into the friendly "
               "fields; not kept.")


class MonitorFields(EntryModel):
    """Fields of every monitor entry."""

    name: str = Field(min_length=1, max_length=200,
                      description="Monitor name: its natural key, unique across monitors.")
    project: str = Field(min_length=1, description="Project slug the monitor belongs to.")
    owner: Owner | None = Field(None, description="`team:<slug>` or `user:<email>`.")
    description: str | None = Field(None, description="Used as the issue description.")
    enabled: StrictBool = Field(True, description="Disabled monitors open no issues.")
    data_sources: list[dict[str, Any]] | None = Field(None, description=SENTRY_FORM)
    condition_group: dict[str, Any] | None = Field(None, description=SENTRY_FORM)
    config: dict[str, Any] | None = Field(None, description=SENTRY_FORM)

    @model_validator(mode="before")
    @classmethod
    def _sentry_form(cls, values: Any) -> Any:
        """`data_sources`/`condition_group`/`config` as Sentry takes them become the
        friendly fields (one way of reading both forms: the live reader's)."""
        if not isinstance(values, dict) or all(values.get(k) is None
                                               for k in SENTRY_FORM_KEYS):
            return values
        derived = cls.fields_from_sentry({k: values.get(k) for k in SENTRY_FORM_KEYS})
        rest = {k: v for k, v in values.items() if k not in SENTRY_FORM_KEYS}
        clash = sorted(set(derived) & set(rest))
        if clash:
            raise ValueError(f"{', '.join(clash)} given twice: as a field and in Sentry's "
                             "form")
        return {**derived, **rest}

    @classmethod
    def fields_from_sentry(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Friendly fields from Sentry's request form (each monitor type says how)."""
        raise ValueError("this monitor type has no Sentry form")


def response_of(given: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
    """A detector response holding a request's data source (as `queryObj`), config and
    condition group, camelCased as Sentry answers them."""
    return {"dataSources": [{"queryObj": query}], "config": camelize(given.get("config") or {}),
            "conditionGroup": camelize(given.get("condition_group") or {})}


def first_source(given: dict[str, Any]) -> dict[str, Any]:
    sources = given.get("data_sources") or [{}]
    if len(sources) != 1:
        raise ValueError("data_sources holds exactly one data source")
    return dict(sources[0])


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

    # the type module's pure conversions: each subclass names its module's functions
    # (`payload_of = staticmethod(build_payload)`); abstract, so a missing one is an error
    # when the kind is created, not when it is first used

    @staticmethod
    @abstractmethod
    def payload_of(entry: Any, directory: Directory) -> dict[str, Any]:
        """The request body of an entry."""

    @staticmethod
    @abstractmethod
    def canonical_of(entry: Any, directory: Directory) -> dict[str, Any]:
        """The comparison form of an entry."""

    @staticmethod
    @abstractmethod
    def entry_of(data: dict[str, Any], directory: Directory) -> Any:
        """The entry that Sentry's detector JSON describes."""

    def key(self, entry: M) -> str:
        return entry.name

    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        return str(data.get("name"))

    def references(self, entry: M) -> list[Reference]:
        refs = [Reference("project", entry.project, ("project",)), *owner_refs(entry.owner)]
        environment = getattr(entry, "environment", None)
        if environment:
            refs.append(Reference("environment", environment, ("environment",)))
        return refs

    def build_payload(self, entry: M, *, directory: Directory) -> dict[str, Any]:
        return type(self).payload_of(entry, directory)

    def canonical(self, entry: M, *, directory: Directory) -> dict[str, Any]:
        return type(self).canonical_of(entry, directory)

    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> M:
        entry: M = type(self).entry_of(data, directory)
        return entry

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
