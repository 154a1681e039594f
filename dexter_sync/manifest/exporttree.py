"""Writing an export into a directory without harming anything else in it.

Export runs next to git checkouts and notes, so it only ever touches what it wrote:

- a marker file (`.dexter-export.json`) in the target lists the files this export wrote;
  a later export removes only files that marker lists and that it no longer writes;
- a directory that is not empty and holds no marker is refused unless `force` (then
  files are written, nothing is removed);
- dot-files and dot-directories (`.git`, `.env`, ...) are never written or removed;
- every file name is checked to resolve inside the target (a server-provided name such
  as `../../outside` or a symlinked subdirectory cannot lead a write elsewhere);
- each file is replaced atomically (temp file + rename), and the marker lists the union of
  old and new files while writing, so a failed export is repaired by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path, PurePosixPath

from ..core.diagnostics import DexterError

MARKER = ".dexter-export.json"
_SAFE = re.compile(r"[^a-z0-9_.-]+")


def safe_slug(value: str) -> str:
    """A file-name-safe form of a server-provided value (a project slug, a name).

    Lower case letters, digits, `.`, `_`, `-`; never empty, never starting with a dot. A value
    that had to be changed gets a short hash, so two different values never share a file.
    """
    slug = _SAFE.sub("-", value.lower()).strip("-.") or "_"
    if slug != value:
        slug += "-" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return slug


def _relative(name: str) -> PurePosixPath:
    """`name` as a relative path that stays inside the target and touches no dot-file."""
    path = PurePosixPath(name)
    if (path.is_absolute() or not path.parts or ".." in path.parts
            or any(part.startswith(".") for part in path.parts)):
        raise DexterError(f"export refused the file name {name!r}: it would leave the "
                          "target directory or touch a hidden file", code="export-path")
    return path


def _inside(target: Path, path: Path, name: str) -> Path:
    """`path` after resolving symlinks, refused unless it lies inside `target`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(target):
        raise DexterError(f"export refused to write {name}: it resolves to {resolved}, "
                          f"outside {target}", code="export-path")
    return resolved


def _read_marker(target: Path) -> list[str]:
    marker = target / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DexterError(f"{marker} cannot be read ({error}); remove it or export to "
                          "another directory", code="export-target") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise DexterError(f"{marker} is not an export marker (no `files` list)",
                          code="export-target")
    return files


def _write_atomically(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(prefix=".dexter-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; an export is an ordinary file
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _write_marker(target: Path, files: list[str]) -> None:
    _write_atomically(target / MARKER, json.dumps(
        {"written_by": "dexter export", "files": sorted(set(files))}, indent=1) + "\n")


def write_tree(files: dict[str, str], out_dir: str | os.PathLike[str], *,
               force: bool = False) -> Path:
    """Write `files` (relative path -> text) under `out_dir`; see the module docstring."""
    target = Path(out_dir).resolve()
    if target.exists() and not target.is_dir():
        raise DexterError(f"{out_dir} exists and is not a directory", code="export-target")
    previous: list[str] = []
    if target.is_dir():
        if (target / MARKER).is_file():
            previous = _read_marker(target)
        elif any(target.iterdir()) and not force:
            raise DexterError(
                f"{out_dir} is not empty and was not written by dexter export: refusing to "
                "write into it (choose an empty directory, or --force to write the export's "
                "files into it without removing anything)", code="export-target")
    names = {str(_relative(name)): text for name, text in files.items()}
    target.mkdir(parents=True, exist_ok=True)
    # the marker first claims old and new files, so a failed run is cleaned up by the next
    _write_marker(target, previous + list(names))
    for name, text in names.items():
        path = target / name
        _inside(target, path.parent, name).mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_dir():
            raise DexterError(f"export refused to replace {path}: it is a symlink or a "
                              "directory", code="export-path")
        _write_atomically(_inside(target, path, name), text)
    for name in sorted(set(previous) - set(names)):
        _remove_stale(target, name)
    _write_marker(target, list(names))
    return target


def _remove_stale(target: Path, name: str) -> None:
    """Remove a file an earlier export wrote and this one does not (and its emptied dirs)."""
    try:
        relative = _relative(name)
    except DexterError:
        return  # a tampered marker names something that is not ours to remove
    path = target / relative
    if path.is_symlink() or not path.is_file() or not path.resolve().is_relative_to(target):
        return
    path.unlink()
    parent = path.parent
    while parent != target and parent.is_relative_to(target) and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
