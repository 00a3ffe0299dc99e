"""Charts of the report as inline SVG, drawn on the server so they need no JavaScript.

The Content-Security-Policy (default-src 'self') forbids style attributes, so colours and
dash patterns are SVG presentation attributes and the rest comes from classes in
static/css/portal.css. Each chart tells its series apart by dash pattern, marker shape,
grey level or text as well as by colour, so it reads in grayscale and for colour-blind
readers. Every chart carries a <title> and a <desc> that state its figures, and the page
shows a table with the same figures beside it.

The caller passes all text in, already translated, and Babel formats numbers for
``locale``. Lengths are SVG user units, equal to CSS pixels at full width.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from babel.numbers import format_decimal, format_percent
from markupsafe import Markup, escape

WIDTH = 640
MARGIN = 8
FONT_SIZE = 13
# Height of one line of label text above a bar.
LABEL_HEIGHT = 18
BAR_HEIGHT = 16
BAR_GAP = 10
# Room right of the plot for the value label of the longest bar.
VALUE_ROOM = 64
# Extra room when a bar's label also names its reference value, as in "3,12 (landelijk 3,05)".
REFERENCE_ROOM = 120
BAR_FILL = "#154273"
REFERENCE_DASH = "4 2"
TEXT_FILL = "#1a1a1a"
GRID_STROKE = "#b3b3b3"

# Per series of a line chart: colour, dash pattern (None is solid) and marker shape. Each
# differs from the others in all three, and the colours differ in lightness too.
LINE_STYLES = (
    ("#154273", None, "circle"),
    ("#a35200", "8 4", "square"),
    ("#1d6b34", "2 3", "triangle"),
    ("#6b2c91", "10 3 2 3", "diamond"),
)
LINE_PLOT_HEIGHT = 200
LINE_PLOT_LEFT = 48
MARKER_SIZE = 5

# Every value is rounded to the precision the tables show (2 decimals for means, whole
# percentages for shares) before it is drawn. Unrounded bar lengths or data attributes would
# give away more than the page shows, which makes working back to a hidden school exact.
MEAN_DECIMALS = 2
SHARE_DECIMALS = 2


def _rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


STACK_HEIGHT = 22
# A segment narrower than this gets no percentage label, since "100%" would not fit.
MIN_SEGMENT_LABEL_WIDTH = 36


@dataclass
class Bar:
    """One bar. A ``reference`` value draws a dashed marker line, such as the national value."""

    label: str
    value: float | None
    reference: float | None = None
    # Text shown in place of a bar that has no value.
    note: str = "–"

    def __post_init__(self) -> None:
        self.value = _rounded(self.value, MEAN_DECIMALS)
        self.reference = _rounded(self.reference, MEAN_DECIMALS)


@dataclass
class BarGroup:
    """Bars under a common heading. A group with a ``note`` shows that text and no bars."""

    label: str | None
    bars: list[Bar] = field(default_factory=list)
    note: str | None = None


@dataclass
class Series:
    """One line of a line chart: a value per category, None where there is none."""

    label: str
    values: list[float | None]

    def __post_init__(self) -> None:
        self.values = [_rounded(value, MEAN_DECIMALS) for value in self.values]


@dataclass
class StackRow:
    """One stacked bar: the share per answer option, the shares summing to 1."""

    label: str
    shares: list[float]
    # Text shown in place of the bar when no respondent answered.
    note: str | None = None

    def __post_init__(self) -> None:
        self.shares = [round(share, SHARE_DECIMALS) for share in self.shares]


def _text(x: float, y: float, content: str, css_class: str = "", **attributes) -> str:
    extra = "".join(
        f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attributes.items()
    )
    class_attribute = f' class="{css_class}"' if css_class else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{FONT_SIZE}"{class_attribute}{extra}>'
        f"{escape(content)}</text>"
    )


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> Markup:
    """Wrap ``body`` in an <svg> with role img, a title and a description."""
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-titel {escape(chart_id)}-beschrijving" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
        f'font-family="inherit" fill="{TEXT_FILL}">'
        f'<title id="{escape(chart_id)}-titel">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-beschrijving">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def number(value: float | None, locale: str = "nl", pattern: str = "0.00") -> str:
    """Format a number for the locale, such as 3,12 in Dutch, or a dash when it is missing."""
    return "–" if value is None else format_decimal(value, pattern, locale=locale)


def percent(value: float | None, locale: str = "nl") -> str:
    """Format a share as a whole percentage for the locale, or a dash when it is missing."""
    return "–" if value is None else format_percent(value, "0%", locale=locale)


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    groups: Sequence[BarGroup],
    axis_max: float,
    reference_label: str = "",
    locale: str = "nl",
) -> Markup:
    """Draw horizontal bars from 0 to ``axis_max``, with a label above each bar.

    A bar's length is proportional to its value. Its value is written at its end, with
    ``reference_label`` and the reference value when the bar has one, and a legend below
    explains the dashed reference line.
    """
    has_reference = any(bar.reference is not None for group in groups for bar in group.bars)
    right_room = VALUE_ROOM + (REFERENCE_ROOM if has_reference else 0)
    plot_left, plot_width = MARGIN, WIDTH - 2 * MARGIN - right_room

    def x_of(value: float) -> float:
        return plot_left + plot_width * max(0.0, min(value, axis_max)) / axis_max

    body = []
    top = FONT_SIZE + 4
    y = top + 6
    for group in groups:
        if group.label is not None:
            body.append(_text(plot_left, y + FONT_SIZE, group.label, "chart__heading"))
            y += LABEL_HEIGHT + 2
        if group.note is not None:
            body.append(_text(plot_left, y + FONT_SIZE, group.note, "chart__note"))
            y += LABEL_HEIGHT + BAR_GAP
            continue
        for bar in group.bars:
            body.append(_text(plot_left, y + FONT_SIZE, bar.label, "chart__label"))
            y += LABEL_HEIGHT
            if bar.value is None:
                body.append(_text(plot_left, y + FONT_SIZE - 2, bar.note, "chart__note"))
                y += BAR_HEIGHT + BAR_GAP
                continue
            end = x_of(bar.value)
            body.append(
                f'<rect class="chart__bar" x="{plot_left:.1f}" y="{y:.1f}" '
                f'width="{end - plot_left:.2f}" height="{BAR_HEIGHT}" fill="{BAR_FILL}" '
                f'data-value="{bar.value:.2f}"/>'
            )
            value_text = number(bar.value, locale)
            text_end = end
            if bar.reference is not None:
                marker = x_of(bar.reference)
                body.append(
                    f'<line class="chart__reference" x1="{marker:.2f}" x2="{marker:.2f}" '
                    f'y1="{y - 4:.1f}" y2="{y + BAR_HEIGHT + 4:.1f}" stroke="{TEXT_FILL}" '
                    f'stroke-width="2" stroke-dasharray="{REFERENCE_DASH}"/>'
                )
                value_text += f" ({reference_label} {number(bar.reference, locale)})"
                text_end = max(end, marker)
            body.append(_text(text_end + 6, y + FONT_SIZE - 2, value_text, "chart__value"))
            y += BAR_HEIGHT + BAR_GAP

    # Grid lines and tick labels go first, so that the bars are drawn over them.
    grid = []
    for tick in range(int(axis_max) + 1):
        x = x_of(tick)
        grid.append(
            f'<line class="chart__grid" x1="{x:.2f}" x2="{x:.2f}" y1="{top + 2}" y2="{y:.1f}" '
            f'stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        grid.append(
            _text(x, top - 2, number(tick, locale, "0"), "chart__tick", text_anchor="middle")
        )

    if has_reference:
        y += 4
        grid.append(
            f'<line class="chart__reference" x1="{plot_left}" x2="{plot_left + 24}" '
            f'y1="{y + 6}" y2="{y + 6}" stroke="{TEXT_FILL}" stroke-width="2" '
            f'stroke-dasharray="{REFERENCE_DASH}"/>'
        )
        grid.append(_text(plot_left + 32, y + FONT_SIZE - 2, reference_label, "chart__legend"))
        y += LABEL_HEIGHT
    return _svg(chart_id, title, desc, y + MARGIN, grid + body)


def _marker(shape: str, x: float, y: float, colour: str, css_class: str = "chart__marker") -> str:
    size = MARKER_SIZE
    attributes = f'class="{css_class}" fill="{colour}" stroke="#ffffff" stroke-width="1"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size}" {attributes} data-shape="circle"/>'
    if shape == "square":
        return (
            f'<rect x="{x - size:.1f}" y="{y - size:.1f}" width="{2 * size}" height="{2 * size}" '
            f'{attributes} data-shape="square"/>'
        )
    if shape == "triangle":
        points = f"{x:.1f},{y - size - 1:.1f} {x + size + 1:.1f},{y + size:.1f} {x - size - 1:.1f},{y + size:.1f}"
    else:
        points = f"{x:.1f},{y - size - 1:.1f} {x + size + 1:.1f},{y:.1f} {x:.1f},{y + size + 1:.1f} {x - size - 1:.1f},{y:.1f}"
    return f'<polygon points="{points}" {attributes} data-shape="{shape}"/>'


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    axis_min: float,
    axis_max: float,
    step: float = 0.5,
    locale: str = "nl",
) -> Markup:
    """Draw one line per series over the categories, with a legend below the plot.

    A missing value breaks its line. Series differ in colour, dash pattern and marker
    shape, so that any one of the three tells them apart.
    """
    if len(series) > len(LINE_STYLES):
        raise ValueError(f"a line chart draws at most {len(LINE_STYLES)} series, got {len(series)}")
    plot_left, plot_right = LINE_PLOT_LEFT, WIDTH - 3 * MARGIN
    plot_bottom = MARGIN + 6 + LINE_PLOT_HEIGHT

    def y_of(value: float) -> float:
        share = (min(max(value, axis_min), axis_max) - axis_min) / (axis_max - axis_min)
        return plot_bottom - share * LINE_PLOT_HEIGHT

    slot = (plot_right - plot_left) / max(len(categories), 1)
    xs = [plot_left + slot * (index + 0.5) for index in range(len(categories))]

    body = []
    ticks = round((axis_max - axis_min) / step)
    for index in range(ticks + 1):
        value = axis_min + index * step
        y = y_of(value)
        body.append(
            f'<line class="chart__grid" x1="{plot_left}" x2="{plot_right}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        body.append(
            _text(
                plot_left - 6, y + 4, number(value, locale, "0.0"), "chart__tick", text_anchor="end"
            )
        )
    for x, category in zip(xs, categories, strict=True):
        body.append(
            _text(x, plot_bottom + FONT_SIZE + 6, category, "chart__tick", text_anchor="middle")
        )

    for line, (colour, dash, shape) in zip(series, LINE_STYLES, strict=False):
        commands, pen_down = [], False
        for x, value in zip(xs, line.values, strict=True):
            if value is None:
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{x:.1f} {y_of(value):.1f}")
            pen_down = True
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<path class="chart__line" d="{" ".join(commands)}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attribute} data-series="{escape(line.label)}"/>'
        )
        for x, value in zip(xs, line.values, strict=True):
            if value is not None:
                body.append(_marker(shape, x, y_of(value), colour))

    y = plot_bottom + FONT_SIZE + 18
    for line, (colour, dash, shape) in zip(series, LINE_STYLES, strict=False):
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line class="chart__legend-line" x1="{plot_left}" x2="{plot_left + 40}" '
            f'y1="{y + 6}" y2="{y + 6}" stroke="{colour}" stroke-width="2.5"{dash_attribute}/>'
        )
        body.append(_marker(shape, plot_left + 20, y + 6, colour, "chart__legend-marker"))
        body.append(_text(plot_left + 50, y + 11, line.label, "chart__legend"))
        y += LABEL_HEIGHT + 2
    return _svg(chart_id, title, desc, y + MARGIN, body)


def grey_shades(count: int) -> list[str]:
    """Return ``count`` greys from light to dark, evenly apart in lightness."""
    lightest, darkest = 0xF2, 0x26
    if count == 1:
        return [f"#{lightest:02x}{lightest:02x}{lightest:02x}"]
    shades = []
    for index in range(count):
        level = round(lightest - (lightest - darkest) * index / (count - 1))
        shades.append(f"#{level:02x}{level:02x}{level:02x}")
    return shades


def stacked_bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[StackRow],
    option_labels: Sequence[str],
    locale: str = "nl",
) -> Markup:
    """Draw one bar of 100% per row, split into a grey segment per answer option.

    The options run from light to dark grey, as the legend shows. A segment wide enough
    for it is labelled with its percentage, in black on light and white on dark grey.
    """
    shades = grey_shades(len(option_labels))
    plot_left, plot_width = MARGIN, WIDTH - 2 * MARGIN
    body = []
    y = MARGIN
    for row in rows:
        body.append(_text(plot_left, y + FONT_SIZE, row.label, "chart__label"))
        y += LABEL_HEIGHT
        if row.note is not None:
            body.append(_text(plot_left, y + FONT_SIZE, row.note, "chart__note"))
            y += STACK_HEIGHT + BAR_GAP
            continue
        x = plot_left
        for index, share in enumerate(row.shares):
            width = plot_width * share
            if width <= 0:
                continue
            shade = shades[index]
            body.append(
                f'<rect class="chart__segment" x="{x:.2f}" y="{y:.1f}" width="{width:.2f}" '
                f'height="{STACK_HEIGHT}" fill="{shade}" stroke="{TEXT_FILL}" stroke-width="0.75" '
                f'data-option="{escape(option_labels[index])}" data-share="{share:.2f}"/>'
            )
            if width >= MIN_SEGMENT_LABEL_WIDTH:
                ink = TEXT_FILL if int(shade[1:3], 16) >= 0x80 else "#ffffff"
                body.append(
                    _text(
                        x + width / 2,
                        y + STACK_HEIGHT / 2 + FONT_SIZE / 2 - 1,
                        percent(share, locale),
                        "chart__value",
                        text_anchor="middle",
                        fill=ink,
                    )
                )
            x += width
        y += STACK_HEIGHT + BAR_GAP

    for label, shade in zip(option_labels, shades, strict=True):
        body.append(
            f'<rect class="chart__swatch" x="{plot_left}" y="{y:.1f}" width="24" height="14" '
            f'fill="{shade}" stroke="{TEXT_FILL}" stroke-width="0.75"/>'
        )
        body.append(_text(plot_left + 32, y + 12, label, "chart__legend"))
        y += LABEL_HEIGHT + 2
    return _svg(chart_id, title, desc, y + MARGIN, body)
