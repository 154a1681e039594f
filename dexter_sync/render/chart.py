"""A time series drawn in the terminal (`dexter query --chart`). Pure.

    count()  max 1712
     1712 ┤        ▄█▇
          │     ▃▆████▆▅
        0 ┤▁▂▅▇█████████
          └─────────────
           05:00     17:00

Buckets are columns (averaged down to `width` columns when there are more), each drawn with
eighth-block characters over `height` rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

BLOCKS = " ▁▂▃▄▅▆▇█"


def _columns(values: list[float], width: int) -> list[float]:
    if len(values) <= width:
        return values
    out = []
    for i in range(width):
        lo, hi = i * len(values) // width, (i + 1) * len(values) // width
        part = values[lo:max(hi, lo + 1)]
        out.append(sum(part) / len(part))
    return out


def _label(ms: int, span_ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%H:%M" if span_ms < 43_200_000 else "%m-%d %H:%M")


def chart(title: str, points: list[tuple[int, float]], *, width: int = 60,
          height: int = 8) -> str:
    if not points:
        return f"{title}: no data"
    values = _columns([v for _, v in points], max(width, 1))
    top = max(values) or 1.0
    top_label = f"{top:.4g}"
    label_width = len(top_label)
    rows = []
    for level in range(height, 0, -1):
        line = ""
        for value in values:
            eighths = round(value / top * height * 8) - (level - 1) * 8
            line += BLOCKS[max(0, min(8, eighths))]
        axis = top_label if level == height else ("0" if level == 1 else "")
        rows.append(f"{axis.rjust(label_width)} {'┤' if axis else '│'}{line.rstrip()}")
    span = points[-1][0] - points[0][0]
    first, last = _label(points[0][0], span), _label(points[-1][0], span)
    footer = " " * (label_width + 1) + "└" + "─" * len(values)
    labels = " " * (label_width + 2) + first + last.rjust(max(len(values) - len(first), 0))
    return "\n".join([f"{title}  (max {top_label}, {len(points)} buckets)", *rows, footer,
                      labels])
