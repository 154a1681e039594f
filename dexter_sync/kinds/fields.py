"""Field helpers shared by kinds: durations, numbers, owners (actors), integrations, Slack,
UTC timestamps (compared as instants, sent in Sentry's format) and `matching` (a string type
checked against one of Sentry's patterns that explains a failure in words).

Every helper is a pure function over values (plus a Directory passed by value), used on both
sides of a comparison: manifest values and what Sentry returns go through the same
normalization, so a value Sentry reformats compares equal.
"""

from __future__ import annotations

import functools
import json
import marshal
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    Tag,
    WithJsonSchema,
)

from ..core.directory import Directory
from ..core.durations import Minutes as Minutes
from ..core.durations import format_duration as format_duration
from ..core.sources import FieldPath
from .base import Fallback, Reference, SlackChannel

# ---- durations ------------------------------------------------------------------------

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_MINUTES = {"s": 1 / 60, "m": 1.0, "": 1.0, "h": 60.0, "d": 1440.0, "w": 10080.0}


def duration_minutes(value: float | str) -> float:
    """Minutes in a duration: `30s`, `5m`, `1h`, `1d`, `1w`, or a plain number of minutes."""
    if isinstance(value, bool):
        # ValueError, not TypeError: pydantic reports only ValueErrors as validation errors
        message = "a duration is a number of minutes or a string like '5m', '1h', '1d'"
        raise ValueError(message)  # noqa: TRY004
    if isinstance(value, (int, float)):
        minutes = float(value)
    else:
        parsed = _text_minutes(str(value))
        if parsed is None:
            raise ValueError(
                f"{value!r} is not a duration; write a number of minutes or '30s', '5m', '1h', '1d'"
            )
        minutes = parsed
    if not math.isfinite(minutes) or minutes <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    return minutes


@functools.lru_cache(maxsize=1024)
def _text_minutes(text: str) -> float | None:
    # cached: the same few spellings ("5m", "1h") are read for every rule of a plan
    match = _DURATION_RE.match(text)
    if not match:
        return None
    return float(match.group(1)) * _UNIT_MINUTES[match.group(2)]


DURATION_SCHEMA = {"anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}]}


def read_duration(value: Any) -> float:
    """A manifest duration (`5m`, `1h`, `90s`, or minutes) as its number of minutes."""
    if not isinstance(value, (int, float, str)):
        raise ValueError(f"a duration is a number of minutes or a string like '5m', '1h', "
                         f"'1d', got {value!r}")
    return duration_minutes(value)


Duration = Annotated[float, PlainValidator(read_duration),
                     PlainSerializer(format_duration, return_type=str, when_used="json"),
                     WithJsonSchema(DURATION_SCHEMA)]
"""A duration field: read once into minutes (a float) when the manifest is validated,
written back (export) in its shortest friendly spelling."""


def minutes_in_range(value: float | str, low: float, high: float, *, what: str,
                     whole: bool = True) -> float:
    """Minutes of a duration, checked against Sentry's range (raises ValueError for pydantic)."""
    minutes = duration_minutes(value)
    if whole and abs(minutes - round(minutes)) > 1e-9:
        raise ValueError(f"{what} must be a whole number of minutes, got {_written(value)}")
    if not low <= minutes <= high:
        raise ValueError(
            f"{what} must be between {format_duration(low)} and {format_duration(high)} "
            f"({low:g}..{high:g} minutes), got {_written(value)}"
        )
    return minutes


def _written(value: float | str) -> str:
    """A duration in a message: as written when text, else in its friendly spelling."""
    return repr(value) if isinstance(value, str) else format_duration(value)


@functools.lru_cache(maxsize=256, typed=True)  # typed: 5, 5.0 and True stay apart
def _live_duration(value: Any, low: float, high: float) -> Minutes:
    # whole seconds, as export spells it; then the entry model's check; then whole minutes,
    # as the request sends it
    minutes = minutes_in_range(round(float(value) * 60) / 60, low, high, what="duration")
    return Minutes(round(minutes))


def live_duration(value: Any, low: float, high: float) -> Minutes:
    """A live duration (minutes) in comparison form, read as export and the request body read
    it. A value the entry model would refuse (out of range, not a number) raises Fallback."""
    try:
        return _live_duration(value, low, high) if type(value) in (int, float, str) \
            else _live_duration.__wrapped__(value, low, high)
    except (ValueError, TypeError, OverflowError) as error:
        raise Fallback from error


# ---- numbers --------------------------------------------------------------------------

def number(value: Any, digits: int = 6) -> Any:
    """A number in comparison form: '80' -> 80, 60.0 -> 60, and fractions rounded to
    `digits` significant digits so float noise (10.099999999999994 from a percent-change
    round trip) vanishes. Whole numbers stay exact. Anything else is returned as it is."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return value
    if not isinstance(value, float) or not math.isfinite(value):
        return value
    if value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    rounded = float(f"{value:.{digits}g}")
    return int(rounded) if rounded.is_integer() else rounded


def payload_number(value: Any) -> Any:
    """A number as Sentry expects it in a request body: ints stay ints, '80' -> 80."""
    return number(value, digits=15)


def int_or_str(value: Any) -> Any:
    """An id as Sentry's request wants it: numeric strings become ints, others stay."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


# ---- owners (actors) ------------------------------------------------------------------

_OWNER_RE = re.compile(r"^(team|user):(.+)$")


def check_owner(value: str | None) -> str | None:
    """`team:<slug>`, `team:<id>`, `user:<email>` or `user:<id>`."""
    if value is None:
        return None
    if not _OWNER_RE.match(value.strip()):
        raise ValueError(
            f"owner must be 'team:<slug>', 'user:<email>' or Sentry's 'team:<id>'/'user:<id>', "
            f"got {value!r}"
        )
    return value.strip()


Owner = Annotated[str, AfterValidator(check_owner)]


def owner_to_sentry(owner: str | None, directory: Directory) -> str | None:
    """Sentry's actor identifier (`team:<id>`, `user:<id>`); unknown names pass through."""
    if owner is None:
        return None
    kind, name = _OWNER_RE.match(owner.strip()).groups()  # type: ignore[union-attr]
    if kind == "team":
        found = directory.team_id(name)
        if found is None and directory.team_slug(name) is not None:
            found = name
        return f"team:{found or name}"
    found = directory.user_id(name) if "@" in name else None
    return f"user:{found or name}"


def owner_friendly(owner: str | None, directory: Directory) -> str | None:
    """`team:<slug>` / `user:<email>` for an actor identifier (ids kept when unknown)."""
    if owner is None or not _OWNER_RE.match(str(owner).strip()):
        return owner
    kind, name = _OWNER_RE.match(str(owner).strip()).groups()  # type: ignore[union-attr]
    if kind == "team":
        if directory.team_id(name) is not None:
            return f"team:{name}"
        return f"team:{directory.team_slug(name) or name}"
    if "@" in name:
        return f"user:{name.lower()}"
    return f"user:{directory.user_email(name) or name}"


def live_owner(value: Any, directory: Directory) -> str:
    """A live owner in comparison form: its friendly form, checked as the entry model checks
    it, to Sentry's actor and back. One the model would refuse raises Fallback."""
    owner = owner_friendly(value, directory)
    if type(owner) is not str:
        raise Fallback
    try:
        checked = check_owner(owner)
    except ValueError as error:
        raise Fallback from error
    return cast(str, owner_friendly(owner_to_sentry(checked, directory), directory))


def team_ref(value: str | int, directory: Directory) -> str:
    """A team slug for a slug or id (unknown values kept as strings)."""
    text = str(value).strip()
    if directory.team_id(text) is not None:
        return text.removeprefix("#")
    return directory.team_slug(text) or text


def team_id_for(value: str | int, directory: Directory) -> str:
    text = str(value).strip()
    return directory.team_id(text) or text


def user_ref(value: str | int, directory: Directory) -> str:
    """A member email for an email or user id (unknown values kept as strings)."""
    text = str(value).strip()
    if "@" in text:
        return text.lower()
    return directory.user_email(text) or text


def user_id_for(value: str | int, directory: Directory) -> str:
    text = str(value).strip()
    return (directory.user_id(text) if "@" in text else None) or text


def actor_refs(kind: Literal["team", "member"], value: str | int | None,
               path: FieldPath) -> list[Reference]:
    """A team or member named in a manifest, to check live; Sentry's own numeric ids are
    written to be sent as they are, so they are not names to look up."""
    if value is None or str(value).strip().isdigit():
        return []
    return [Reference(kind, str(value).strip(), path)]


def owner_refs(owner: str | None, path: FieldPath = ("owner",)) -> list[Reference]:
    if not owner:
        return []
    kind, _, name = owner.partition(":")
    return actor_refs("team" if kind == "team" else "member", name, path)


# ---- integrations -----------------------------------------------------------------------

def integration_id_for(value: str | int | None, provider: str, directory: Directory) -> Any:
    """The integration id for a name or id (None picks the only one of that provider)."""
    found = directory.integration(value if value is not None else "", provider)
    if found is not None:
        return found.id
    return value


def integration_name_for(value: str | int | None, provider: str, directory: Directory) -> Any:
    """The integration name for an id or name (None picks the only one of that provider)."""
    found = directory.integration(value if value is not None else "", provider)
    if found is not None:
        return found.name
    return str(value) if value is not None else None


# ---- Slack --------------------------------------------------------------------------------

_SLACK_ID_RE = re.compile(r"^[CGDUW][A-Z0-9]{6,}$")


def looks_like_slack_id(value: str) -> bool:
    return bool(_SLACK_ID_RE.match(value.strip()))


def slack_channel_name(value: str) -> str:
    """Slack's own normalization: strip `#`/`@` and re-prefix (`#` channels, `@` users)."""
    text = str(value).strip()
    if looks_like_slack_id(text):
        return text
    if text.startswith("@"):
        return "@" + text.lstrip("@")
    return "#" + text.lstrip("#")


def revealed_channel(integration_id: Any, name: Any, channel_id: Any) -> SlackChannel:
    """A channel id a live Slack action shows, keyed by `#name` (or `@user`)."""
    text = str(name or "").strip()
    return SlackChannel(str(integration_id), text if text.startswith(("#", "@")) else f"#{text}",
                        str(channel_id))


def slack_channel_id(directory: Directory, integration_id: Any, channel: str) -> str | None:
    """The Slack channel id for a channel name in one workspace, when the directory knows it."""
    if looks_like_slack_id(channel):
        return channel.strip()
    return directory.slack_channels.get((str(integration_id), slack_channel_name(channel)))


def slack_name_for_id(directory: Directory, integration_id: Any, channel_id: str) -> str | None:
    wanted = str(channel_id)
    for (workspace, name), cid in directory.slack_channels.items():
        if cid == wanted and (integration_id is None or workspace == str(integration_id)):
            return name
    return None


def slack_channel_ref(directory: Directory, integration_id: Any, channel: str,
                      channel_id: str | None = None) -> str:
    """A channel in comparison form: its `#name` (resolved from an id when known)."""
    if channel_id:
        name = slack_name_for_id(directory, integration_id, channel_id)
        if name:
            return name
    text = slack_channel_name(channel)
    if looks_like_slack_id(text):
        return slack_name_for_id(directory, integration_id, text) or text
    return text


# ---- fields every alert rule has ---------------------------------------------------------------

def _named(value: str) -> str:
    if not value.strip():
        raise ValueError("name must not be empty")
    return value


RuleName = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_named)]
"""A rule's name: Sentry's length limits, and not blank."""


def live_rule_name(value: Any) -> str:
    """A live rule's name, as `RuleName` takes it; Fallback for one it refuses."""
    if type(value) is not str or not 1 <= len(value) <= 256 or not value.strip():
        raise Fallback
    return value

RAW_DESCRIPTION = "Extra Sentry request keys sent as they are (not compared)."


def raw_keys(modelled: set[str]) -> Any:
    """The type of a rule's `raw:` field: extra request keys that may not set a key the
    manifest models (`modelled`), so a modelled field is always compared."""

    def unshadowed(value: dict[str, Any] | None) -> dict[str, Any] | None:
        shadowed = sorted(set(value or ()) & modelled)
        if shadowed:
            raise ValueError(f"raw may not set modelled fields ({', '.join(shadowed)}); "
                             "declare them as manifest fields")
        return value

    return Annotated[dict[str, Any] | None, AfterValidator(unshadowed)]


def with_raw(body: dict[str, Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """A rule's request body with its `raw:` keys added as they are (the complete body)."""
    if raw:
        body.update(raw)
    return body


# ---- lists and dicts ------------------------------------------------------------------------

# one encoder for every key: json.dumps with options builds a new encoder per call
_KEY_ENCODER = json.JSONEncoder(sort_keys=True, default=str)


def sort_key(value: Any) -> str:
    """An order key for an order-free list of JSON values (strings sort first, as they are)."""
    if isinstance(value, str):
        return "\x00" + value
    try:
        packed = marshal.dumps(value)
    except ValueError:  # a type marshal does not take (a datetime, a float subclass)
        return _KEY_ENCODER.encode(value)
    return _packed_key(packed)


@functools.lru_cache(maxsize=4096)  # the rules of a plan repeat the same few nodes
def _packed_key(packed: bytes) -> str:
    """The key of a value given as its marshal bytes (which keep 1, 1.0 and True apart)."""
    return _KEY_ENCODER.encode(marshal.loads(packed))


def sorted_canonical(values: Iterable[Any]) -> list[Any]:
    items = list(values)
    if len(items) > 1:  # a single item needs no key (most lists hold one)
        items.sort(key=sort_key)
    return items


def drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def strip_text(value: Any) -> Any:
    """Whitespace at the ends of a text value is noise (Django form fields strip it)."""
    return value.strip() if isinstance(value, str) else value


def one_key_union(friendly: type, sentry: type, *, sentry_key: str) -> Any:
    """A pydantic union of a friendly one-key mapping and Sentry's own form (told apart by
    `sentry_key`), so validation errors point into the chosen form only."""

    def pick(value: Any) -> str:
        if isinstance(value, dict):
            return "sentry" if sentry_key in value else "friendly"
        if isinstance(value, (friendly, sentry)):
            return "sentry" if isinstance(value, sentry) else "friendly"
        return "friendly"

    return Annotated[
        Annotated[friendly, Tag("friendly")] | Annotated[sentry, Tag("sentry")],
        Discriminator(pick),
    ]


def exactly_one(model: Any, names: Iterable[str], *, what: str) -> str:
    """The one field set among `names` on a one-key model (raises ValueError otherwise)."""
    given = model.__pydantic_fields_set__
    if len(given) == 1:  # the common case, checked cheaply (this runs for every node)
        only = next(iter(given))
        if only in names:
            return cast("str", only)
    names = list(names)
    chosen = [n for n in names if n in given]
    if len(chosen) != 1:
        listed = ", ".join(names)
        if not chosen:
            raise ValueError(f"{what} needs exactly one of: {listed}")
        raise ValueError(f"{what} takes exactly one of {listed}; got {', '.join(chosen)}")
    return chosen[0]


# ---- timestamps: compared as instants, sent in Sentry's own format -----------------------


def _as_utc(value: datetime) -> datetime:
    # YAML timestamps without an offset, and Sentry's `Z`, both mean UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
"""A manifest timestamp: ISO-8601 text or a YAML timestamp, held as an aware UTC datetime."""


def format_instant(value: datetime | str | None) -> str | None:
    """Sentry's timestamp format (`2024-05-01T12:00:00.000000Z`), so equal instants compare equal."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_instant(value)
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    """A timestamp as Sentry returns it (`Z` suffix, optional fraction) as an aware datetime."""
    return _as_utc(datetime.fromisoformat(text))


def live_instant(value: Any) -> datetime | None:
    """A live timestamp field, or None when absent or unreadable."""
    if not value:
        return None
    try:
        return parse_instant(str(value))
    except ValueError:
        return None


# ---- strings with Sentry's pattern rules, explained in words -------------------------------


def matching(pattern: str, message: str, *, min_length: int | None = None,
             max_length: int | None = None) -> Any:
    """A string field checked against `pattern`, failing with `message` (not the regex).

    The pattern still goes into the JSON Schema, so editors flag the value too.
    """
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.search(value):
            raise ValueError(f"{message}, got {value!r}")
        return value

    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length),
                     AfterValidator(check), Field(json_schema_extra={"pattern": pattern})]


def present(entry: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of `entry` named in `names` that are set (not None), in that order: an
    optional field left out of a manifest is neither sent nor compared."""
    return {name: value for name in names if (value := getattr(entry, name)) is not None}


# ---- key spelling (Sentry stores snake_case and answers camelCase) -------------------------

def camel_key(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake_key(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camelize(value: Any) -> Any:
    """Keys to camelCase, recursively (what Sentry answers for stored snake_case keys)."""
    if isinstance(value, dict):
        return {camel_key(str(k)): camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(v) for v in value]
    return value


def snakify(value: Any) -> Any:
    if isinstance(value, dict):
        return {snake_key(str(k)): snakify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snakify(v) for v in value]
    return value
