"""The layers stay apart (DESIGN.md "Layers"; STYLE.md "The shape of the house").

Checked from the source with `ast`, so a stray import fails here rather than in review:
core is pure (no httpx, no file or network libraries above it), only the sentry package and
the emulator speak HTTP, the emulator imports nothing of dexter above it, kinds stay pure,
and deepdiff lives in one module.
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


@pytest.mark.parametrize(("subpackage", "forbidden"), [
    ("core", ("httpx", "tenacity", "starlette", "uvicorn", "click", "dexter_sync.sentry",
              "dexter_sync.cli", "dexter_sync.apply", "dexter_sync.render",
              "dexter_sync.emulator", "dexter_sync.manifest")),
    ("kinds", ("httpx", "tenacity", "starlette", "click", "dexter_sync.sentry",
               "dexter_sync.cli", "dexter_sync.apply", "dexter_sync.emulator")),
    ("manifest", ("httpx", "tenacity", "dexter_sync.sentry", "dexter_sync.cli",
                  "dexter_sync.apply", "dexter_sync.emulator")),
    ("render", ("httpx", "tenacity", "dexter_sync.sentry", "dexter_sync.cli",
                "dexter_sync.apply", "dexter_sync.emulator")),
    ("apply", ("httpx", "dexter_sync.cli", "dexter_sync.emulator")),
    # the GitHub Action's steps: httpx for GitHub's REST API only; Sentry through the CLI
    ("action", ("dexter_sync.cli", "dexter_sync.emulator", "dexter_sync.apply",
                "dexter_sync.sentry")),
    ("selftest", ("httpx", "click", "starlette", "uvicorn", "dexter_sync.cli",
                  "dexter_sync.emulator")),
    ("watch", ("dexter_sync.cli", "dexter_sync.emulator")),
    ("emulator", ("dexter_sync.core", "dexter_sync.kinds", "dexter_sync.manifest",
                  "dexter_sync.sentry", "dexter_sync.apply", "dexter_sync.render",
                  "dexter_sync.cli")),
])
def test_layer_imports_only_what_lies_below(subpackage: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(subpackage, forbidden) == []


def test_deepdiff_is_kept_inside_one_module() -> None:
    users = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if any(n.split(".")[0] == "deepdiff" for n in imports_of(p)))
    assert users == ["core/diffing.py"] or users == ["core/cosmetics.py", "core/diffing.py"]


def test_the_check_sees_imports() -> None:
    """Guard against a checker that passes because it reads nothing."""
    assert "httpx" in imports_of(PACKAGE / "sentry" / "client.py")
    assert "dexter_sync.core.diagnostics" in imports_of(PACKAGE / "cli" / "main.py")
