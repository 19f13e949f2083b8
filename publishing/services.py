"""Drafting, publishing and withdrawing a round's public release.

Every figure the public sees is a cell of the round's published release, read through a
``reporting.publication.Publication``; the only words with numbers in them that people write
(the summary and the headline findings) are checked here against those cells before a draft
can be saved, and again when it is published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from publishing.emails import comparison_emails_queue
from publishing.models import PublicRelease, PublicReleaseStatus
from reporting import selectors
from reporting.publication import Publication
from survey_site.formatting import money_text
from surveys.models import Survey


class NotPublishable(Exception):
    """The round has no published (audited, final) release to make public."""


class PublicReleaseFinished(Exception):
    """Only a draft's words change; a published version is withdrawn or replaced, never edited."""


# A figure as people write it: "353", "1,234", "45.2%", "£2.83", "minus £1,200", "12.5".
NUMBER = re.compile(r"[-\u2212]?£?\d[\d,]*(?:\.\d+)?%?")


@dataclass(frozen=True)
class FigureProblem:
    field: str  # "summary" or "findings" (or "change_note", "reason": see note_problems)
    index: int  # the finding's position (0 for the summary)
    figure: str

    @property
    def message(self) -> str:
        where = (
            f"finding {self.index + 1}"
            if self.field == "findings"
            else f"the {self.field.replace('_', ' ')}"
        )
        return (
            f"‘{self.figure}’ in {where} is not a published figure of this release. "
            "Quote figures exactly as the release's tables show them"
        )


def published_figures(publication: Publication) -> set[str]:
    """Every way a published cell's value may be written: as a count, a percentage or money."""
    figures: set[str] = set()
    for cell in publication.cells():
        value = cell["value"]
        if value is None:
            continue
        figures.add(f"{value:,.0f}")
        figures.add(f"{value:.0f}")
        figures.add(f"{value:.1f}%")
        if round(value, 1) == round(value):
            figures.add(f"{value:.0f}%")
        figures.add(money_text(value))
        figures.add(money_text(value).replace(",", ""))
    return figures


def figure_problems(
    publication: Publication,
    *,
    summary: str,
    findings: list[str],
    title: str = "",
    change_note: str = "",
) -> list[FigureProblem]:
    """Numbers in the words (title, summary, findings, change note) that are not published
    cells of the release. Numbers in the round's name (its year) may be repeated."""
    allowed = published_figures(publication) | set(NUMBER.findall(publication.round.name))
    problems = []
    texts = [
        ("title", 0, title),
        ("summary", 0, summary),
        *(("findings", i, text) for i, text in enumerate(findings)),
        ("change_note", 0, change_note),
    ]
    for field, index, text in texts:
        for figure in NUMBER.findall(text):
            bare = figure.rstrip(".,")
            if bare not in allowed and bare.replace("\u2212", "-") not in allowed:
                problems.append(FigureProblem(field, index, bare))
    return problems


def note_problems(publication: Publication, *, field: str, text: str) -> list[FigureProblem]:
    """Numbers in other published words (a change note, a withdrawal's reason) that are not
    published cells: the pages prepare them with this, so nothing public quotes a figure
    the release hides."""
    return [
        FigureProblem(field, 0, problem.figure)
        for problem in figure_problems(publication, summary=text, findings=[])
    ]


class FiguresNotPublished(Exception):
    def __init__(self, problems: list[FigureProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def publication_for(survey: Survey) -> Publication:
    publication = Publication.of(survey)
    if publication is None:
        raise NotPublishable(f"{survey} has no published release yet")
    return publication


def live(survey: Survey) -> PublicRelease | None:
    """The version the public sees now, if any."""
    return (
        PublicRelease.objects.filter(survey=survey, status=PublicReleaseStatus.PUBLISHED)
        .select_related("release", "survey")
        .first()
    )


def public_publication(survey: Survey) -> tuple[PublicRelease, Publication] | None:
    """The live public release of a round and the publication its figures come from."""
    public = live(survey)
    if public is None:
        return None
    return public, Publication(public.release)


def draft_of(survey: Survey) -> PublicRelease | None:
    return PublicRelease.objects.filter(survey=survey, status=PublicReleaseStatus.DRAFT).first()


@transaction.atomic
def draft_start(*, survey: Survey, user: AbstractBaseUser) -> PublicRelease:
    """The round's draft (a new one copies the words of the latest version)."""
    existing = draft_of(survey)
    if existing is not None:
        return existing
    publication = publication_for(survey)
    latest = PublicRelease.objects.filter(survey=survey).order_by("-version").first()
    return PublicRelease.objects.create(
        survey=survey,
        release=publication._release,
        version=(latest.version + 1) if latest else 1,
        title=latest.title if latest else f"Council digital channels survey: {survey.name}",
        summary=latest.summary if latest else "",
        findings=list(latest.findings) if latest else [],
        created_by=user,
    )


def draft_update(
    draft: PublicRelease, *, title: str, summary: str, findings: list[str], change_note: str
) -> PublicRelease:
    """Save a draft's words; refused (nothing saved) if they quote an unpublished figure."""
    if draft.status != PublicReleaseStatus.DRAFT:
        raise PublicReleaseFinished(f"version {draft.version} is {draft.status}")
    findings = [text.strip() for text in findings if text.strip()]
    problems = figure_problems(
        Publication(draft.release),
        title=title,
        summary=summary,
        findings=findings,
        change_note=change_note,
    )
    if problems:
        raise FiguresNotPublished(problems)
    draft.title, draft.summary, draft.findings = title.strip(), summary.strip(), findings
    draft.change_note = change_note.strip()
    draft.save(update_fields=["title", "summary", "findings", "change_note"])
    return draft


class ChangeNoteMissing(Exception):
    """A version after the first says what changed."""


class SamePeriodPublished(Exception):
    """Another round covering the same reference period is already public: the two sets of
    cells would total the same councils' figures for the same year, and could be subtracted."""


@transaction.atomic
def publish(*, draft: PublicRelease, user: AbstractBaseUser) -> PublicRelease:
    """Make the draft the live version (the live one, if any, is superseded). Recorded."""
    draft = PublicRelease.objects.select_for_update().get(pk=draft.pk)
    if draft.status != PublicReleaseStatus.DRAFT:
        raise PublicReleaseFinished(f"version {draft.version} is {draft.status}")
    if draft.version > 1 and not draft.change_note:
        raise ChangeNoteMissing("Say what changed in this version")
    current = selectors.release_published(survey=draft.survey)
    if current is None or current.pk != draft.release_id:
        raise NotPublishable("the round's published release has changed since this draft")
    from publishing.rounds import same_period_rounds  # rounds builds on this module

    clash = same_period_rounds(draft.survey)
    if clash:
        raise SamePeriodPublished(
            f"{clash[0].name} covers the same period and is already public: withdraw it first"
        )
    problems = figure_problems(
        Publication(draft.release),
        title=draft.title,
        summary=draft.summary,
        findings=draft.findings,
        change_note=draft.change_note,
    )
    if problems:
        raise FiguresNotPublished(problems)
    now = timezone.now()
    PublicRelease.objects.filter(survey=draft.survey, status=PublicReleaseStatus.PUBLISHED).update(
        status=PublicReleaseStatus.SUPERSEDED, superseded_at=now
    )
    draft.status = PublicReleaseStatus.PUBLISHED
    draft.published_at, draft.published_by = now, user
    draft.save(update_fields=["status", "published_at", "published_by"])
    # In this transaction: each responding council's "comparison is ready" email, once per
    # round (a later version emails nobody again; see publishing.emails).
    comparison_emails_queue(public=draft)
    return draft


class ReasonMissing(Exception):
    """A withdrawal says why."""


@transaction.atomic
def withdraw(*, public: PublicRelease, user: AbstractBaseUser, reason: str) -> PublicRelease:
    """Take the live version down: its page then says when and why; its files are gone."""
    public = PublicRelease.objects.select_for_update().get(pk=public.pk)
    if public.status != PublicReleaseStatus.PUBLISHED:
        raise PublicReleaseFinished(f"version {public.version} is {public.status}")
    if not reason.strip():
        raise ReasonMissing("Say why the release is withdrawn")
    public.status = PublicReleaseStatus.WITHDRAWN
    public.withdrawn_at, public.withdrawn_by = timezone.now(), user
    public.withdrawal_reason = reason.strip()
    public.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    return public


# --- What the public pages list -------------------------------------------------------


def versions(survey: Survey) -> list[PublicRelease]:
    """Every version of the round's public release that was ever public, first to latest."""
    return list(
        PublicRelease.objects.filter(survey=survey)
        .exclude(status=PublicReleaseStatus.DRAFT)
        .order_by("version")
    )


def latest_public(survey: Survey) -> PublicRelease | None:
    """The version the round's public page shows: the live one, or the withdrawn one."""
    return (
        PublicRelease.objects.filter(survey=survey)
        .exclude(status=PublicReleaseStatus.DRAFT)
        .select_related("survey", "release")
        .order_by("-version")
        .first()
    )


def public_rounds() -> list[PublicRelease]:
    """Each round's latest public version (live or withdrawn), latest rounds first."""
    latest: dict[int, PublicRelease] = {}
    shown = (
        PublicRelease.objects.exclude(status=PublicReleaseStatus.DRAFT)
        .select_related("survey")
        .order_by("-survey__opens_at", "survey_id", "-version")
    )
    for public in shown:
        latest.setdefault(public.survey_id, public)
    return list(latest.values())
