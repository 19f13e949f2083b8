"""Server-side SVG bar charts: no JavaScript, no inline styles (the CSP forbids them).

Each bar carries its value as text, so the chart reads in greyscale; a hidden figure has no
bar, only "[c]". Every chart is shown next to the table it draws.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting.selectors import Shown

WIDTH = 960
LABEL_WIDTH = 450
VALUE_SPACE = 90
BAR_HEIGHT = 22
GAP = 8


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    y: float
    width: float
    text_x: float
    text_y: float
    label_y: float
    cell: str = ""  # the release cell the figure is read from


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: tuple[Bar, ...]
    height: int
    width: int = WIDTH
    label_width: int = LABEL_WIDTH


def bar_chart(title: str, description: str, items: list[tuple[str, Shown]]) -> BarChart:
    """Horizontal bars of published figures; hidden ones are labelled [c] with no bar."""
    numbers = [v.number for _, v in items if v.number is not None]
    top = max(numbers, default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_SPACE
    bars = []
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR_HEIGHT + GAP)
        width = 0.0 if value.number is None else max(1.0, value.number / top * span)
        bars.append(
            Bar(
                label=label,
                text=value.text,
                y=y,
                width=round(width, 1),
                text_x=round(LABEL_WIDTH + width + 6, 1),
                text_y=y + BAR_HEIGHT * 0.7,
                label_y=y + BAR_HEIGHT * 0.7,
                cell=value.cell,
            )
        )
    height = GAP + len(items) * (BAR_HEIGHT + GAP)
    return BarChart(title, description, tuple(bars), height)
