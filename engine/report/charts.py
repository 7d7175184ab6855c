"""Charts as hand-written SVG: readable without JavaScript, offline, and exportable as files.

Each function returns one complete ``<svg>`` document (with its title, axis unit, legend and a
hover tooltip on every mark). Data marks carry ``class="mark"`` so a test can check that they
were drawn. Output is deterministic: coordinates are rounded to 0.1 px, nothing depends on time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import escape

from engine.decimals import figure, from_cents, percent, units
from engine.words import counted

FONT = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif"
WIDTH, HEIGHT = 1060, 340  # full page width; pairs of charts use HALF
HALF = 520
LEFT, RIGHT, TOP, BOTTOM = 78, 20, 62, 48
# Okabe-Ito colours: distinguishable by colour-blind readers and in black-and-white print
BLUE, ORANGE, GREEN, RED, SKY, PURPLE, GREY = ("#0072B2", "#E69F00", "#009E73", "#D55E00",
                                               "#56B4E9", "#CC79A7", "#7F7F7F")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec")


@dataclass(frozen=True)
class Series:
    """One named line or set of bars; NaN values are gaps."""

    name: str
    values: Sequence[float]
    color: str
    negated: bool = False  # drawn below zero but counted positive (e.g. customers lost)
    dashed: bool = False  # a projection rather than an observation (curve_chart)

    def shown(self, value: float) -> float:
        return -value if self.negated else value


@dataclass(frozen=True)
class Unit:
    """How values are shown: ``money`` (in ``currency``), ``count`` or ``percent`` (0.05 = 5%)."""

    kind: str
    currency: str = ""
    per: str = ""  # e.g. "per month", appended to the axis caption

    def caption(self) -> str:
        base = {"money": self.currency, "count": "customers", "percent": "%"}.get(self.kind, "")
        return f"{base} {self.per}".strip()


def signed(value: float, spec: str) -> str:
    """``value`` formatted by ``spec`` (one with ``+``): a value shown as zero reads +0,
    never -0 (a change of -0.3 shown to the unit)."""
    if spec.endswith("%"):  # a share: half up on its decimal value, as percent() rounds
        places = int(spec.rsplit(".", 1)[1][:-1])
        text = f"{figure(value * 100, places):+.{places}f}%"
    elif spec.endswith(".0f"):  # money to the unit: as the files' cents read
        text = format(from_cents(value), spec)
    else:
        text = format(value, spec)
    return "+" + text[1:] if text.startswith("-") and not _nonzero(text) else text


def _nonzero(text: str) -> bool:
    return any(c in "123456789" for c in text)


def fmt(value: float, unit: Unit, *, short: bool = False) -> str:
    """A value as a reader wants it: 'EUR 12,345', '7.5%', '1,204'; short for axis ticks. A
    value shown as zero has no sign ('0', 'EUR 0.00', '0.0%', never '-0')."""
    text = _fmt(value, unit, short=short)
    return text[1:] if text.startswith("-") and not _nonzero(text) else text


def _fmt(value: float, unit: Unit, *, short: bool) -> str:
    if value != value:  # NaN
        return "n/a"
    if unit.kind == "percent":
        return percent(value, 0 if short else 1)
    if short and (unit.kind != "count" or abs(value) >= 100_000):
        size = abs(value)
        for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if size >= limit:
                return f"{value / limit:.{0 if size >= 10 * limit else 1}f}{suffix}"
        return f"{value:.0f}" if float(value).is_integer() or size >= 10 else f"{value:.1f}"
    if unit.kind == "money":
        sign = "-" if value < 0 else ""
        cents = 2 if abs(value) < 100 and not float(value).is_integer() else 0  # EUR 0.38
        return f"{sign}{unit.currency} {from_cents(abs(value), cents):,.{cents}f}".strip()
    return units(value)


def month_label(month: str) -> str:
    """'2024-03' -> 'Mar 2024'."""
    year, mon = month.split("-")
    return f"{MONTH_NAMES[int(mon) - 1]} {year}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (always including 0 when the range crosses it)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo < 1e-12:
        lo, hi = (min(lo, 0.0), max(hi, 0.0)) if math.isfinite(lo) else (0.0, 1.0)
        if hi - lo < 1e-12:
            hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


class _Svg:
    def __init__(self, chart_id: str, title: str, width: int = WIDTH, height: int = HEIGHT
                 ) -> None:
        self.id, self.width, self.height = chart_id, width, height
        self.parts: list[str] = [
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
        self.text(12, 24, title, size=15, weight="bold", fill="#1a1a1a")
        self.title = title

    def add(self, part: str) -> None:
        self.parts.append(part)

    def text(self, x: float, y: float, text: str, *, size: int = 12, anchor: str = "start",
             weight: str = "normal", fill: str = "#444444") -> None:
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>')

    def rect(self, x: float, y: float, w: float, h: float, color: str, tip: str) -> None:
        self.add(f'<rect class="mark" x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.0):.1f}" '
                 f'height="{max(h, 0.0):.1f}" fill="{color}"><title>{escape(tip)}</title></rect>')

    def legend(self, series: Sequence[tuple[str, str]], y: float = 46) -> None:
        x = float(LEFT)
        for name, color in series:
            self.add(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" '
                     f'fill="{color}"/>')
            self.text(x + 17, y, name)
            x += 30 + 7.2 * len(name)

    def render(self) -> str:
        body = "\n".join(self.parts)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{self.id}" '
                f'width="{self.width}" height="{self.height}" viewBox="0 0 {self.width} '
                f'{self.height}" font-family="{FONT}" role="img" aria-label="'
                f'{escape(self.title)}">\n<title>{escape(self.title)}</title>\n{body}\n</svg>\n')


@dataclass(frozen=True)
class _YAxis:
    lo: float
    hi: float
    top: float
    bottom: float

    def y(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)


def _y_axis(svg: _Svg, values: Sequence[float], unit: Unit) -> _YAxis:
    finite = [v for v in values if math.isfinite(v)]
    ticks = nice_ticks(min([0.0, *finite]), max([0.0, *finite]))
    axis = _YAxis(ticks[0], ticks[-1], TOP, svg.height - BOTTOM)
    right = svg.width - RIGHT
    for t in ticks:
        y = axis.y(t)
        color = "#888888" if abs(t) < 1e-12 else "#e3e3e3"
        svg.add(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{color}" '
                f'stroke-width="1"/>')
        svg.text(LEFT - 6, y + 4, fmt(t, unit, short=True), size=11, anchor="end")
    middle = (axis.top + axis.bottom) / 2
    svg.add(f'<text x="16" y="{middle:.1f}" font-size="12" text-anchor="middle" '
            f'fill="#555555" transform="rotate(-90 16 {middle:.1f})">'
            f'{escape(unit.caption())}</text>')
    return axis


def _month_axis(svg: _Svg, months: Sequence[str]) -> tuple[float, float]:
    """Month labels under the plot; returns (x of the first band, band width)."""
    band = (svg.width - LEFT - RIGHT) / max(len(months), 1)
    # at most 13 labels: every 1, 2, 3 or 6 months, else every January of every year or
    # every few years (a long history: 1965 to today)
    step = next((s for s in (1, 2, 3, 6) if len(months) / s <= 13), 0) or \
        12 * math.ceil(len(months) / 12 / 13)
    base = svg.height - BOTTOM
    for i, month in enumerate(months):
        year, mon = month.split("-")
        if (int(year) * 12 + int(mon) - 1) % step and i:
            continue
        x = LEFT + band * (i + 0.5)
        svg.add(f'<line x1="{x:.1f}" y1="{base:.1f}" x2="{x:.1f}" y2="{base + 4:.1f}" '
                f'stroke="#888888"/>')
        svg.text(x, base + 17, MONTH_NAMES[int(mon) - 1], size=11, anchor="middle")
        if mon == "01" or i == 0:
            svg.text(x, base + 32, year, size=11, anchor="middle", weight="bold")
    return float(LEFT), band


def line_chart(chart_id: str, title: str, months: Sequence[str], series: Sequence[Series],
               unit: Unit, *, width: int = WIDTH) -> str:
    """One line per series over the months, with a dot and tooltip per month."""
    svg = _Svg(chart_id, title, width)
    svg.legend([(s.name, s.color) for s in series])
    axis = _y_axis(svg, [v for s in series for v in s.values], unit)
    x0, band = _month_axis(svg, months)
    for s in series:
        def tip(i: int, s: Series = s) -> str:
            return f"{month_label(months[i])} - {s.name}: {fmt(s.values[i], unit)}"

        _dots_and_lines(svg, s, lambda i: x0 + band * (i + 0.5), axis, radius="3", tip=tip)
    return svg.render()


def _dots_and_lines(svg: _Svg, s: Series, x_of: Callable[[int], float], axis: _YAxis, *,
                    radius: str, tip: Callable[[int], str], dash: str = "") -> None:
    """A series' dots (with their tooltips) and the lines joining them; NaN values are gaps."""
    runs: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(s.values):
        if not math.isfinite(v):
            runs.append([])
            continue
        x, y = x_of(i), axis.y(v)
        runs[-1].append((x, y))
        svg.add(f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="{radius}" '
                f'fill="{s.color}"><title>{escape(tip(i))}</title></circle>')
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            svg.add(f'<polyline class="mark" points="{points}" fill="none" '
                    f'stroke="{s.color}" stroke-width="2.5"{dash}/>')


def bar_chart(chart_id: str, title: str, months: Sequence[str], series: Sequence[Series],
              unit: Unit, *, stacked: bool = False, total: Series | None = None,
              width: int = WIDTH) -> str:
    """Bars per month, side by side or stacked (positives up, negatives down from zero);
    ``total``, if given, is drawn as a black tick per month (e.g. the sum of the parts)."""
    svg = _Svg(chart_id, title, width)
    svg.legend([(s.name, s.color) for s in series]
               + ([(total.name, "#1a1a1a")] if total is not None else []))
    if stacked:
        pos = [sum(max(s.values[i], 0.0) for s in series if math.isfinite(s.values[i]))
               for i in range(len(months))]
        neg = [sum(min(s.values[i], 0.0) for s in series if math.isfinite(s.values[i]))
               for i in range(len(months))]
        extent = pos + neg + (list(total.values) if total is not None else [])
    else:
        extent = [v for s in series for v in s.values]
    axis = _y_axis(svg, extent, unit)
    x0, band = _month_axis(svg, months)
    inner = band * 0.8
    for i, month in enumerate(months):
        left = x0 + band * i + (band - inner) / 2
        up = down = 0.0
        for k, s in enumerate(series):
            v = s.values[i]
            if not math.isfinite(v):
                continue
            tip = f"{month_label(month)} - {s.name}: {fmt(s.shown(v), unit)}"
            if stacked:
                base = up if v >= 0 else down
                y1, y2 = axis.y(base), axis.y(base + v)
                svg.rect(left, min(y1, y2), inner, abs(y2 - y1), s.color, tip)
                up, down = (up + v, down) if v >= 0 else (up, down + v)
            else:
                bar_w = inner / len(series)
                y1, y2 = axis.y(0.0), axis.y(v)
                svg.rect(left + k * bar_w, min(y1, y2), bar_w, abs(y2 - y1), s.color, tip)
        if total is not None and math.isfinite(total.values[i]):
            y = axis.y(total.values[i])
            svg.add(f'<rect class="mark" x="{left - 1:.1f}" y="{y - 1.5:.1f}" '
                    f'width="{inner + 2:.1f}" height="3" fill="#1a1a1a"><title>'
                    f'{escape(month_label(month))} - {escape(total.name)}: '
                    f'{escape(fmt(total.values[i], unit))}</title></rect>')
    return svg.render()


def hbar_chart(chart_id: str, title: str, categories: Sequence[str], series: Sequence[Series],
               unit: Unit, *, caption: str = "", width: int = 760) -> str:
    """Horizontal bars, one group per category (top to bottom), the value written at the end."""
    row = 18 * len(series) + 14
    left = 24 + max([8 * len(c) for c in categories] + [60])  # bold labels: ~8 px a letter
    height = TOP + row * len(categories) + 30
    svg = _Svg(chart_id, title, width, height)
    svg.legend([(s.name, s.color) for s in series])
    values = [v for s in series for v in s.values if math.isfinite(v)]
    hi = max([*values, 1.0 if unit.kind == "percent" else 0.0]) or 1.0  # shares: out of 100%
    scale = (svg.width - left - RIGHT - 110) / hi
    for j, cat in enumerate(categories):
        y0 = TOP + row * j
        svg.text(left - 8, y0 + row / 2 + 2, cat, anchor="end", weight="bold", fill="#1a1a1a")
        for k, s in enumerate(series):
            v = s.values[j]
            y = y0 + 6 + 18 * k
            if not math.isfinite(v):
                continue
            svg.rect(left, y, v * scale, 15, s.color, f"{cat} - {s.name}: {fmt(v, unit)}")
            svg.text(left + max(v, 0.0) * scale + 5, y + 12, fmt(v, unit), size=11)
    if caption:
        svg.text(left, height - 10, caption, size=11, fill="#666666")
    return svg.render()


def matrix_chart(chart_id: str, title: str, rows: Sequence[str], cols: Sequence[str],
                 counts: Sequence[Sequence[int]], *, row_caption: str, col_caption: str) -> str:
    """A from/to table of counts, each cell shaded by its share of the row."""
    cell_w, cell_h = min(110.0, (WIDTH - 200) / max(len(cols), 1)), 30.0
    left = 30 + max([7 * len(r) for r in rows] + [90])
    top = TOP + 34
    svg = _Svg(chart_id, title, width=int(left + cell_w * len(cols) + 30),
               height=int(top + cell_h * len(rows) + 40))
    svg.text(left, TOP - 8, f"{col_caption} \u2192", size=12, fill="#666666")
    svg.text(left - 8, TOP - 8, f"{row_caption} \u2193", size=12, anchor="end", fill="#666666")
    for k, col in enumerate(cols):
        svg.text(left + cell_w * (k + 0.5), top - 10, col, anchor="middle", weight="bold",
                 fill="#1a1a1a")
    for j, name in enumerate(rows):
        y = top + cell_h * j
        total = sum(counts[j])
        svg.text(left - 8, y + cell_h / 2 + 4, name, anchor="end", weight="bold", fill="#1a1a1a")
        for k, col in enumerate(cols):
            n = counts[j][k]
            share = n / total if total else 0.0
            shade = f"rgba(0,114,178,{0.08 + 0.85 * share:.3f})" if n else "#f6f6f6"
            shown = percent(share, 0)  # a customer or more is never 0%
            shown = "under 1%" if n and shown == "0%" else shown
            tip = f"{name} \u2192 {col}: {counted(n, 'customer')} ({shown} of {name})"
            svg.rect(left + cell_w * k + 1, y + 1, cell_w - 2, cell_h - 2, shade, tip)
            ink = "#ffffff" if share > 0.55 else "#1a1a1a"
            svg.text(left + cell_w * (k + 0.5), y + cell_h / 2 + 4, f"{n:,}" if n else "-",
                     anchor="middle", fill=ink)
    return svg.render()


def curve_chart(chart_id: str, title: str, xs: Sequence[int], series: Sequence[Series],
                unit: Unit, *, x_caption: str, x_name: str, width: int = WIDTH) -> str:
    """Lines over a whole-number axis (e.g. renewal decisions 0, 1, 2, ...), a dot and tooltip
    per value; a ``dashed`` series is drawn dashed (a projection). NaN values are gaps."""
    svg = _Svg(chart_id, title, width)
    svg.legend([(s.name, s.color) for s in series])
    axis = _y_axis(svg, [v for s in series for v in s.values], unit)
    base, span = svg.height - BOTTOM, max(len(xs) - 1, 1)

    def x_of(i: int) -> float:
        return LEFT + (svg.width - LEFT - RIGHT) * i / span

    step = next((k for k in (1, 2, 5, 10, 20, 50, 100) if len(xs) / k <= 16), len(xs) // 16)
    for i, x in enumerate(xs):
        if i % step == 0:
            svg.add(f'<line x1="{x_of(i):.1f}" y1="{base:.1f}" x2="{x_of(i):.1f}" '
                    f'y2="{base + 4:.1f}" stroke="#888888"/>')
            svg.text(x_of(i), base + 17, str(x), size=11, anchor="middle")
    svg.text((LEFT + svg.width - RIGHT) / 2, base + 34, x_caption, size=12, anchor="middle",
             fill="#555555")
    for s in series:
        def tip(i: int, s: Series = s) -> str:
            return f"{s.name}, {x_name} {xs[i]}: {fmt(s.values[i], unit)}"

        _dots_and_lines(svg, s, x_of, axis, radius="2.5", tip=tip,
                        dash=' stroke-dasharray="7 5"' if s.dashed else "")
    return svg.render()
