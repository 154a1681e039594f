"""YAML -> plain Python data with positions, safely.

Only the composer runs (libyaml's when available): no Python objects are ever constructed
from tags, so `!!python/...` and any other non-standard tag is reported, not executed.
Nodes are converted by hand so that every key and value keeps its line:column, duplicate
keys are caught (YAML keeps the last one silently) and alias bombs are measured before they
are expanded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from ..core.diagnostics import Diagnostic
from ..core.sources import FieldPath, SourceSpan
from .positions import Located, YamlDocument
from .reading import tab_indentation

MAX_ALIAS_EXPANSION = 100_000
"""Nodes that aliases may add to a file once expanded (billion-laughs guard)."""
MAX_DEPTH = 100

Renderer = Callable[[str, SourceSpan], "str | Diagnostic"]
"""Renders `{{ }}` inside one string value, or says why it cannot."""

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_TAG}{t}" for t in ("null", "bool", "int", "float", "str", "timestamp")}
_CONSTRUCTOR = yaml.SafeLoader("")  # only its scalar constructors are used, on scalar nodes


class _Abort(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def parse_yaml(text: str, display: str, *, render: Renderer | None = None,
               rendered: bool = False) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Parse one YAML document. Returns None when the file cannot be parsed at all."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as error:
        tab = tab_indentation(text, display)
        return None, [tab if tab else _yaml_error(error, display)]
    except RecursionError:
        return None, [Diagnostic("yaml-too-deep", f"nesting is deeper than {MAX_DEPTH} levels",
                                 span=SourceSpan(display, 1, 1))]
    document = YamlDocument(display, None, rendered=rendered)
    if root is None:
        document.data = {}
        return document, []
    converter = _Converter(document, render)
    try:
        # without an anchor (`&`) there is no alias to expand: skip the measuring walk
        expanded = converter.expanded_size(root, 0) if "&" in text else 0
        distinct = converter.distinct_nodes
        if expanded - distinct > MAX_ALIAS_EXPANSION:
            raise _Abort(Diagnostic(
                "alias-bomb",
                f"aliases expand this file to {expanded:,} nodes from {distinct:,}; "
                f"aliases may add at most {MAX_ALIAS_EXPANSION:,} nodes to a file",
                span=SourceSpan(display, 1, 1),
                hint="reuse values with fewer nested aliases (a 'billion laughs' document?)",
            ))
        document.data = converter.convert(root, (), None, 0)
    except _Abort as abort:
        return None, [abort.diagnostic]
    return document, converter.problems


def _yaml_error(error: yaml.YAMLError, display: str) -> Diagnostic:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    if isinstance(error, yaml.reader.ReaderError):
        message = f"invalid YAML: character {error.character!r} is not allowed in YAML text"
    return Diagnostic("invalid-yaml", message, span=SourceSpan(display, line, column))


def _span(display: str, node: yaml.Node) -> SourceSpan:
    return SourceSpan(display, node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    def __init__(self, document: YamlDocument, render: Renderer | None) -> None:
        self.document = document
        self.display = document.file
        self.render = render
        self.problems: list[Diagnostic] = []
        self._sizes: dict[int, int] = {}

    @property
    def distinct_nodes(self) -> int:
        return len(self._sizes)

    def expanded_size(self, node: yaml.Node, depth: int) -> int:
        """Nodes in the tree once aliases are expanded (memoized per node: linear time)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise _Abort(Diagnostic(
                "yaml-too-deep",
                f"nesting is deeper than {MAX_DEPTH} levels (or an alias refers to itself)",
                span=_span(self.display, node)))
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self.expanded_size(item, depth + 1) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                size += self.expanded_size(key, depth + 1) + self.expanded_size(value, depth + 1)
        self._sizes[id(node)] = size
        return size

    def convert(self, node: yaml.Node, path: FieldPath, key_span: SourceSpan | None,
                depth: int) -> Any:
        here = _span(self.display, node)
        if depth > MAX_DEPTH:
            raise _Abort(Diagnostic("yaml-too-deep", f"nesting is deeper than {MAX_DEPTH} levels",
                                    span=here))
        self.document.spans.setdefault(path, Located(here, key_span))  # explicit keys beat `<<` merges
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, here)
        if node.tag not in (f"{_TAG}map", f"{_TAG}seq", f"{_TAG}omap"):
            self._bad_tag(node.tag, here)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), None, depth + 1)
                    for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)  # scalars and sequences returned above
        return self._mapping(node, path, depth)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, SourceSpan] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            key_span = _span(self.display, key_node)
            if key_node.tag == f"{_TAG}merge":
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(Diagnostic(
                    "invalid-key", "a mapping key must be a plain name, not a list or mapping",
                    span=key_span, path=path,
                    hint='quote template expressions in plain YAML files: "{{ ... }}"'))
                continue
            key = str(key_node.value)
            if key in first_seen:
                self.problems.append(Diagnostic(
                    "duplicate-key", f"duplicate key {key!r} (first defined at {first_seen[key]})",
                    span=key_span, path=path,
                    hint="YAML would silently keep only the last one; remove one of them"))
                continue
            first_seen[key] = key_span
            result[key] = self.convert(value_node, (*path, key), key_span, depth + 1)
        for merged in merges:
            self._merge(result, merged, path, depth)
        return result

    def _merge(self, result: dict[str, Any], merged: yaml.Node, path: FieldPath,
               depth: int) -> None:
        """`<<: *base` (or a list of them): fill in keys the mapping does not set itself."""
        sources = merged.value if isinstance(merged, yaml.SequenceNode) else [merged]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.problems.append(Diagnostic(
                    "invalid-merge", "`<<` must merge a mapping (or a list of mappings)",
                    span=_span(self.display, source), path=path))
                continue
            values = self._mapping(source, path, depth + 1)
            for key, value in values.items():
                result.setdefault(key, value)

    def _scalar(self, node: yaml.ScalarNode, here: SourceSpan) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            self._bad_tag(tag, here)
            return node.value
        if tag == f"{_TAG}str":
            value = node.value
            if self.render is not None and ("{{" in value or "{%" in value):
                rendered = self.render(value, here)
                if isinstance(rendered, Diagnostic):
                    self.problems.append(rendered)
                    return value
                return rendered
            return value
        if tag == f"{_TAG}timestamp":
            return node.value  # dates stay text; models parse what they need
        try:
            return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
        except Exception:  # noqa: BLE001 -- an explicit tag that does not fit (`!!int abc`)
            self.problems.append(Diagnostic(
                "invalid-yaml", f"{node.value!r} is not a valid {tag.removeprefix(_TAG)}",
                span=here))
            return node.value

    def _bad_tag(self, tag: str, here: SourceSpan) -> None:
        shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
        raise _Abort(Diagnostic(
            "unsupported-tag",
            f"YAML tag {shown!r} is not allowed: manifests are loaded safely and hold plain "
            "values only (strings, numbers, booleans, null, lists, mappings)",
            span=here,
            hint="remove the tag" if "python" not in tag else
            "Python object tags are never executed; write the value itself",
        ))
