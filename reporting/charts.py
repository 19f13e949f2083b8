"""Server-side SVG bar charts: no JavaScript, no inline styles (the CSP forbids them).

Each bar carries its value as text, so the chart reads in greyscale; a hidden figure has no
bar, only "[c]". Every chart is shown next to the table it draws.

Each chart is drawn twice: wide (labels left of the bars) for desktop screens, and narrow
(each label above its bar, wrapped) for phones and tablets. An SVG scales its text with its
width, so the wide drawing squeezed onto a 375 px phone had 5 px labels; the narrow one is
drawn 360 units wide, close to a phone's width, and the page's CSS shows one or the other.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from reporting.selectors import Shown

WIDTH = 960
LABEL_WIDTH = 450
VALUE_SPACE = 90
BAR_HEIGHT = 22
GAP = 8
NARROW_WIDTH = 360
NARROW_VALUE_SPACE = 110
NARROW_LINE = 20  # 16-unit text
NARROW_LABEL_CHARS = 36
NARROW_GAP = 14


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
class NarrowBar:
    """A bar of the narrow drawing: its label on lines of their own, above the bar."""

    lines: tuple[tuple[str, float], ...]  # (text, baseline y)
    text: str
    y: float
    width: float
    text_x: float
    text_y: float
    cell: str = ""  # the release cell the figure is read from


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    bars: tuple[Bar, ...]
    height: int
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    narrow_bars: tuple[NarrowBar, ...] = ()
    narrow_height: int = 0
    narrow_width: int = NARROW_WIDTH


def _narrow(items: list[tuple[str, Shown]], top: float) -> tuple[tuple[NarrowBar, ...], int]:
    span = NARROW_WIDTH - NARROW_VALUE_SPACE
    bars, y = [], 0.0
    for label, value in items:
        lines = []
        for line in textwrap.wrap(label, NARROW_LABEL_CHARS) or [""]:
            y += NARROW_LINE
            lines.append((line, y - 5))
        width = 0.0 if value.number is None else max(1.0, value.number / top * span)
        bar_y = y + 2
        bars.append(
            NarrowBar(
                tuple(lines), value.text, bar_y, round(width, 1), round(width + 6, 1),
                bar_y + BAR_HEIGHT * 0.75, value.cell,
            )
        )  # fmt: skip
        y = bar_y + BAR_HEIGHT + NARROW_GAP
    return tuple(bars), int(y)


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
    narrow_bars, narrow_height = _narrow(items, top)
    return BarChart(
        title, description, tuple(bars), height,
        narrow_bars=narrow_bars, narrow_height=narrow_height,
    )  # fmt: skip


# --- The charts of the report tables (analysts' pages and the public release) ----------


def response_rate_chart(table) -> BarChart:
    """Response rate by council type, England (rows of selectors.table_response_rates)."""
    return bar_chart(
        "Response rate by council type",
        "Percentage of invited councils that submitted a response, by council type.",
        [(row[0], row[4]) for row in table.rows if row[1] == "England"],
    )


def channel_mix_chart(table, transaction_name: str) -> BarChart:
    """One transaction's channels (rows of selectors.table_channel_mix)."""
    return bar_chart(
        f"Share of transactions by channel, England: {transaction_name}",
        "Percentage of all recorded transactions made through each channel.",
        [(row[1], row[3]) for row in table.rows if row[1] != "All channels"],
    )


def take_up_chart(table) -> BarChart:
    """Digital take-up of each transaction (rows of selectors.table_take_up)."""
    return bar_chart(
        "Digital take-up by transaction, England",
        "Online self-service and app transactions as a percentage of all recorded "
        "transactions, for each transaction.",
        [(row[0], row[1]) for row in table.rows],
    )


def own_costs_chart(table) -> BarChart:
    """Estimated cost of each channel (rows of selectors.table_own_costs)."""
    return bar_chart(
        "Estimated cost by channel at councils' own unit costs, England",
        "Estimated cost in pounds of each channel's transactions.",
        [(row[0], row[1]) for row in table.rows if row[0] != "All channels"],
    )
