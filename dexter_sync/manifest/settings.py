"""`dexter.yaml`: its pydantic model (also the source of `schemas/dexter.schema.json`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..core.state import ManifestSettings

SETTINGS_FILE = "dexter.yaml"


class SafetyConfig(BaseModel):
    """Thresholds that stop an apply before any write unless `--force` is given."""

    model_config = ConfigDict(extra="forbid")

    max_delete_percent: float = Field(
        30.0, ge=0, le=100,
        description="Largest share of a kind's existing objects one apply may delete.")
    max_update_percent: float = Field(
        50.0, ge=0, le=100,
        description="Largest share of a kind's existing objects one apply may update.")
    min_existing: int = Field(
        10, ge=0,
        description="The percentages apply only once a kind has at least this many objects.")


class SettingsFile(BaseModel):
    """The root of a manifest directory."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = Field(description="Manifest format version; 1.")
    organization: str = Field(
        min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Sentry organization slug (`SENTRY_ORG` / `--org` override it).")
    vars: dict[str, Any] = Field(
        default_factory=dict, description="Values templates read as `vars.<name>`.")
    env_allow: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_*?\[\]!]+$")]] = Field(
        default_factory=list,
        description="Environment variables templates may read as `env.<NAME>`: names or "
                    "globs (`CI_*`). Variables starting `DEXTER_` are always readable; any "
                    "other is an undefined-variable error, and SENTRY_AUTH_TOKEN never "
                    "reaches a template.")
    defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Field values given to every entry whose kind has that field and that does "
                    "not set it; a key named after a section (`issue_alerts: {frequency: 30}`) "
                    "holds defaults for that section only.")
    prune: dict[str, bool | list[str]] = Field(
        default_factory=dict,
        description="Per section: `true` lets dexter delete live objects no manifest declares, "
                    "a list of project slugs limits that to those projects; `false` (the "
                    "default) only lists them as unmanaged.")
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    include: list[str] = Field(
        default_factory=list,
        description="Globs of resource files, relative to this file (`alerts/**/*.yaml`); each "
                    "must match at least one file. Files ending `.j2` are rendered by jinja2 "
                    "first.")

    def to_settings(self, root: str) -> ManifestSettings:
        return ManifestSettings(
            organization=self.organization,
            root=root,
            vars=self.vars,
            defaults=self.defaults,
            prune=dict(self.prune),
            max_delete_percent=self.safety.max_delete_percent,
            max_update_percent=self.safety.max_update_percent,
            min_existing=self.safety.min_existing,
        )
