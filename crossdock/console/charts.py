"""Charts drawn on the server as SVG (no script, no CDN): each bar links to the orders
behind it."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 560
BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 170


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as the operator reads it
    href: str = ""


def bar_chart(title: str, bars: list[Bar]) -> Markup:
    """A horizontal bar chart; an empty one says there is nothing to draw."""
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + 30
    top = max((b.value for b in bars), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not bars:
        parts.append('<text x="0" y="44" class="chart-empty">—</text>')
    for n, bar in enumerate(bars):
        y = 28 + n * (BAR_HEIGHT + GAP)
        length = max(1.0, (WIDTH - LABEL_WIDTH - 90) * bar.value / top)
        body = (
            f'<text x="0" y="{y + 15}" class="chart-label">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'class="chart-bar"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 15}" class="chart-value">'
            f"{escape(bar.text)}</text>"
        )
        if bar.href:
            body = f'<a href="{escape(bar.href)}" class="chart-link">{body}</a>'
        parts.append(f"<g>{body}</g>")
    parts.append("</svg>")
    return Markup("".join(parts))
