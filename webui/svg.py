"""Server-rendered SVG charts: time on x, bands and lines, shaded spells, limit lines.

No JavaScript and no chart library: the farm may be offline and a phone in the
barn should draw a year of data as fast as 48 hours. Every text is escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from markupsafe import Markup, escape

W, H = 960, 340
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 16, 40


@dataclass
class Line:
    """A series: (ms, value) points, optionally with a (ms, low, high) band."""

    label: str
    points: list[tuple[int, float]]
    colour: str
    band: list[tuple[int, float, float]] = field(default_factory=list)
    dashed: bool = False


@dataclass
class Shade:
    """A shaded stretch of time with a CSS class and an optional label."""

    start: int
    end: int
    css: str
    label: str = ""


@dataclass
class Limit:
    """A horizontal reference line (a threshold from the scheme)."""

    value: float
    label: str


@dataclass
class Scale:
    """A y scale: value → 0..1, with tick values."""

    forward: Callable[[float], float]
    ticks: list[float]
    fmt: Callable[[float], str]


def linear_scale(lo: float, hi: float, fmt) -> Scale:
    """Return a linear scale over [lo, hi] with about six round ticks."""
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / 6
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    lo_t, hi_t = math.floor(lo / step) * step, math.ceil(hi / step) * step
    ticks = [lo_t + i * step for i in range(int(round((hi_t - lo_t) / step)) + 1)]
    return Scale(lambda v: (v - lo_t) / (hi_t - lo_t), ticks, fmt)


def lux_scale(hi: float, fmt) -> Scale:
    """Return a scale for lux: log(1 + lx), so 0.5 lx and 200 lx are both readable."""
    top = math.log10(1 + max(hi, 50.0))
    ticks = [t for t in (0, 0.5, 2, 5, 20, 50, 100, 200, 500, 1000, 5000, 20000, 100000) if t <= max(hi, 50.0) * 1.05]
    return Scale(lambda v: math.log10(1 + max(v, 0.0)) / top, ticks, fmt)


def _time_ticks(lo: int, hi: int, tz) -> list[tuple[int, str]]:
    """Return (ms, label) x ticks at round local times for the span."""
    span_h = (hi - lo) / 3_600_000
    if span_h <= 72:
        step, fmt = timedelta(hours=6 if span_h > 24 else 3), "%H:%M"
    elif span_h <= 24 * 14:
        step, fmt = timedelta(days=1), "%d-%m"
    elif span_h <= 24 * 120:
        step, fmt = timedelta(days=7), "%d-%m"
    else:
        step, fmt = timedelta(days=30), "%m-%Y"
    start = datetime.fromtimestamp(lo / 1000, tz)
    if step < timedelta(days=1):
        hours = int(step.total_seconds() // 3600)
        t = start.replace(minute=0, second=0, microsecond=0)
        t = t.replace(hour=(t.hour // hours) * hours)
    else:
        t = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if step.days == 30:
            t = t.replace(day=1)
    out = []
    while t.timestamp() * 1000 <= hi:
        ms = int(t.timestamp() * 1000)
        if ms >= lo:
            out.append((ms, t.strftime(fmt) if not (fmt == "%H:%M" and t.hour == 0) else t.strftime("%d-%m")))
        if step.days == 30:
            month = t.month % 12 + 1
            t = t.replace(year=t.year + (t.month == 12), month=month)
        else:
            t = (t + step).astimezone(tz)  # keeps local wall clock steps across DST
    return out


def render(*, lo: int, hi: int, tz, scale: Scale, lines: list[Line], shades: list[Shade] = (),
           limits: list[Limit] = (), title: str = "", y_label: str = "", marks: list[tuple[int, int, str]] = ()) -> Markup:
    """Return an accessible SVG chart of the window [lo, hi] (ms)."""
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(ms: int) -> float:
        return LEFT + (ms - lo) / max(1, hi - lo) * pw

    def y(v: float) -> float:
        return TOP + ph - min(1.0, max(0.0, scale.forward(v))) * ph

    out = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}"'
           f' xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    for s in shades:
        x0, x1 = x(max(s.start, lo)), x(min(s.end, hi))
        if x1 - x0 < 0.3:
            x1 = x0 + 0.3
        out.append(f'<rect class="{escape(s.css)}" x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{ph}">'
                   f"<title>{escape(s.label)}</title></rect>")
    for v in scale.ticks:
        yy = y(v)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(scale.fmt(v))}</text>')
    for ms, label in _time_ticks(lo, hi, tz):
        xx = x(ms)
        out.append(f'<line class="grid" x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP}" y2="{TOP + ph}"/>')
        out.append(f'<text x="{xx:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{W - RIGHT}" y1="{TOP + ph}" y2="{TOP + ph}"/>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + ph}"/>')
    if y_label:
        out.append(f'<text x="14" y="{TOP + ph / 2:.0f}" transform="rotate(-90 14 {TOP + ph / 2:.0f})"'
                   f' text-anchor="middle">{escape(y_label)}</text>')
    for lim in limits:
        yy = y(lim.value)
        out.append(f'<line class="limit" x1="{LEFT}" x2="{W - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        out.append(f'<text x="{W - RIGHT - 4}" y="{yy - 4:.1f}" text-anchor="end">{escape(lim.label)}</text>')
    for start, end, label in marks:
        # A bracket of fixed length (the 8-hour line) from the start of a dark period.
        x0, x1 = x(max(start, lo)), x(min(end, hi))
        out.append(f'<line class="limit" x1="{x0:.1f}" x2="{x1:.1f}" y1="{TOP + 10}" y2="{TOP + 10}"/>')
        out.append(f'<line class="limit" x1="{x1:.1f}" x2="{x1:.1f}" y1="{TOP + 4}" y2="{TOP + 16}"/>')
        out.append(f'<text x="{x1 + 3:.1f}" y="{TOP + 14}">{escape(label)}</text>')
    for line in lines:
        if line.band:
            upper = " ".join(f"{x(t):.1f},{y(h):.1f}" for t, _lo, h in line.band)
            lower = " ".join(f"{x(t):.1f},{y(low):.1f}" for t, low, _h in reversed(line.band))
            out.append(f'<polygon class="band" fill="{line.colour}" points="{upper} {lower}"/>')
        for segment in _segments(line.points, hi - lo):
            pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in segment)
            dash = ' stroke-dasharray="5 3"' if line.dashed else ""
            out.append(f'<polyline class="line" stroke="{line.colour}"{dash} points="{pts}">'
                       f"<title>{escape(line.label)}</title></polyline>")
    out.append("</svg>")
    return Markup("".join(out))


def _segments(points: list[tuple[int, float]], span: int) -> list[list[tuple[int, float]]]:
    """Split a series where readings are missing (a gap is drawn as a gap, never as a line)."""
    if not points:
        return []
    gap = max(span / 60, 20 * 60_000)
    out, current = [], [points[0]]
    for prev, point in zip(points, points[1:]):
        if point[0] - prev[0] > gap:
            out.append(current)
            current = []
        current.append(point)
    out.append(current)
    return out
