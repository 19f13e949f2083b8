"""The census of a publication: every number an analyst can see, traced to where it comes from.

A number on a page or in a download is allowed only when it is
- a cell of the published release, shown as the release holds it: on pages the figure sits in
  an element marked ``data-cell="<cell id>"``; in the workbook at a place where the workbook's
  layout (``reporting.exports.workbook_sheets``) has a figure read from that cell; in the CSV
  and JSON on the row of that cell. A hidden cell must read ``[c]`` and nothing else;
- part of a label (a council type, a region, a transaction, a channel, a question, the round's
  name), or
- one of the documented constants in ``CONSTANTS`` (with the reason it may be printed), or
- a count of the release's hidden cells by table and why (``reporting.selectors.Tally``: the
  notes' table on the overview and the workbook's Notes sheet), marked ``data-tally`` on pages
  and placed by the workbook's layout. It must be the summary stored with the release when it
  was built, and that summary must agree with the statuses of the release's cells: its cells,
  hidden cells, share hidden and withheld derived figures are what the published [c] pattern
  gives, and its split by reason adds up to the primary and secondary cells. It says how many,
  never which.
- a cell of an earlier round's published release, where a page sets it beside this one's
  ("up from 45.2% to 51.0%"): the figure is marked ``data-cell`` and ``data-release="<that
  round's slug>"``, and is checked against that round's cells (``Census(..., earlier=)``),
  never this one's;
- on a council's own comparison page only (``publishing``), one of that council's own figures:
  an element marked ``data-own="<what>"`` whose text is what the test worked out from the
  council's own answers (``own``), or a phrase the page may print about it (``allow``).
Anything else, a count of responses printed beside the tables, a sum or a share computed in a
template, a hidden cell's value, is reported.
"""

from __future__ import annotations

import csv
import io
import json
import re
from functools import cached_property
from html.parser import HTMLParser

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from reporting.exports import CSV_HEADER, NOTES, workbook_sheets
from reporting.models import HIDDEN_STATUSES, Release, ReleaseCell
from reporting.publication import Publication
from reporting.selectors import (
    ANSWER_LABELS,
    CONSTANT_FIGURES,
    KEY_COLUMNS,
    KIND_LABELS,
    REGION_LABELS,
    Shown,
    Tally,
)
from reporting.tests.analyst_outputs import PAGES as ANALYST_PAGES
from survey_site.exports import safe_cell
from survey_site.formatting import datetime_text
from surveys.models import Question

# Numbers printed that are not figures of the release, and why they may be.
CONSTANTS = {
    "face to face £8.62": "published default unit cost (Socitm 2012), a questionnaire constant",
    "telephone £2.83": "published default unit cost (Socitm 2012)",
    "web £0.15": "published default unit cost (Socitm 2012)",
    "post £12.10": "published default unit cost (PwC / Socitm North West)",
    "automated telephone £0.20": "published default unit cost (PwC / Socitm North West)",
    "IVR £0.20": "published default unit cost (PwC / Socitm North West)",
    "Socitm 2012": "the year of the unit costs' source",
    "Benchmarking 2012": "the year of the unit costs' source",
    "Open Government Licence v3.0": "the page footer's licence of the reference data",
    "CC BY 4.0": "the page footer's licence of the reference data",
    "100.0%": "the All channels share, 100% by definition (selectors.CONSTANT_FIGURES)",
    "April 2023": "the classification note's example, North Yorkshire (publishing.rounds)",
}
PAGES = (*ANALYST_PAGES, "release-suppression")
# A loss reads "\u2212£1,176,403" (GOV.UK style: a minus sign before the pound sign).
FIGURE = re.compile(r"^[-\u2212]?£?-?[\d,]+(\.\d+)?%?$")
# A figure inside words: "353", "1,234", "45.2%", "£2.83", "\u2212£1,200".
QUOTED_FIGURE = re.compile(r"[-\u2212]?£?\d[\d,]*(?:\.\d+)?%?")


def metadata(publication: Publication) -> dict[str, str]:
    """What pages and downloads say about the release itself: its number and date."""
    built = publication.finished_at
    number = publication.number
    return {
        f"release {number}": "the release's number",
        f"Release {number}": "the release's number",
        f"{number}, built {datetime_text(built)}": "the release's number and date (overview)",
        f"{built:%d %B %Y %H:%M} UTC": "the release's date (cover sheet)",
        datetime_text(built): "the release's date and time, UK time (pages, cover sheet)",
        built.isoformat(): "the release's date (JSON)",
        f"-release-{number}.": "the download's file name",
    }


class Census:
    """Checks outputs of one publication. ``extra`` names further phrases with digits that an
    output may print, with the reason (the public pages' version numbers and dates).
    ``earlier``: publications of earlier rounds whose cells a page may set beside this one's
    (marked ``data-release="<slug>"``); their rounds' names are labels too."""

    def __init__(
        self,
        publication: Publication,
        extra: dict[str, str] | None = None,
        *,
        earlier: tuple[Publication, ...] = (),
    ) -> None:
        self.publication = publication
        release = publication._release
        self.cells = {c.cell_id: c for c in ReleaseCell.objects.filter(release=release)}
        # Each earlier round's cells, by its slug (never mixed with this round's).
        self.earlier = {
            other.round.slug: {
                c.cell_id: c for c in ReleaseCell.objects.filter(release=other._release)
            }
            for other in earlier
        }
        # The relations as stored, not as the publication hands them out.
        self.relations = Release.objects.get(pk=release.pk).relations
        self.by_keys = {(c.table, tuple(sorted(c.keys.items()))): c for c in self.cells.values()}
        questionnaire = release.survey.questionnaire
        labels = [
            publication.round.name,
            *(other.round.name for other in earlier),
            *publication.labels.transactions.values(),
            *publication.labels.channels.values(),
            *Question.objects.filter(section__questionnaire=questionnaire).values_list(
                "text", flat=True
            ),
            *KIND_LABELS.values(),
            *REGION_LABELS.values(),
            *ANSWER_LABELS.values(),
        ]
        # Answer categories of the questionnaire ("1" to "5" on a scale): whole labels only.
        self.categories = {
            str(choice[0])
            for choices in Question.objects.filter(
                section__questionnaire=questionnaire
            ).values_list("choices", flat=True)
            for choice in choices or ()
        }
        self.hidden = _hidden_from_statuses(self.cells.values())
        allowed = [*labels, *CONSTANTS, *metadata(publication), *(extra or {})]
        self.allowed = sorted({a for a in allowed if re.search(r"\d", a)}, key=len, reverse=True)
        self.problems: list[str] = []

    # --- Checks -----------------------------------------------------------------------

    def figure(self, where: str, cell_id: str, shown: object, release: str = "") -> None:
        """``shown`` (text or a number) must be how the release publishes cell ``cell_id``;
        with ``release`` (an earlier round's slug), how that round's release publishes it."""
        if not cell_id and shown in ("[z]", "[x]"):
            return  # not applicable or not available: a symbol where there is no figure
        cells = self.cells
        if release and release != self.publication.round.slug:
            if release not in self.earlier:
                self.problems.append(f"{where}: {shown!r} claims to be of round {release!r}")
                return
            cells, where = self.earlier[release], f"{where} ({release})"
        cell = cells.get(cell_id)
        if cell is None:
            self.problems.append(f"{where}: {shown!r} claims to be cell {cell_id!r}, no such cell")
            return
        hidden = cell.status in HIDDEN_STATUSES
        if isinstance(shown, str) and shown.strip() in ("[c]", "[z]"):
            expected = "[c]" if hidden else "[z]"
            if shown.strip() != expected or (not hidden and cell.value is not None):
                self.problems.append(f"{where}: {cell_id} shows {shown!r}")
            return
        if hidden or cell.value is None:
            self.problems.append(f"{where}: {cell_id} is hidden but shows {shown!r}")
            return
        text = str(shown).strip()
        if not isinstance(shown, int | float) and not FIGURE.match(text):
            self.problems.append(f"{where}: {cell_id} shows {shown!r}, not a figure")
            return
        number = float(text.replace("\u2212", "-").replace("£", "").rstrip("%").replace(",", ""))
        decimals = len(text.rstrip("%").split(".")[1]) if "." in text else 0
        if isinstance(shown, int | float):
            decimals = 9
        if abs(number - cell.value) > max(0.5 * 10**-decimals, 1e-12 * abs(cell.value)):
            self.problems.append(
                f"{where}: {cell_id} shows {shown!r}, the release has {cell.value}"
            )

    def tally(self, where: str, source: str, shown: object) -> None:
        """``shown`` must be the stored summary's count ``source`` ("<table>|<measure>"), and
        that count what the statuses of the release's cells give."""
        table, _, measure = source.partition("|")
        stored = self.publication._release.counts.get("hidden") or {}
        tally = stored.get("all") if table == "all" else stored.get("tables", {}).get(table)
        counted = self.hidden.get(table)
        if not tally or counted is None or measure not in tally:
            self.problems.append(f"{where}: {shown!r} claims to be count {source!r}, no such count")
            return
        value = tally[measure]
        if measure == "hidden_share":
            truth = round(counted["hidden"] / max(counted["cells"], 1), 4)
        elif measure in ("primary_rule", "group_rule"):
            reasons = tally["primary_rule"] + tally["group_rule"]
            truth = value if reasons == counted["primary"] and value >= 0 else None
        else:
            truth = counted[measure]
        if value != truth:
            self.problems.append(f"{where}: count {source} is {value}, the cells give {truth}")
            return
        expected = 100 * value if measure == "hidden_share" else value
        text = str(shown).strip()
        if not isinstance(shown, int | float) and not FIGURE.match(text):
            self.problems.append(f"{where}: count {source} shows {shown!r}, not a figure")
            return
        number = float(text.rstrip("%").replace(",", ""))
        decimals = len(text.rstrip("%").split(".")[1]) if "." in text else 0
        if isinstance(shown, int | float):
            decimals = 9
        # (A float such as 25.95 prints as 25.9: half a unit of the last digit, and a hair.)
        if abs(number - expected) > 0.5 * 10**-decimals + 1e-9:
            self.problems.append(f"{where}: count {source} shows {shown!r}, stored {expected}")

    def constant(self, where: str, shown: Shown, value: object) -> None:
        """A constant of a definition (selectors.CONSTANT_FIGURES), as the layout has it."""
        if CONSTANT_FIGURES.get(shown.constant) != value:
            self.problems.append(f"{where}: {value!r} is not the constant {shown.constant!r}")

    def text(self, where: str, text: str) -> None:
        """Text may hold digits only inside labels and documented constants."""
        text = " ".join(text.split())
        if text in self.categories:
            return
        for phrase in self.allowed:
            text = text.replace(phrase, " ")
        for match in re.finditer(r"\S*\d\S*", text):
            self.problems.append(f"{where}: number {match.group()!r} is no cell, label or constant")

    def quoted(self, where: str, text: str) -> None:
        """Words people wrote (marked ``data-quoted``) may quote a figure only as a published
        cell's value, rounded as written ("45.2%" is any cell from 45.15 to 45.25)."""
        text = " ".join(text.split())
        for phrase in self.allowed:
            text = text.replace(phrase, " ")
        for match in QUOTED_FIGURE.finditer(text):
            figure = match.group().rstrip(".,")
            number = float(
                figure.replace("\u2212", "-").replace("£", "").rstrip("%").replace(",", "")
            )
            decimals = len(figure.rstrip("%").split(".")[1]) if "." in figure else 0
            if not any(abs(number - value) <= 0.5 * 10**-decimals for value in self.published):
                self.problems.append(f"{where}: {figure!r} in {text!r} is not a published figure")

    @cached_property
    def published(self) -> list[float]:
        return [
            c.value
            for c in self.cells.values()
            if c.value is not None and c.status not in HIDDEN_STATUSES
        ]

    # --- Outputs ------------------------------------------------------------------------

    def allow(self, phrase: str) -> None:
        """A phrase with digits one page may print (a council's own date, say)."""
        self.allowed = sorted({*self.allowed, phrase}, key=len, reverse=True)

    def page(self, where: str, html: str, own: dict[str, str] | None = None) -> None:
        """Any rendered page: figures (data-cell), quoted words (data-quoted) and the rest.
        ``own``: on a council's comparison, its own figures (``data-own`` -> text); any
        other page showing one is reported."""
        reader = _Page()
        reader.feed(html)
        for source, shown in reader.tallies:
            self.tally(where, source, shown)
        for cell_id, shown, release in reader.figures:
            if cell_id:
                self.figure(where, cell_id, shown, release)
            else:
                self.text(where, shown)
        for key, shown in reader.own:
            text = " ".join(shown.split())
            if own is None:
                self.problems.append(f"{where}: {key} {text!r} is a council's own figure")
            elif key in own:
                if text != own[key]:
                    self.problems.append(f"{where}: own {key} shows {text!r}, not {own[key]!r}")
            else:
                self.text(f"{where} own {key}", text)  # a note ("Not offered"), no figure
        for text in reader.quoted:
            self.quoted(where, text)
        for text in reader.texts:
            self.text(where, text)

    def internals(self, where: str, html: str) -> str:
        """The statisticians' counts of cells by status (not figures about councils): each
        must be the release's; returns the page without them."""
        counts = dict(self.publication.internals())
        pattern = re.compile(
            r'<dt class="govuk-summary-list__key">([^<]+)</dt>'
            r'<dd class="govuk-summary-list__value">([^<]*)</dd>'
        )
        for label, shown in pattern.findall(html):
            if shown != str(counts.get(label)):
                self.problems.append(f"{where}: {label} {shown!r} is not the release's count")
        return pattern.sub("", html)

    def workbook(self, where: str, content: bytes) -> None:
        """Every cell of every sheet is the layout's, and the layout's figures are cells."""
        book = load_workbook(io.BytesIO(content))
        layout = workbook_sheets(publication=self.publication)
        if book.sheetnames != [s.name for s in layout]:
            self.problems.append(f"{where}: sheets {book.sheetnames} are not the layout's")
            return
        for sheet in layout:
            ws = book[sheet.name]
            self.text(where, sheet.name)
            expected = {
                (r, c): value
                for r, row in enumerate(sheet.rows, start=1)
                for c, value in enumerate(row, start=1)
            }
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is None or cell.value == "":
                        continue
                    place = f"{where} {sheet.name}!{cell.coordinate}"
                    value = expected.get((cell.row, cell.column))
                    if isinstance(value, Tally):
                        self.tally(place, value.source, cell.value)
                    elif isinstance(value, Shown) and value.constant:
                        self.constant(place, value, cell.value)
                    elif isinstance(value, Shown):
                        self.figure(place, value.cell, cell.value)
                    elif isinstance(cell.value, str) and cell.value == safe_cell(str(value)):
                        self.text(place, cell.value)
                    else:
                        self.problems.append(f"{place}: {cell.value!r} is not in the layout")

    def csv(self, where: str, content: str) -> None:
        rows = list(csv.reader(io.StringIO(content)))
        if rows[0] != CSV_HEADER:
            self.problems.append(f"{where}: header {rows[0]}")
        for number, row in enumerate(rows[1:], start=2):
            table, *keys, value = row
            named = tuple(sorted((k, v) for k, v in zip(KEY_COLUMNS, keys, strict=True) if v))
            cell = self.by_keys.get((table, named))
            if cell is None:
                self.problems.append(f"{where} row {number}: {row} is no cell of the release")
                continue
            self.figure(f"{where} row {number}", cell.cell_id, value)

    def json(self, where: str, content: str) -> None:
        data = json.loads(content)
        publication = self.publication
        expected_keys = {"survey", "release", "published_at", "symbols", "cells", "relations"}
        if set(data) != expected_keys:
            self.problems.append(f"{where}: keys {sorted(set(data) ^ expected_keys)}")
        if data.get("release") != publication.number:
            self.problems.append(f"{where}: release {data.get('release')!r}")
        if data.get("symbols") != {s: m for s, m in NOTES if s.startswith("[")}:
            self.problems.append(f"{where}: symbols are not the notes' symbols")
        if data.get("relations") != [{"total": t, "parts": p} for t, p in self.relations]:
            self.problems.append(f"{where}: relations are not the release's")
        self.text(where, f"{data.get('survey')} {data.get('published_at')}")
        for cell in data.get("cells", []):
            if set(cell) - {"id", "table", "keys", "value", "symbol"}:
                self.problems.append(f"{where}: cell {cell.get('id')} has {sorted(cell)}")
            shown = cell.get("symbol") if cell.get("value") is None else cell["value"]
            self.figure(f"{where} {cell.get('id')}", cell.get("id", ""), shown)
            stored = self.cells.get(cell.get("id", ""))
            if stored and (stored.table, stored.keys) != (cell.get("table"), cell.get("keys")):
                self.problems.append(f"{where}: cell {cell.get('id')} has other keys")


class _Page(HTMLParser):
    """Text of a page: figures (elements marked data-cell) and words people wrote (marked
    data-quoted) apart from everything else."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.figures: list[tuple[str, str, str]] = []  # (cell id, text, data-release)
        self.tallies: list[tuple[str, str]] = []  # counts of hidden cells (data-tally)
        self.own: list[tuple[str, str]] = []  # a council's own figures (data-own)
        self.quoted: list[str] = []
        self._skip = 0
        self._figure: list | None = None  # [kind, cell id or own key, text, release]
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        # Attributes that assistive technology reads out are printed text too.
        self.texts += [v for k, v in attrs if k in ("aria-label", "title", "alt") and v]
        if self._figure is not None:
            self._depth += 1
        elif "data-tally" in dict(attrs):
            self._figure = ["tally", dict(attrs)["data-tally"] or "", "", ""]
            self._depth = 1
        elif "data-cell" in dict(attrs):
            marks = dict(attrs)
            self._figure = ["cell", marks["data-cell"] or "", "", marks.get("data-release") or ""]
            self._depth = 1
        elif "data-quoted" in dict(attrs):
            self._figure = ["quoted", "", "", ""]
            self._depth = 1
        elif "data-own" in dict(attrs):
            self._figure = ["own", dict(attrs)["data-own"] or "", "", ""]
            self._depth = 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1
        if self._figure is not None:
            self._depth -= 1
            if self._depth == 0:
                kind, key, text, release = self._figure
                if kind == "quoted":
                    self.quoted.append(text)
                elif kind == "cell":
                    self.figures.append((key, text, release))
                elif kind == "tally":
                    self.tallies.append((key, text))
                else:
                    self.own.append((key, text))
                self._figure = None

    def handle_data(self, data):
        if self._skip:
            return
        if self._figure is not None:
            self._figure[2] += data
        else:
            self.texts.append(data)


def _hidden_from_statuses(cells) -> dict[str, dict[str, int]]:
    """Cells, hidden cells and hidden cells by status of each table of the release (and
    "all"), as the statuses of the release's cells give them."""
    counted: dict[str, dict[str, int]] = {}
    for cell in cells:
        for name in (cell.table, "all"):
            tally = counted.setdefault(
                name, {"cells": 0, "hidden": 0, "primary": 0, "secondary": 0, "withheld": 0}
            )
            tally["cells"] += 1
            if cell.status in HIDDEN_STATUSES:
                tally["hidden"] += 1
                tally[cell.status] += 1
    return counted


def census(client: Client, publication: Publication, *, pages=PAGES) -> list[str]:
    """Everything wrong with what an analyst (a statistician too) can see of a publication."""
    slug = publication.round.slug
    check = Census(publication)
    urls = [reverse("reporting:release-index")]
    urls += [reverse(f"reporting:{name}", args=[slug]) for name in pages]
    if "release-channels" in pages:
        channels = reverse("reporting:release-channels", args=[slug])
        urls += [f"{channels}?transaction={t}" for t in publication.transactions]
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        if "suppression" in url:
            html = check.internals(url, html)
        check.page(url, html)
    for fmt in ("csv", "json", "xlsx"):
        url = reverse("reporting:release-download", args=[slug, fmt])
        download = client.get(url)
        assert download.status_code == 200, url
        check.text(url, download["Content-Disposition"])
        if fmt == "xlsx":
            check.workbook(url, download.content)
        elif fmt == "csv":
            check.csv(url, download.content.decode())
        else:
            check.json(url, download.content.decode())
    return check.problems
