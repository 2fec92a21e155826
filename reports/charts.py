"""Charts drawn as SVG on the server: no script, nothing from a CDN, and the CSP (no inline styles) holds:
only presentation attributes are used. Every label is escaped here."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#db2777", "#65a30d", "#475569"]
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, max_value: float | None = None) -> SafeString:
    """Horizontal bars, one per label."""
    if not labels:
        return _empty(title)
    width, label_w, row_h = 640, 170, 22
    height = 30 + row_h * len(labels)
    top = max_value or max([float(v or 0) for v in values] + [1e-9])
    parts = [_open(width, height, title), f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 24 + i * row_h
        w = 0 if not value else max(1.0, (width - label_w - 60) * float(value) / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" {FONT}>{escape(_short(label))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{PALETTE[0]}"><title>{escape(label)}: {_fmt(value)}</title></rect>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" {FONT}>{_fmt(value)}</text>')
    return _close(parts)


def line_chart(x_labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str) -> SafeString:
    """One line per series over the x labels (dates), with a legend."""
    if not x_labels:
        return _empty(title)
    width, height, left, bottom, top_pad = 680, 260, 44, 36, 30
    plot_w, plot_h = width - left - 130, height - bottom - top_pad
    top = max([max(v) for v in series.values() if len(v)] + [1])
    n = len(x_labels)
    step = plot_w / max(n - 1, 1)
    parts = [_open(width, height, title), f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for frac in (0, 0.5, 1):
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{_fmt(top * frac)}</text>')
    for i in sorted({0, n // 2, n - 1}):
        parts.append(f'<text x="{left + i * step:.1f}" y="{height - 12}" text-anchor="middle" {FONT}>{escape(x_labels[i])}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{left + i * step:.1f},{top_pad + plot_h * (1 - float(v or 0) / top):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"><title>{escape(name)}</title></polyline>')
        parts.append(f'<rect x="{left + plot_w + 14}" y="{top_pad + k * 16}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 28}" y="{top_pad + k * 16 + 9}" {FONT}>{escape(name)}</text>')
    return _close(parts)


def heatmap(row_labels: Sequence[str], col_labels: Sequence[str], matrix: Sequence[Sequence[float]], *, title: str) -> SafeString:
    if not row_labels:
        return _empty(title)
    cell_w, cell_h, left, top_pad = 54, 14, 50, 40
    width, height = left + cell_w * len(col_labels) + 10, top_pad + cell_h * len(row_labels) + 10
    top = max([max(r) for r in matrix if len(r)] + [1])
    parts = [_open(width, height, title), f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for j, col in enumerate(col_labels):
        parts.append(f'<text x="{left + j * cell_w + cell_w / 2}" y="{top_pad - 6}" text-anchor="middle" {FONT}>{escape(col)}</text>')
    for i, (label, row) in enumerate(zip(row_labels, matrix, strict=True)):
        y = top_pad + i * cell_h
        parts.append(f'<text x="{left - 4}" y="{y + 11}" text-anchor="end" {FONT}>{escape(label)}</text>')
        for j, value in enumerate(row):
            opacity = 0.06 + 0.94 * float(value or 0) / top
            parts.append(f'<rect x="{left + j * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{PALETTE[0]}" fill-opacity="{opacity:.2f}"><title>{escape(col_labels[j])} {escape(label)}: {_fmt(value)}</title></rect>')
    return _close(parts)


def _open(width: int, height: int, title: str) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'


def _close(parts: list[str]) -> SafeString:
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated label went through escape()


def _empty(title: str) -> SafeString:
    return _close([_open(640, 40, title), f'<text x="0" y="14" {FONT} font-weight="bold">{escape(title)}</text>', f'<text x="0" y="32" {FONT} fill="#6b7280">—</text>'])


def _short(label: str, limit: int = 26) -> str:
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _fmt(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return f"{value:.0f}" if value == int(value) or abs(value) >= 100 else f"{value:.2f}"
