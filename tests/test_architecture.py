"""The layers stay apart (DESIGN.md "Layers"; STYLE.md "The shape of the house").

Checked from the source with `ast` (every import statement, function-local ones included),
so a stray import fails here rather than in review: core imports no other dexter package,
kinds only core, the emulator nothing outside itself, only the CLI wires the emulator in as
the embedded default, only the sentry package and the emulator speak HTTP, and deepdiff
lives in one module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dexter_sync"


def imports_of(path: Path) -> set[str]:
    """Absolute module names imported by one file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
    return found


def files_in(subpackage: str) -> list[Path]:
    return sorted((PACKAGE / subpackage).rglob("*.py"))


def offenders(subpackage: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in files_in(subpackage):
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return bad


# Which dexter packages each package may import (itself always): the layers, bottom up.
# A package not listed may import anything but the CLI and the emulator.
DEXTER_ALLOWED = {
    "core": (),
    "kinds": ("core",),
    "manifest": ("core", "kinds"),
    "render": ("core",),
    "sentry": ("core", "kinds"),
    "apply": ("core", "kinds", "sentry", "render"),
    "emulator": (),
    "cli": ("*",),
}
# Libraries and modules a layer must not touch: core is pure, only sentry and the emulator
# speak HTTP to Sentry; the GitHub Action's steps use httpx for GitHub's REST API only and
# reach Sentry through the CLI.
LIBRARIES_FORBIDDEN = {
    "core": ("httpx", "tenacity", "starlette", "uvicorn", "click"),
    "kinds": ("httpx", "tenacity", "starlette", "click"),
    "manifest": ("httpx", "tenacity"),
    "render": ("httpx", "tenacity"),
    "apply": ("httpx",),
    "action": ("dexter_sync.apply", "dexter_sync.sentry"),
    "selftest": ("httpx", "click", "starlette", "uvicorn"),
}


def packages() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir()
                  if p.is_dir() and (p / "__init__.py").exists())


def dexter_offenders(subpackage: str) -> list[str]:
    allowed = DEXTER_ALLOWED.get(subpackage)
    bad = []
    for path in files_in(subpackage):
        for name in sorted(imports_of(path)):
            parts = name.split(".")
            if parts[0] != "dexter_sync" or len(parts) < 2 or parts[1] == subpackage:
                continue
            target = parts[1]
            if allowed is None:
                ok = target not in ("cli", "emulator")
            else:
                ok = "*" in allowed or target in allowed
            if not ok:
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return bad


@pytest.mark.parametrize("subpackage", packages())
def test_layer_imports_only_what_lies_below(subpackage: str) -> None:
    """Every import counts, function-local and TYPE_CHECKING ones included."""
    assert dexter_offenders(subpackage) == []
    forbidden = LIBRARIES_FORBIDDEN.get(subpackage, ())
    assert offenders(subpackage, forbidden) == []


def test_only_the_cli_wires_the_emulator_in() -> None:
    users = sorted({str(p.relative_to(PACKAGE).parts[0]) for p in PACKAGE.rglob("*.py")
                    if any(n.startswith("dexter_sync.emulator") for n in imports_of(p))}
                   - {"emulator"})
    assert users == ["cli"]


def test_the_check_sees_function_local_imports() -> None:
    """A late import inside a function is an import like any other."""
    source = PACKAGE / "cli" / "embedded.py"
    late = [n for n in ast.walk(ast.parse(source.read_text()))
            if isinstance(n, ast.FunctionDef) and any(
                isinstance(x, ast.ImportFrom) and x.module == "emulator" for x in ast.walk(n))]
    assert late, "cli/embedded.py imports the emulator inside open_embedded()"
    assert "dexter_sync.emulator" in imports_of(source)


def test_deepdiff_is_kept_inside_one_module() -> None:
    users = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if any(n.split(".")[0] == "deepdiff" for n in imports_of(p)))
    assert users == ["core/diffing.py"] or users == ["core/cosmetics.py", "core/diffing.py"]


def test_the_check_sees_imports() -> None:
    """Guard against a checker that passes because it reads nothing."""
    assert "httpx" in imports_of(PACKAGE / "sentry" / "client.py")
    assert "dexter_sync.core.diagnostics" in imports_of(PACKAGE / "cli" / "main.py")


def test_core_calls_declared_hooks_only() -> None:
    """The kind contract is declared (core/contract.py, kinds/base.py), never discovered:
    core looks no hook of a kind up by name."""
    found = []
    for path in files_in("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "hasattr") and node.args \
                    and "kind" in ast.unparse(node.args[0]):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
    assert _looks_up(ast.parse("getattr(kind, 'canonical_from_payload', None)"))


def _looks_up(tree: ast.AST) -> bool:
    """Guard: the check above recognises a look-up by name."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
               and n.func.id == "getattr" and "kind" in ast.unparse(n.args[0])
               for n in ast.walk(tree))
