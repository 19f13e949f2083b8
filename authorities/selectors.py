"""Councils over time: who took over an abolished council's area, who covered a council's
area on an earlier day.

The register's ``replaced_by`` is stored as ``Authority.successors`` (its reverse is
``Authority.predecessors``): one successor for a merger (the seven districts and the county of
North Yorkshire became North Yorkshire Council in April 2023), several when a council's area
was split (Northamptonshire County Council's area went to North Northamptonshire and West
Northamptonshire in April 2021). Reorganisations chain: Taunton Deane became part of Somerset
West and Taunton in 2019, which became part of Somerset Council in 2023.

All of this is public reference data; nothing here reads a response.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from authorities.models import Authority


def _by_name(councils) -> list[Authority]:
    return sorted(set(councils), key=lambda a: (a.official_name, a.code))


def successor_of(authority: Authority, *, on: datetime.date | None = None) -> list[Authority]:
    """The council or councils covering ``authority``'s area on ``on`` (today by default).

    Itself while it exists; once abolished, its successors, followed through later
    reorganisations; several when its area was split. Empty on a day before it existed, or
    when the register names no successor.
    """
    on = on or timezone.localdate()
    if authority.existed_on(on):
        return [authority]
    if authority.start_date is not None and authority.start_date > on:
        return []
    found: list[Authority] = []
    for successor in authority.successors.all():
        found.extend(successor_of(successor, on=on))
    return _by_name(found)


@dataclass(frozen=True)
class Area:
    """The councils that covered one council's area on an earlier day."""

    councils: tuple[Authority, ...]
    # Councils among those (or between them and today's council) whose area was split
    # between several successors: only part of their figures belongs to this area.
    split: tuple[Authority, ...] = ()

    @property
    def whole(self) -> bool:
        """True when the councils' areas together are exactly this council's area."""
        return bool(self.councils) and not self.split


def area_on(authority: Authority, on: datetime.date) -> Area:
    """Which councils covered ``authority``'s area on ``on``, walking back its predecessors.

    A council that existed that day is one of them; a predecessor abolished before that day
    is not followed (its area was already some other council's then). A predecessor with
    several successors was split: its area covered more than this council's.
    """
    councils: set[Authority] = set()
    split: set[Authority] = set()
    seen: set[int] = set()

    def walk(council: Authority) -> None:
        if council.pk in seen:
            return
        seen.add(council.pk)
        if council.existed_on(on):
            councils.add(council)
        for predecessor in council.predecessors.prefetch_related("successors"):
            if predecessor.end_date is not None and predecessor.end_date < on:
                continue
            if len(predecessor.successors.all()) > 1:
                split.add(predecessor)
            walk(predecessor)

    walk(authority)
    return Area(tuple(_by_name(councils)), tuple(_by_name(split)))


def predecessors(authority: Authority, *, on: datetime.date | None = None) -> list[Authority]:
    """Without ``on``: the councils ``authority`` directly replaced. With ``on``: the councils
    that covered its area that day (itself if it existed then); see ``area_on`` for whether
    their areas were exactly its own."""
    if on is None:
        return _by_name(authority.predecessors.all())
    return list(area_on(authority, on).councils)


def same_council(authority: Authority) -> list[Authority]:
    """The council itself and any record under one of its former GSS codes."""
    records = Authority.objects.filter(gss_code__in=authority.former_gss_codes)
    return _by_name([authority, *records])
