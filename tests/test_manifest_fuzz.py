"""Property test: whatever structure or text is thrown at the loader, it either loads or
raises the project's ValidationError (with positioned diagnostics), never anything else."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dexter_sync.core.diagnostics import ValidationError
from dexter_sync.core.state import DesiredState
from dexter_sync.kinds.registry import sections
from dexter_sync.manifest import load_manifests

KEYS = st.sampled_from([
    "name", "project", "projects", "type", "triggers", "critical", "warning", "threshold",
    "actions", "time_window", "aggregate", "version", "deploys", "environment", "include",
    "conditions", "filters", "frequency", "slack", "email", "id", "raw", "repository",
    "stack_root", "source_root", "metric_alerts", "issue_alerts", "vars", "defaults", "prune",
    "organization", "safety", "alerts", "{{ vars.x }}",
]) | st.text(max_size=8)

SCALARS = (st.none() | st.booleans() | st.integers(-10**12, 10**12)
           | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=12)
           | st.sampled_from(["5m", "1h", "0m", "{{ vars.x }}", "{{ nope }}", "{% for %}",
                              "repository", "code_mapping", "external_issue", "*.yaml", "#x",
                              "team:backend", "count()", "", " "]))

VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


def load_dir(settings_doc: Any, files: dict[str, str]) -> DesiredState | None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "dexter.yaml").write_text(
            settings_doc if isinstance(settings_doc, str) else yaml.safe_dump(settings_doc),
            encoding="utf-8")
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        try:
            return load_manifests(root)
        except ValidationError as error:
            assert error.diagnostics, "a ValidationError always carries diagnostics"
            assert str(error).startswith(f"{len(error.diagnostics)} error")
            return None


def base_settings(**extra: Any) -> dict[str, Any]:
    return {"version": 1, "organization": "acme", "vars": {"x": 1},
            "include": ["*.yaml", "*.j2"], **extra}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALUES)
def test_random_settings_documents(doc: Any) -> None:
    load_dir(doc, {})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_random_settings_fields(extra: dict[str, Any]) -> None:
    load_dir(base_settings(**extra), {"a.yaml": "metric_alerts: []\n", "b.j2": "releases: []\n"})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sections() + ["alerts", "bogus"]), st.lists(VALUES, max_size=4), VALUES)
def test_random_entries_in_resource_files(section: str, entries: list[Any], whole: Any) -> None:
    load_dir(base_settings(), {"a.yaml": yaml.safe_dump({section: entries}),
                               "b.yaml": yaml.safe_dump(whole),
                               "c.j2": yaml.safe_dump({section: entries[:1]})})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200), st.text(alphabet="{}%[]:-&*!| \n\tabc#'\"<>.", max_size=120))
def test_random_text_files(text: str, symbols: str) -> None:
    load_dir(base_settings(), {"a.yaml": text, "b.yaml": symbols, "c.j2": symbols})
    load_dir(symbols, {})
