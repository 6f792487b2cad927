"""A horizontal bar chart as inline SVG, rendered on the server (pure: bars in, markup out).

No JavaScript and no style attributes (the CSP allows neither inline script nor inline style):
geometry is in SVG attributes, colours in the classes of static/app.css (``bar``, ``bar neg``,
``bar-max``). Each bar may show its maximum as a pale track behind it, so an indicator's points read
against what it could have given. Labels and numbers are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    max: Decimal | None = None  # the track behind the bar (the most it could be)


ROW = 26  # px per bar
LABEL_W = 200
PLOT_W = 300
NUM_W = 90


def _n(x: float) -> str:
    return f"{x:.1f}"


def bar_chart(bars: Sequence[Bar], title: str) -> Markup:
    """Bars from a common zero line; negative values go left of it (class ``neg``)."""
    lo = min([Decimal(0)] + [b.value for b in bars])
    hi = max([Decimal(0)] + [b.value for b in bars] + [b.max for b in bars if b.max is not None])
    span = float(hi - lo) or 1.0

    def x(v: Decimal) -> float:
        return LABEL_W + PLOT_W * float(v - lo) / span

    zero = x(Decimal(0))
    height = ROW * len(bars) + 8
    width = LABEL_W + PLOT_W + NUM_W
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, b in enumerate(bars):
        y = 4 + i * ROW
        if b.max is not None and b.max > 0:
            parts.append(
                f'<rect class="bar-max" x="{_n(zero)}" y="{y + 4}" width="{_n(x(b.max) - zero)}" height="{ROW - 10}"/>'
            )
        left, right = sorted((zero, x(b.value)))
        cls = "bar neg" if b.value < 0 else "bar"
        parts.append(
            f'<rect class="{cls}" x="{_n(left)}" y="{y + 4}" width="{_n(max(right - left, 0.5))}" height="{ROW - 10}">'
            f"<title>{escape(b.label)}：{b.value}</title></rect>"
        )
        label = b.label if len(b.label) <= 14 else b.label[:13] + "…"
        parts.append(f'<text class="chart-label" x="{LABEL_W - 6}" y="{y + ROW / 2 + 4}">{escape(label)}</text>')
        suffix = f" / {b.max}" if b.max is not None else ""
        parts.append(
            f'<text class="chart-num" x="{LABEL_W + PLOT_W + 6}" y="{y + ROW / 2 + 4}">{escape(f"{b.value}{suffix}")}</text>'
        )
    parts.append(f'<line class="chart-zero" x1="{_n(zero)}" x2="{_n(zero)}" y1="0" y2="{height}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
