"""Query results as text: an aligned table, CSV or JSON (`dexter query --format`). Pure."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

MAX_CELL = 60


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if not value.is_integer() else f"{value:.0f}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def table_text(fields: list[str], rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """Columns in `fields` order, numbers right-aligned, a rule under the header."""
    types = meta.get("fields") or {}
    numeric = {f for f in fields if types.get(f) in ("integer", "number", "duration",
                                                      "percentage")}
    cells = [[_cell(row.get(f)) for f in fields] for row in rows]
    widths = [max([len(f), *(len(r[i]) for r in cells)]) for i, f in enumerate(fields)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if f in numeric else v.ljust(w)
                         for v, w, f in zip(values, widths, fields, strict=True)).rstrip()

    out = [line(fields), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def table_csv(fields: list[str], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(["" if row.get(f) is None else row.get(f) for f in fields])
    return buffer.getvalue().rstrip("\n")


def table_json(fields: list[str], rows: list[dict[str, Any]], meta: dict[str, Any], *,
               truncated: bool, series: list[dict[str, Any]] | None = None) -> str:
    body: dict[str, Any] = {"fields": fields, "data": rows, "meta": meta,
                            "truncated": truncated}
    if series is not None:
        body["series"] = series
    return json.dumps(body, indent=2, sort_keys=True)
