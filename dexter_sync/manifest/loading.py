"""`load_manifests(path)`: dexter.yaml, its includes, and every entry -> DesiredState.

Order of work: read and check dexter.yaml -> expand includes (globs relative to the file
that includes them; loops are refused) -> per file: read, render `.j2`, parse with
positions, hand each section to the EntryCollector. Problems accumulate across all files
and are raised once, as a single ValidationError.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from ..core.diagnostics import Diagnostic, Diagnostics, ValidationError, did_you_mean
from ..core.sources import SourceSpan
from ..core.state import DesiredState, ManifestSettings
from ..kinds.registry import RESERVED_SECTIONS, kinds_in_section, sections
from .entries import Defaults, EntryCollector
from .linemapping import TemplateLines
from .positions import YamlDocument
from .reading import read_manifest_text
from .settings import SETTINGS_FILE, SettingsFile
from .templating import TemplateContext, TemplateRenderer, template_env
from .validating import field_names, validate_mapping
from .yamlparsing import parse_yaml

INCLUDE_KEY = "include"
ENV_ALLOW_KEY = "env_allow"


@dataclass
class LoadedManifests:
    state: DesiredState
    files: list[str] = field(default_factory=list)
    """Display names of every file read, dexter.yaml first."""


def load_manifests(path: str | Path) -> DesiredState:
    """Load a manifest directory (or its dexter.yaml). Raises only ValidationError."""
    return load(path).state


def load(path: str | Path) -> LoadedManifests:
    return _Loader().run(Path(path))


def display_name(path: Path) -> str:
    """A path as users see it in messages: relative to the working directory when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


_PEEK_BYTES = 64 * 1024


def _refuse_resource_file(path: Path) -> None:
    """A file other than dexter.yaml is taken as settings only if it is not plainly a resource
    file (top-level resource sections and no `version:`): pointing at `alerts.yaml` then
    says what to do instead of listing four unknown fields."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_PEEK_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return  # the settings reader reports unreadable files with their position
    top_level = {line.split(":", 1)[0].strip() for line in head.splitlines()
                 if line[:1].isalpha() and ":" in line}
    found = sorted(top_level & (set(sections()) | set(RESERVED_SECTIONS)))
    if not found or "version" in top_level:
        return
    holder = next((parent for parent in path.resolve().parents
                   if (parent / SETTINGS_FILE).is_file()), None)
    hint = (f"point at the directory that holds {SETTINGS_FILE} (or pass the {SETTINGS_FILE} "
            "itself)")
    if holder is not None:
        hint += f": {display_name(holder)}"
    raise ValidationError([Diagnostic(
        "resource-file", f"{display_name(path)} is a resource file ({', '.join(found)}), "
        f"not {SETTINGS_FILE}", hint=hint)])


class _Loader:
    def __init__(self) -> None:
        self.problems = Diagnostics()
        self.collector = EntryCollector()
        self.files: list[str] = []
        self.loaded: set[Path] = set()
        self.settings_path: Path | None = None
        self.renderer = TemplateRenderer(TemplateContext())

    def run(self, path: Path) -> LoadedManifests:
        settings_path = path / SETTINGS_FILE if path.is_dir() else path
        if not settings_path.is_file():
            raise ValidationError([Diagnostic(
                "no-settings", f"no {SETTINGS_FILE} found at {display_name(settings_path)}",
                hint=f"point dexter at a directory holding {SETTINGS_FILE}")])
        if settings_path.name != SETTINGS_FILE:
            _refuse_resource_file(settings_path)
        self.settings_path = settings_path.resolve()
        settings, include, document = self._load_settings(settings_path)
        if document is not None and isinstance(include, list):  # else the model reported it
            self._include(include, settings_path.resolve(), document, (INCLUDE_KEY,),
                          stack=(self.settings_path,))
        self.problems.extend(self.collector.problems)
        self.problems.raise_if_any()
        assert settings is not None  # no problems means the settings validated
        return LoadedManifests(DesiredState(settings, self.collector.resources), self.files)

    # ---- dexter.yaml ------------------------------------------------------------------------

    def _load_settings(self, path: Path) -> tuple[ManifestSettings | None, Any, YamlDocument | None]:
        display = display_name(path)
        self.files.append(display)
        self.loaded.add(path.resolve())
        text, problems = read_manifest_text(path, display)
        self.problems.extend(problems)
        if text is None:
            return None, [], None
        document, problems = parse_yaml(text, display)
        self.problems.extend(problems)
        if document is None:
            return None, [], None
        if not isinstance(document.data, dict):
            self.problems.add(Diagnostic("invalid-settings", f"{SETTINGS_FILE} must be a mapping",
                                         span=SourceSpan(display, 1, 1)))
            return None, [], None
        raw_allow = document.data.get(ENV_ALLOW_KEY)  # read before any template renders
        env = template_env([str(name) for name in raw_allow]
                           if isinstance(raw_allow, list) else [])
        data = self._render_settings(document, env)
        model, problems = validate_mapping(SettingsFile, data, document, ())
        self.problems.extend(problems)
        declared = data.get("vars")
        vars_: dict[str, Any] = declared if isinstance(declared, dict) else {}
        organization = data.get("organization")
        self.renderer = TemplateRenderer(TemplateContext(
            vars=vars_, organization=organization if isinstance(organization, str) else "",
            env=env))
        self._check_sections(data, document)
        self.collector.defaults = self._defaults(data.get("defaults"), document)
        include = data.get(INCLUDE_KEY)
        settings = model.to_settings(str(path.parent)) if model is not None else None
        return settings, include, document

    def _render_settings(self, document: YamlDocument,
                         env: Mapping[str, str]) -> dict[str, Any]:
        """`{{ env.X }}` in dexter.yaml values: vars see only env; the rest see vars too
        (`env_allow` itself is never rendered: it decides what `env` holds)."""
        data = document.data
        env_only = TemplateRenderer(TemplateContext(env=env))
        raw_vars = data.get("vars")
        if isinstance(raw_vars, dict):
            data["vars"] = _render_tree(raw_vars, ("vars",), document, env_only, self.problems)
        vars_ = data.get("vars") if isinstance(data.get("vars"), dict) else {}
        with_vars = TemplateRenderer(TemplateContext(vars=vars_, env=env))
        for key in list(data):
            if key not in ("vars", ENV_ALLOW_KEY):
                data[key] = _render_tree(data[key], (key,), document, with_vars, self.problems)
        return cast("dict[str, Any]", data)

    def _check_sections(self, data: dict[str, Any], document: YamlDocument) -> None:
        """`prune:` keys must be sections; reserved sections are not supported yet."""
        prune = data.get("prune")
        if isinstance(prune, dict):
            for section in prune:
                problem = _section_problem(str(section), document, ("prune", section))
                if problem:
                    self.problems.add(problem)

    def _defaults(self, raw: Any, document: YamlDocument) -> Defaults:
        defaults = Defaults()
        if not isinstance(raw, dict):
            return defaults
        known = set(sections())
        all_fields: set[str] = set()  # of every kind: read only for a key that is no section
        for key, value in raw.items():
            located = document.spans.get(("defaults", key))
            if located is not None:
                defaults.spans[(key,)] = located
            if key in known and isinstance(value, dict):
                names = set().union(*(field_names(k.entry_model) for k in kinds_in_section(key)))
                for name in value:
                    self._check_default(name, names, document, ("defaults", key, name))
                    if ("defaults", key, name) in document.spans:
                        defaults.spans[(key, name)] = document.spans[("defaults", key, name)]
                defaults.by_section[key] = value
            else:
                if not all_fields:
                    all_fields = set().union(*(field_names(k.entry_model)
                                               for s in known for k in kinds_in_section(s)))
                self._check_default(key, all_fields | known, document, ("defaults", key))
                defaults.common[key] = value
        return defaults

    def _check_default(self, name: str, names: set[str], document: YamlDocument,
                       path: tuple[str, ...]) -> None:
        if name not in names:
            self.problems.add(Diagnostic(
                "unknown-field", f"default {name!r} is not a field of any kind here",
                span=document.span(path), path=path, hint=did_you_mean(name, names)))

    # ---- includes ---------------------------------------------------------------------------

    def _include(self, patterns: Any, owner: Path, document: YamlDocument,
                 path: tuple[Any, ...], *, stack: tuple[Path, ...]) -> None:
        if patterns is None:
            return
        if not isinstance(patterns, list):
            self.problems.add(Diagnostic("invalid-include", "include must be a list of globs",
                                         span=document.span(path), path=path))
            return
        for index, pattern in enumerate(patterns):
            where = document.span((*path, index), key=False)
            if not isinstance(pattern, str) or not pattern.strip():
                self.problems.add(Diagnostic("invalid-include", "an include glob must be text",
                                             span=where, path=(*path, index)))
                continue
            for target in self._expand(pattern, owner, where, stack):
                self._load_resource_file(target, stack=(*stack, target))

    def _expand(self, pattern: str, owner: Path, where: SourceSpan,
                stack: tuple[Path, ...]) -> list[Path]:
        if os.path.isabs(pattern) or ".." in Path(pattern).parts:
            self.problems.add(Diagnostic(
                "invalid-include", f"include glob {pattern!r} must be relative to the file that "
                "includes it and stay inside its directory (no absolute paths, no `..`)",
                span=where))
            return []
        base = owner.parent
        matches = sorted(Path(m).resolve() for m in glob.glob(os.path.join(glob.escape(str(base)), pattern),
                                                   recursive=True)
                         if os.path.isfile(m))
        explicit = not glob.has_magic(pattern)
        found: list[Path] = []
        root = self.settings_path.parent if self.settings_path else base
        for match in matches:
            if not match.is_relative_to(root):  # a symlink leading out, as `..` would
                self.problems.add(Diagnostic(
                    "invalid-include", f"include glob {pattern!r} reaches {match}, outside the "
                    f"manifest root {display_name(root) or '.'} (through a symlink); refused "
                    "as `..` is", span=where))
                continue
            if match in stack:
                if explicit or match != self.settings_path:
                    chain = " -> ".join(display_name(p) for p in (*stack, match))
                    self.problems.add(Diagnostic(
                        "include-loop", f"include loop: {chain}", span=where,
                        hint="a file may not include itself or a file that includes it"))
                continue  # a glob such as `*.yaml` next to dexter.yaml skips dexter.yaml
            found.append(match)
        if not matches:
            self.problems.add(Diagnostic(
                "include-no-match", f"include glob {pattern!r} matches no file "
                f"(relative to {display_name(base) or '.'})", span=where))
        return found

    # ---- resource files -----------------------------------------------------------------------

    def _load_resource_file(self, path: Path, *, stack: tuple[Path, ...]) -> None:
        if path in self.loaded:
            return  # matched by two globs: loaded once
        self.loaded.add(path)
        display = display_name(path)
        self.files.append(display)
        text, problems = read_manifest_text(path, display)
        self.problems.extend(problems)
        if text is None:
            return
        rendered = path.name.endswith(".j2")
        template = TemplateLines(text)
        if rendered:
            text, problem = self.renderer.render_file(text, display)
            if problem is not None or text is None:
                if problem is not None:
                    self.problems.add(problem)
                return
            document, problems = parse_yaml(text, display, rendered=True)
        else:
            document, problems = parse_yaml(text, display, render=self.renderer.render_value)
        lines = text.splitlines() if rendered else []
        before = len(self.collector.problems)
        self.problems.extend(_mark_rendered(problems, lines, template))
        if document is None:
            return
        self._read_sections(document, path, stack)
        self.collector.problems[before:] = _mark_rendered(self.collector.problems[before:], lines,
                                                          template)

    def _read_sections(self, document: YamlDocument, path: Path, stack: tuple[Path, ...]) -> None:
        data = document.data
        if not isinstance(data, dict):
            self.problems.add(Diagnostic(
                "invalid-file", "a resource file must be a mapping of sections such as "
                f"{', '.join(sections())}", span=document.span(())))
            return
        for key, value in data.items():
            if key == INCLUDE_KEY:
                self._include(value, path, document, (key,), stack=stack)
                continue
            problem = _section_problem(key, document, (key,))
            if problem:
                self.problems.add(problem)
                continue
            self.collector.add_section(key, value, document)


def _section_problem(key: str, document: YamlDocument, path: tuple[Any, ...]) -> Diagnostic | None:
    known = sections()
    if key in known:
        return None
    if key in RESERVED_SECTIONS:
        return Diagnostic(
            "not-supported-yet", f"section {key!r} (Sentry's new alerting model) is not "
            "supported yet", span=document.span(path), path=path,
            hint=f"this version manages {', '.join(known)}")
    return Diagnostic("unknown-section", f"unknown section {key!r}", span=document.span(path),
                      path=path, hint=did_you_mean(key, [*known, INCLUDE_KEY])
                      or f"sections are {', '.join(known)}")


def _render_tree(value: Any, path: tuple[Any, ...], document: YamlDocument,
                 renderer: TemplateRenderer, problems: Diagnostics) -> Any:
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        result = renderer.render_value(value, document.span(path, key=False))
        if isinstance(result, Diagnostic):
            problems.add(result)
            return value
        return result
    if isinstance(value, dict):
        return {k: _render_tree(v, (*path, k), document, renderer, problems)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_render_tree(v, (*path, i), document, renderer, problems)
                for i, v in enumerate(value)]
    return value


def _mark_rendered(problems: list[Diagnostic], lines: list[str],
                   template: TemplateLines) -> list[Diagnostic]:
    """Positions in a `.j2` file come from its rendered output: point at the template line
    that produced it when that is unambiguous, and always quote the rendered line."""
    if not lines:
        return problems
    marked = []
    for p in problems:
        span, note = p.span, "line numbers refer to the rendered output of this template"
        if span is not None and 0 < span.line <= len(lines):
            quoted = lines[span.line - 1].strip()[:80]
            origin = template.origin(lines[span.line - 1])
            if origin is not None:
                note = f"template line {origin}, rendered as line {span.line}: {quoted!r}"
                # the column survives when the text before it is the same in both lines
                same = lines[span.line - 1][:span.column - 1] == \
                    template.line(origin)[:span.column - 1]
                span = SourceSpan(span.file, origin, span.column if same else 1)
            else:
                note += f"; rendered line {span.line}: {quoted!r}"
        hint = f"{p.hint}; {note}" if p.hint else note
        marked.append(dataclasses.replace(p, span=span, hint=hint))
    return marked
