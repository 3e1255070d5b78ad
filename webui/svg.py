"""Server-rendered SVG charts: time on x, bands and lines, shaded spells, limit lines.

No JavaScript and no chart library: the farm may be offline and a phone in the
barn should draw a year of data as fast as 48 hours. Every text is escaped.

Each chart is drawn twice, for a phone (360 units wide) and for a wider screen (960), and the
stylesheet shows the one that fits (:func:`responsive`): an SVG scaled down to a phone would
shrink its labels to a few pixels. Series are told apart by more than colour — the
Okabe–Ito palette (readable with every common colour-vision deficiency), a dash pattern and a
marker shape per series, a label at the line's end — and shaded spells by a hatch as well as a tint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from markupsafe import Markup, escape

W, H = 960, 340
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 16, 40


@dataclass(frozen=True)
class Frame:
    """A chart's drawing size in SVG units and how many ticks fit."""

    name: str
    width: int
    height: int
    left: int
    right: int
    x_ticks: int  # at most this many time labels
    y_ticks: int  # at most this many value labels
    top: int = 16  # room above the plot (the phone's value axis names its unit there)


WIDE = Frame("wide", W, H, LEFT, 120, 14, 8)
# 360 units shown on a 340-390 px phone: the 12-unit labels stay 11 px or more on screen.
NARROW = Frame("narrow", 360, 300, 44, 72, 5, 6, top=28)

# Okabe & Ito (2008), "Color Universal Design": told apart with every common colour-vision deficiency.
PALETTE = {"blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "green": "#009E73",
           "orange": "#E69F00", "sky": "#56B4E9", "black": "#000000"}
# Per series, so two lines never differ by colour alone: a dash pattern and a marker shape.
DASHES = {"solid": "", "dashed": "7 4", "dotted": "2 3"}
SHAPES = ("circle", "square", "triangle", "diamond")


@dataclass
class Line:
    """A series: (ms, value) points, optionally with a (ms, low, high) band."""

    label: str
    points: list[tuple[int, float]]
    colour: str  # a PALETTE name (or a CSS colour)
    band: list[tuple[int, float, float]] = field(default_factory=list)
    dashed: bool = False
    dash: str = ""  # solid | dashed | dotted (default: dashed when ``dashed``, else solid)
    shape: str = ""  # a SHAPES marker (default: by the series' position)
    short: str = ""  # the label at the line's end (default: ``label``)

    @property
    def stroke(self) -> str:
        """Return the CSS colour of the line."""
        return PALETTE.get(self.colour, self.colour)

    def pattern(self) -> str:
        """Return the SVG dash array of the line."""
        return DASHES.get(self.dash or ("dashed" if self.dashed else "solid"), "")


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


def _thin(items: list, at_most: int) -> list:
    """Return every k-th item so that at most ``at_most`` remain (first kept)."""
    if len(items) <= at_most:
        return items
    step = math.ceil(len(items) / at_most)
    return items[::step]


def marker(shape: str, cx: float, cy: float, colour: str, r: float = 4.0) -> str:
    """Return one marker shape as SVG (filled, with a white edge so it stands out on a band)."""
    edge = 'stroke="#fff" stroke-width="1"'
    if shape == "square":
        return f'<rect x="{cx - r:.1f}" y="{cy - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{colour}" {edge}/>'
    if shape == "triangle":
        return (f'<polygon points="{cx:.1f},{cy - r * 1.2:.1f} {cx - r * 1.1:.1f},{cy + r * .9:.1f} '
                f'{cx + r * 1.1:.1f},{cy + r * .9:.1f}" fill="{colour}" {edge}/>')
    if shape == "diamond":
        return (f'<polygon points="{cx:.1f},{cy - r * 1.3:.1f} {cx + r:.1f},{cy:.1f} {cx:.1f},{cy + r * 1.3:.1f} '
                f'{cx - r:.1f},{cy:.1f}" fill="{colour}" {edge}/>')
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}" {edge}/>'


def legend_key(line: Line, index: int) -> Markup:
    """Return a small SVG of a series' line and marker, for the legend under a chart."""
    shape = line.shape or SHAPES[index % len(SHAPES)]
    dash = f' stroke-dasharray="{line.pattern()}"' if line.pattern() else ""
    return Markup(f'<svg class="key-line" viewBox="0 0 36 14" width="36" height="14" aria-hidden="true">'
                  f'<line x1="1" x2="35" y1="7" y2="7" stroke="{line.stroke}" stroke-width="2.2"{dash}/>'
                  f'{marker(shape, 18, 7, line.stroke)}</svg>')


HATCHES = {"short": 45, "risk": -45, "wet": 45}  # shaded spells that also carry a hatch (not tint alone)


def _defs(prefix: str) -> str:
    """Return the hatch patterns of one chart (ids prefixed: a page holds two drawings of each chart)."""
    out = ["<defs>"]
    for css, angle in HATCHES.items():
        out.append(f'<pattern id="{prefix}-{css}" width="8" height="8" patternUnits="userSpaceOnUse"'
                   f' patternTransform="rotate({angle})"><line class="hatch {css}" x1="0" y1="0" x2="0" y2="8"/></pattern>')
    out.append("</defs>")
    return "".join(out)


def responsive(**chart) -> Markup:
    """Return a chart drawn for a phone and for a wide screen; the stylesheet shows the one that fits."""
    return Markup('<div class="chart-frame">') + render(frame=NARROW, **chart) + render(frame=WIDE, **chart) \
        + Markup("</div>")


def render(*, lo: int, hi: int, tz, scale: Scale, lines: list[Line], shades: list[Shade] = (),
           limits: list[Limit] = (), title: str = "", y_label: str = "", marks: list[tuple[int, int, str]] = (),
           frame: Frame = WIDE, chart_id: str = "c") -> Markup:
    """Return an accessible SVG chart of the window [lo, hi] (ms), drawn for one frame (phone or wide)."""
    w, h, left, right, top = frame.width, frame.height, frame.left, frame.right, frame.top
    pw, ph = w - left - right, h - top - BOTTOM
    prefix = f"{chart_id}-{frame.name}"

    def x(ms: int) -> float:
        return left + (ms - lo) / max(1, hi - lo) * pw

    def y(v: float) -> float:
        return top + ph - min(1.0, max(0.0, scale.forward(v))) * ph

    out = [f'<svg class="chart chart-{frame.name}" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}"'
           f' xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>", _defs(prefix)]
    for s in shades:
        x0, x1 = x(max(s.start, lo)), x(min(s.end, hi))
        if x1 - x0 < 0.3:
            x1 = x0 + 0.3
        out.append(f'<rect class="{escape(s.css)}" x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{ph}">'
                   f"<title>{escape(s.label)}</title></rect>")
        if s.css in HATCHES:
            out.append(f'<rect fill="url(#{prefix}-{s.css})" x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}"'
                       f' height="{ph}" pointer-events="none"/>')
    for v in _thin(scale.ticks, frame.y_ticks):
        yy = y(v)
        out.append(f'<line class="grid" x1="{left}" x2="{w - right}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(scale.fmt(v))}</text>')
    for ms, label in _thin(_time_ticks(lo, hi, tz), frame.x_ticks):
        xx = x(ms)
        out.append(f'<line class="grid" x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + ph}"/>')
        out.append(f'<text x="{xx:.1f}" y="{h - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>')
    out.append(f'<line class="axis" x1="{left}" x2="{w - right}" y1="{top + ph}" y2="{top + ph}"/>')
    out.append(f'<line class="axis" x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}"/>')
    if y_label and frame is WIDE:
        out.append(f'<text x="12" y="{top + ph / 2:.0f}" transform="rotate(-90 12 {top + ph / 2:.0f})"'
                   f' text-anchor="middle">{escape(y_label)}</text>')
    elif y_label:  # a phone: the unit above the value axis, where it cannot run into the tick labels
        out.append(f'<text x="4" y="{top - 10}">{escape(y_label)}</text>')
    for lim in limits:
        yy = y(lim.value)
        out.append(f'<line class="limit" x1="{left}" x2="{w - right}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        # On a phone the limit's label is its value alone, in the right margin; the legend says the rest.
        text = lim.label if frame is WIDE else lim.label.split(":")[0]
        out.append(f'<text class="limit-label" x="{w - right - 4 if frame is WIDE else w - right + 3}" y="{yy - 4:.1f}"'
                   f' text-anchor="{"end" if frame is WIDE else "start"}">{escape(text)}</text>')
    for start, end, label in marks:
        # A bracket of fixed length (the 8-hour line) from the start of a dark period.
        x0, x1 = x(max(start, lo)), x(min(end, hi))
        out.append(f'<line class="limit" x1="{x0:.1f}" x2="{x1:.1f}" y1="{top + 10}" y2="{top + 10}"/>')
        out.append(f'<line class="limit" x1="{x1:.1f}" x2="{x1:.1f}" y1="{top + 4}" y2="{top + 16}"/>')
        out.append(f'<text x="{x1 + 3:.1f}" y="{top + 14}">{escape(label)}</text>')
    ends: list[tuple[float, str, str]] = []
    for index, line in enumerate(lines):
        colour, shape = line.stroke, line.shape or SHAPES[index % len(SHAPES)]
        if line.band:
            upper = " ".join(f"{x(t):.1f},{y(high):.1f}" for t, _lo, high in line.band)
            lower = " ".join(f"{x(t):.1f},{y(low):.1f}" for t, low, _h in reversed(line.band))
            out.append(f'<polygon class="band" fill="{colour}" points="{upper} {lower}"/>')
        dash = f' stroke-dasharray="{line.pattern()}"' if line.pattern() else ""
        for segment in _segments(line.points, hi - lo):
            pts = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in segment)
            out.append(f'<polyline class="line" stroke="{colour}"{dash} points="{pts}">'
                       f"<title>{escape(line.label)}</title></polyline>")
        # Markers spread along the line, staggered per series so that overlapping lines show both shapes.
        if line.points:
            count = 6 if frame is WIDE else 4
            step = max(1, len(line.points) // count)
            for t, v in line.points[(index * step) // max(1, len(lines)) % step::step]:
                out.append(marker(shape, x(t), y(v), colour))
            t, v = line.points[-1]
            ends.append((y(v), line.short or line.label, colour))
    # A label at each line's end, in the right margin, kept apart when the lines end close together.
    placed: list[float] = []
    for yy, text, colour in sorted(ends):
        yy = max([yy] + [p + 14 for p in placed])
        placed.append(yy)
        out.append(f'<text class="end-label" x="{w - right + 4}" y="{yy + 4:.1f}" fill="{colour}">{escape(text)}</text>')
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
