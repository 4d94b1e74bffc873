"""Server-rendered SVG line charts: readable without JavaScript and allowed by a strict CSP.

Only presentation attributes are used (no ``style``), so the markup passes
``style-src 'self'``.  Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 48


def line_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    y_label: str,
    x_label: str = "",
    target: float | None = None,
    target_label: str = "",
    y_max: float | None = None,
) -> Markup:
    """A daily series as a polyline with labelled axes and an optional dashed target line.

    Days without a value break the line rather than pretending zero.
    """
    present = [v for v in values if v is not None]
    top = y_max if y_max is not None else max([*present, target or 0, 1.0]) * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - min(v, top) / top)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#555"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#555"/>',
    ]
    for step in range(5):
        v = top * step / 4
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" fill="#333">{v:.0f}</text>'
        )
        parts.append(f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + plot_w}" y2="{y(v):.1f}" stroke="#ddd"/>')
    every = max(1, n // 10)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" font-size="11" '
                f'fill="#333">{escape(label[5:] if len(label) == 10 else label)}</text>'
            )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" text-anchor="middle" font-size="12" fill="#333">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" font-size="12" fill="#333" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_label)}</text>'
    )
    if target is not None:
        ty = y(target)
        parts.append(
            f'<line class="target" x1="{LEFT}" y1="{ty:.1f}" x2="{LEFT + plot_w}" y2="{ty:.1f}" '
            f'stroke="#c0392b" stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{LEFT + plot_w - 4}" y="{ty - 4:.1f}" text-anchor="end" font-size="11" fill="#c0392b">'
            f"{escape(target_label)}</text>"
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, v in enumerate(values):
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="#1f5fa8"/>')
    if segment:
        segments.append(segment)
    parts.extend(f'<polyline points="{" ".join(s)}" fill="none" stroke="#1f5fa8" stroke-width="2"/>' for s in segments)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped


BAR_COLOURS = ("#1f5fa8", "#2e8b57", "#d08c00")


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    x_label: str,
) -> Markup:
    """Horizontal grouped bars, one row per label (agent) and one bar per series, with a legend.

    Horizontal so that long names stay readable; each bar carries its value,
    so the chart also works printed or for a screen reader's table of texts.
    """
    bar_h, gap, name_w = 10, 10, 150
    row_h = bar_h * len(series) + gap
    legend_h = 22
    height = TOP + legend_h + row_h * max(len(labels), 1) + BOTTOM
    plot_w = WIDTH - name_w - RIGHT - 40
    top_value = max([1.0, *(v for _name, values in series for v in values)])

    def w(v: float) -> float:
        return plot_w * v / top_value

    parts = [
        f'<svg class="chart bars" role="img" viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for k, (name, _values) in enumerate(series):
        lx = name_w + k * 160
        parts.append(f'<rect x="{lx}" y="{TOP}" width="12" height="12" fill="{BAR_COLOURS[k % len(BAR_COLOURS)]}"/>')
        parts.append(f'<text x="{lx + 18}" y="{TOP + 11}" font-size="12" fill="#333">{escape(name)}</text>')
    y0 = TOP + legend_h
    for i, label in enumerate(labels):
        ry = y0 + i * row_h
        parts.append(
            f'<text x="{name_w - 8}" y="{ry + row_h / 2:.1f}" text-anchor="end" font-size="12" fill="#333">'
            f"{escape(label)}</text>"
        )
        for k, (_name, values) in enumerate(series):
            v = values[i]
            by = ry + k * bar_h
            parts.append(
                f'<rect x="{name_w}" y="{by}" width="{w(v):.1f}" height="{bar_h - 1}" '
                f'fill="{BAR_COLOURS[k % len(BAR_COLOURS)]}"/>'
            )
            parts.append(
                f'<text x="{name_w + w(v) + 4:.1f}" y="{by + bar_h - 1}" font-size="10" fill="#333">{v:g}</text>'
            )
    axis_y = y0 + row_h * max(len(labels), 1)
    parts.append(f'<line x1="{name_w}" y1="{y0}" x2="{name_w}" y2="{axis_y}" stroke="#555"/>')
    parts.append(
        f'<text x="{name_w + plot_w / 2}" y="{axis_y + 20}" text-anchor="middle" font-size="12" fill="#333">'
        f"{escape(x_label)}</text>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above is escaped
