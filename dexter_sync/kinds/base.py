"""The contract every resource kind implements (one fixed algorithm, small hooks).

The planner, facade, apply executor, exporter, schema generator and emulator seeding call
only these hooks. A kind overrides what its API does differently and nothing else.

Comparison contract (the heart of a quiet plan):
  desired:  manifest entry --canonical()--> dict in manifest field names
  live:     Sentry JSON --canonical_live()--> dict
            (default: --entry_from_live()--> entry --canonical()--> dict)
By default both sides pass through the *same* `canonical`, so a value Sentry reformats
(60 vs 60.0, "80" vs 80, reordered conditions, added `name` keys, defaults filled in)
compares equal, and `dexter export` (which writes entry_from_live) plans to zero changes by
construction. A kind that builds the live dict directly (the alert kinds, for speed) keeps
that round trip as the test oracle (tests/test_kind_live_canonical.py).
The planner compares only the keys present in canonical(desired): what the manifest
manages (declared fields plus the defaults the payload sends), never server-only fields.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from ..core.changes import ResourceChange, SafetyFinding
from ..core.contract import Reference, ReferenceKind
from ..core.directory import Directory
from ..core.requests import ApiRequest
from ..core.sources import FieldPath
from ..core.state import DesiredResource, LiveObject, LiveState

__all__ = ["EntryModel", "Fallback", "ListRequest", "ReadContext", "Reference", "ReferenceKind",
           "ResourceKind", "SlackChannel"]


class Fallback(Exception):
    """Raised while a kind builds a live comparison form straight from Sentry's JSON, for a
    value its entry model would refuse: the kind then reads that object the way export does
    (`canonical(entry_from_live(data))`), which reports the value as export reports it."""


@dataclass(frozen=True)
class SlackChannel:
    """A Slack channel id a live object reveals (Sentry resolves names to ids on save)."""

    integration_id: str
    channel: str
    """`#name` or `@user`"""
    channel_id: str


class EntryModel(BaseModel):
    """Base of every manifest entry model: unknown keys are errors, snake_case field names."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=False,
                              defer_build=True)


E = TypeVar("E", bound=BaseModel)

Finder = Callable[[str, str], Awaitable[LiveObject | None]]
"""Looks a live object up by (kind name, natural key) at apply time."""


@dataclass(frozen=True)
class ListRequest:
    """One list endpoint to read (the facade follows its `Link` cursors when `paged`)."""

    request: ApiRequest
    project: str | None = None
    """Project slug the listed objects belong to (project-scoped kinds)."""
    parent: str | None = None
    """Parent natural key (deploys of a release, links of an issue)."""
    paged: bool = True
    missing_ok: bool = False
    """A 404 answer means "no objects here" (the parent, e.g. a declared issue, does not
    exist), not an error; reference checks or the write itself report the missing parent."""


@dataclass
class ReadContext:
    """What a kind may look at to decide which list endpoints to read."""

    organization: str
    directory: Directory
    projects: list[str]
    """Project slugs in scope (the manifests' projects, or all for export)."""
    desired: list[DesiredResource] = field(default_factory=list)
    """Desired resources of this kind (e.g. which releases' deploys to read)."""
    live: LiveState | None = None
    """Live state of the kinds this kind depends on, already read."""


class ResourceKind(ABC, Generic[E]):
    name: ClassVar[str]
    """Kind name used in plans and `--target KIND/KEY`: `metric_alert`, `code_mapping`."""
    section: ClassVar[str]
    """Top-level manifest list holding its entries: `metric_alerts`, `integration_links`."""
    type_tag: ClassVar[str | None] = None
    """In a section shared by several kinds, entries say `type: <type_tag>`."""
    entry_model: ClassVar[type[BaseModel]]
    scope: ClassVar[Literal["organization", "project"]] = "organization"
    depends_on: ClassVar[tuple[str, ...]] = ()
    """Kinds whose changes must be applied (and read) before this kind's."""
    prunable: ClassVar[bool] = True
    """False for kinds Sentry cannot delete (deploys)."""
    updatable: ClassVar[bool] = True
    """False for kinds with no update endpoint (deploys): a difference becomes a note."""
    child_of: ClassVar[str | None] = None
    """Kind whose entries embed this kind's entries (deploys inside releases)."""
    title: ClassVar[str] = ""
    """One line for the docs: what Sentry resource this is."""
    not_exported: ClassVar[str | None] = None
    """Why `dexter export` leaves this kind out (said in its summary), or None."""
    live_optional_fields: ClassVar[tuple[str, ...]] = ()
    """Canonical keys Sentry omits from list responses (metric alerts' `event_types`): the
    planner compares them only when the live canonical holds them (not None)."""
    canonical_reuses_payload: ClassVar[bool] = False
    """True when `canonical_from_payload` derives the comparison form from the request body:
    the planner then builds the body once and reuses it for the comparison, cosmetic
    counting and the write."""
    provides_reference: ClassVar[ReferenceKind | None] = None
    """A reference type a declared entry of this kind satisfies (repositories: a code
    mapping may name a repository the same plan connects)."""
    replaced_by: ClassVar[tuple[str, ...]] = ()
    """Kinds managing the same Sentry objects through a newer API (legacy alert rules ->
    `alert`, `metric_monitor`): the planner refuses a rule declared in both (same `name`)."""
    retired_hint: ClassVar[str | None] = None
    """Told along with a 410 Gone from this kind's endpoints (Sentry retired the API)."""
    task_segment: ClassVar[str | None] = None
    """Path segment of Sentry's task endpoint when a write may answer 202 `{"uuid"}`
    (`rule-task`, `alert-rule-task`): `projects/{org}/{project}/<segment>/{uuid}/`."""
    task_rule_field: ClassVar[str] = "rule"
    """Where that endpoint's answer puts the rule it created (`alertRule` for metric alerts;
    Sentry's project_alert_rule_task_details.py)."""
    id_path_segments: ClassVar[tuple[str, ...]] = ()
    """Path segments always followed by an identifier in this kind's endpoints (release
    versions, task uuids): rate-limit route keys treat the next segment as `{id}`."""

    # ---- identity ---------------------------------------------------------------------

    @abstractmethod
    def key(self, entry: E) -> str:
        """Natural key of a desired entry (DESIGN.md, Kinds and identity)."""

    @abstractmethod
    def live_key(self, data: dict[str, Any], *, directory: Directory, project: str | None,
                 parent: str | None) -> str:
        """Natural key of a live object, in the same form as `key`."""

    def children(self, entry: E) -> list[tuple[str, BaseModel, FieldPath]]:
        """Entries of child kinds embedded in this entry: (kind name, entry, field path)."""
        return []

    def references(self, entry: E) -> list[Reference]:
        """Names in this entry that must exist live."""
        return []

    # ---- desired -> Sentry -------------------------------------------------------------

    @abstractmethod
    def build_payload(self, entry: E, *, directory: Directory) -> dict[str, Any]:
        """The exact Sentry request body (POST and PUT) for this entry. Pure."""

    # ---- comparison and export ----------------------------------------------------------

    @abstractmethod
    def canonical(self, entry: E, *, directory: Directory) -> dict[str, Any]:
        """Comparison form, in manifest field names, holding only the fields dexter manages."""

    @abstractmethod
    def entry_from_live(self, data: dict[str, Any], *, directory: Directory) -> E:
        """The manifest entry that describes a live object (friendly forms where they exist)."""

    def canonical_from_payload(self, entry: E, payload: dict[str, Any], *,
                               directory: Directory) -> dict[str, Any]:
        """canonical(entry) given its request body, already built. The default ignores the
        body; kinds that derive the comparison form from it set `canonical_reuses_payload`."""
        return self.canonical(entry, directory=directory)

    def canonical_live(self, data: dict[str, Any], *, directory: Directory) -> dict[str, Any]:
        """The live side of a comparison: canonical(entry_from_live(data)) by default.

        A kind may build the same dict straight from the JSON instead (the alert kinds do,
        with no entry model in between), handing an object it raises `Fallback` for to this
        default.
        """
        return self.canonical(self.entry_from_live(data, directory=directory),
                              directory=directory)

    def export(self, data: dict[str, Any], *, directory: Directory) -> dict[str, Any]:
        """Manifest mapping for `dexter export`: the live entry without default values."""
        entry = self.entry_from_live(data, directory=directory)
        dumped = entry.model_dump(mode="json", exclude_defaults=True, by_alias=False)
        if self.type_tag:
            dumped = {"type": self.type_tag, **dumped}
        return dumped

    # ---- API calls ------------------------------------------------------------------

    @abstractmethod
    def list_requests(self, ctx: ReadContext) -> list[ListRequest]:
        """List endpoints that hold every live object of this kind in scope."""

    def learn(self, body: Any, listing: ListRequest, directory: Directory) -> int:
        """Each list page read for this kind passes here before `items`: record in the
        directory the names other kinds resolve (alerts learn monitor and system detector
        ids). Returns how many new names it learned (a page teaching something is progress
        for pagination, like a page of new objects). Default: nothing."""
        return 0

    def items(self, body: Any, listing: ListRequest) -> list[dict[str, Any]]:
        """Objects of this kind in one list response body (a JSON array by default)."""
        return list(body) if isinstance(body, list) else []

    def live_id(self, data: dict[str, Any]) -> str:
        return str(data["id"])

    @abstractmethod
    def create_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        """The POST (or, for links, PUT) that creates the change's object."""

    @abstractmethod
    def update_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        """The call that updates the change's live object to the planned payload."""

    def update_requests(self, organization: str, change: ResourceChange) -> list[ApiRequest]:
        """Every call an update needs, in order (releases: add projects by POST, then PUT).

        Apply should call this rather than `update_request`; most kinds need the one call.
        """
        return [self.update_request(organization, change)]

    @abstractmethod
    def delete_request(self, organization: str, change: ResourceChange) -> ApiRequest:
        """The DELETE of the change's live object."""

    async def resolve_change(self, change: ResourceChange, find: Finder) -> ResourceChange:
        """Before a create or update is sent: fill in ids only known once earlier waves
        applied (an alert's monitors created by this apply), looking objects up with
        `find(kind, key)`. Raise DexterError when one cannot be found. Default: the change
        as planned."""
        return change

    def existing_id_from_rejection(self, body: Any) -> str | None:
        """The id of an existing live object a rejected create names (Sentry's issue-alert
        "exact duplicate" 400), so apply can report it instead of a failure; None here."""
        return None

    def slack_channels(self, data: dict[str, Any]) -> Iterable[SlackChannel]:
        """Slack channel ids a live object reveals (alert actions): none by default."""
        return ()

    def may_answer_with_task(self, request: ApiRequest) -> bool:
        """Whether Sentry may answer this write 202 `{"uuid"}` and finish it in a background
        task (alerts: a Slack action named by channel, without its id). After a lost answer
        apply then looks for the object until any such task has ended before it sends the
        write again (apply/tasks.py). False by default."""
        return False

    # ---- safety -------------------------------------------------------------------------

    def safety_findings(self, change: ResourceChange) -> list[SafetyFinding]:
        """Gates this kind's change must pass unless `--force` (alerts that would notify no
        one or match everything, pager deletes): none by default."""
        return []

    def create_is_idempotent(self) -> bool:
        """True when Sentry's POST is get-or-create (releases): safe to retry blindly."""
        return False

    def to_live_object(self, data: dict[str, Any], listing: ListRequest, *,
                       directory: Directory) -> LiveObject:
        return LiveObject(
            kind=self.name,
            key=self.live_key(data, directory=directory, project=listing.project,
                              parent=listing.parent),
            id=self.live_id(data),
            data=data,
            project=listing.project,
        )
