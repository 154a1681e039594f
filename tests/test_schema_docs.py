"""`dexter schema`: the committed schemas/ and docs/manifest-reference.md are current, the
schemas accept examples/acme and reject bad files, and the reference covers every kind and
field in the registry."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from dexter_sync.cli.main import cli
from dexter_sync.cli.schema import generated_files
from dexter_sync.kinds.registry import all_kinds
from dexter_sync.manifest.schemas import resources_schema, settings_schema

REPO = Path(__file__).resolve().parents[1]
ACME = REPO / "examples" / "acme"
DOCS = REPO / "docs" / "manifest-reference.md"


def test_committed_schemas_and_reference_are_current() -> None:
    stale = [str(path.relative_to(REPO)) for path, text in
             generated_files(REPO / "schemas", DOCS).items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    assert stale == [], "regenerate with `dexter schema --docs docs/manifest-reference.md`"


def test_check_flag_passes_on_current_files_and_fails_on_stale(tmp_path: Path) -> None:
    runner = CliRunner()
    out, docs = tmp_path / "schemas", tmp_path / "ref.md"
    written = runner.invoke(cli, ["schema", "--out", str(out), "--docs", str(docs)])
    assert written.exit_code == 0, written.output
    assert (out / "resources.schema.json").read_text() == \
        (REPO / "schemas" / "resources.schema.json").read_text()
    check = runner.invoke(cli, ["schema", "--out", str(out), "--docs", str(docs), "--check"])
    assert check.exit_code == 0, check.output
    docs.write_text(docs.read_text() + "\nhand edit\n")
    check = runner.invoke(cli, ["schema", "--out", str(out), "--docs", str(docs), "--check"])
    assert check.exit_code == 1
    assert "out of date" in check.output and "ref.md" in check.output


def _documents(pattern: str) -> list[Path]:
    return sorted(p for p in ACME.glob(pattern) if p.name != "dexter.yaml")


def test_example_files_satisfy_the_schemas() -> None:
    jsonschema.validate(yaml.safe_load((ACME / "dexter.yaml").read_text()), settings_schema())
    validator = jsonschema.Draft202012Validator(resources_schema())
    files = _documents("**/*.yaml")
    assert len(files) >= 4
    for path in files:
        validator.validate(yaml.safe_load(path.read_text()))


def test_example_files_carry_the_editor_modeline() -> None:
    for path in [ACME / "dexter.yaml", *_documents("**/*.yaml"), *_documents("**/*.j2")]:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert target.is_file(), f"{path}: modeline points at {target}"


@pytest.mark.parametrize("document", [
    {"metric_alerts": [{"name": "x", "tme_window": 5}]},
    {"integration_links": [{"type": "nope", "name": "acme/x"}]},
    {"monitors": [{"type": "metric", "name": "x", "project": "backend"}]},
    {"monitors": [{"type": "heartbeat", "name": "x", "project": "backend"}]},
    {"alerts": [{"name": "x", "frequncy": "30m"}]},
])
def test_resource_schema_rejects_bad_files(document: dict) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, resources_schema())


def test_reference_covers_every_kind_and_field() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for kind in all_kinds():
        assert f'<a id="kind-{kind.name}"></a>' in text
        for name in kind.entry_model.model_fields:
            assert f"| `{name}` |" in text, f"{kind.name}.{name} missing from the reference"


def test_reference_links_resolve() -> None:
    text = DOCS.read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    targets = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert targets and targets <= anchors, sorted(targets - anchors)
