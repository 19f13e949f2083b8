"""Preparing a round's public release: drafting, previewing, publishing and withdrawing.

Analysts (``publishing.draft_public_release``) and survey administrators
(``publishing.publish_public_release``) draft the words and preview them; only administrators
publish and withdraw, each a POST from a page that says what will happen. Every action ends on
a page with a GOV.UK notification banner; bad input is re-shown with an error summary, never
lost. Staff pages are private and never stored by caches.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from publishing import services
from publishing.models import PublicRelease, PublicReleaseStatus
from publishing.views import chosen_transaction, release_context
from reporting import selectors
from reporting.publication import Publication
from survey_site.roles import holds, role_required
from surveys.models import Survey

DRAFT = "publishing.draft_public_release"
PUBLISH = "publishing.publish_public_release"
MAX_FINDINGS = 10
BLANK_FINDINGS = 2  # empty finding fields offered after the written ones
TITLE_MAX = PublicRelease._meta.get_field("title").max_length
TEXT_MAX = 2000  # characters of a summary, a change note or a reason
FINDING_MAX = 400


def staff_page(*permissions: str):
    def decorator(view):
        return role_required(*permissions)(never_cache(view))

    return decorator


def _back(request: HttpRequest, slug: str, text: str) -> HttpResponse:
    """Back to the round's page, with a banner saying why."""
    messages.info(request, text)
    return redirect("publishing:manage-round", slug)


def _round(slug: str) -> tuple[Survey, Publication]:
    survey = get_object_or_404(Survey, slug=slug)
    publication = Publication.of(survey)
    if publication is None:
        raise Http404("This round has no published release")
    return survey, publication


@dataclass
class Words:
    """A draft's words as typed (or as stored), for the form."""

    title: str
    summary: str
    findings: list[str]
    change_note: str

    @classmethod
    def of(cls, public: PublicRelease) -> Words:
        return cls(public.title, public.summary, list(public.findings), public.change_note)

    @classmethod
    def posted(cls, request: HttpRequest) -> Words:
        findings = [request.POST.get(f"finding-{i}", "") for i in range(1, MAX_FINDINGS + 1)]
        while findings and not findings[-1].strip():
            findings.pop()
        return cls(
            request.POST.get("title", ""),
            request.POST.get("summary", ""),
            findings,
            request.POST.get("change-note", ""),
        )

    def fields(self, errors: list[tuple[str, str]], *, version: int) -> dict[str, list[dict]]:
        """The form's fields, with their errors: the findings written, and a few blank ones."""
        messages = dict(reversed(errors))  # a field's first error

        def field(id: str, label: str, value: str, **more) -> dict:
            return {"id": id, "label": label, "value": value, "error": messages.get(id), **more}

        count = min(MAX_FINDINGS, len(self.findings) + BLANK_FINDINGS)
        texts = self.findings + [""] * (count - len(self.findings))
        words = [
            field("title", "Title", self.title, input=True),
            field("summary", "Summary", self.summary, rows=5,
                  hint="What the release shows, in a paragraph."),
        ]  # fmt: skip
        if version > 1:
            words.append(
                field("change-note", "Change note", self.change_note, rows=3,
                      hint="What changed since the last version, and why. It is published "
                      "with this version, and needed before it can be published.")
            )  # fmt: skip
        findings = [
            field(f"finding-{i}", f"Finding {i}", text, rows=2)
            for i, text in enumerate(texts, start=1)
        ]
        return {"words": words, "findings": findings}

    def problems(self) -> list[tuple[str, str]]:
        errors = []
        if not self.title.strip():
            errors.append(("title", "Enter a title"))
        elif len(self.title.strip()) > TITLE_MAX:
            errors.append(("title", f"Title must be {TITLE_MAX} characters or fewer"))
        if len(self.summary) > TEXT_MAX:
            errors.append(("summary", f"Summary must be {TEXT_MAX:,} characters or fewer"))
        for i, text in enumerate(self.findings, start=1):
            if len(text) > FINDING_MAX:
                errors.append(
                    (f"finding-{i}", f"Finding {i} must be {FINDING_MAX} characters or fewer")
                )
        if len(self.change_note) > TEXT_MAX:
            errors.append(("change-note", f"Change note must be {TEXT_MAX:,} characters or fewer"))
        return errors


def _figure_errors(problems: list[services.FigureProblem], words: Words) -> list[tuple[str, str]]:
    """The service's problems, each linked to its field (the service skips blank findings)."""
    written = [i for i, text in enumerate(words.findings, start=1) if text.strip()]
    return [
        ("summary" if p.field == "summary" else f"finding-{written[p.index]}", p.message)
        for p in problems
    ]


@staff_page(DRAFT, PUBLISH)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    surveys = [survey for survey, release in selectors.surveys_with_releases() if release]
    publics: dict[int, list[PublicRelease]] = {}
    for public in PublicRelease.objects.filter(survey__in=surveys).order_by("-version"):
        publics.setdefault(public.survey_id, []).append(public)
    rounds = [(survey, publics.get(survey.pk, [])) for survey in surveys]
    return render(request, "publishing/manage_index.html", {"rounds": rounds})


def _manage_context(request: HttpRequest, survey: Survey, words: Words, draft) -> dict:
    history = list(PublicRelease.objects.filter(survey=survey).order_by("-version"))
    latest = next((p for p in history if p.status != PublicReleaseStatus.DRAFT), None)
    version = draft.version if draft else (latest.version + 1 if latest else 1)
    return {
        "survey": survey,
        "history": history,
        "live": services.live(survey),
        "draft": draft,
        "version": version,
        "words": words,
        "max_findings": MAX_FINDINGS,
        "can_publish": holds(request.user, PUBLISH),
    }


def _render_round(request: HttpRequest, context: dict, errors: list) -> HttpResponse:
    context.update(context["words"].fields(errors, version=context["version"]), errors=errors)
    return render(request, "publishing/manage_round.html", context)


@staff_page(DRAFT, PUBLISH)
@require_http_methods(["GET", "POST"])
def manage_round(request: HttpRequest, slug: str) -> HttpResponse:
    """The round's public versions, and the draft's words (saved only if every figure quoted
    is published; otherwise re-shown as typed, with the problems)."""
    survey, publication = _round(slug)
    draft = services.draft_of(survey)
    if request.method == "GET":
        if draft is None:
            latest = services.latest_public(survey)
            words = Words.of(latest) if latest else Words(
                f"Council digital channels survey: {survey.name}", "", [], ""
            )  # fmt: skip
            words.change_note = ""
        else:
            words = Words.of(draft)
        return _render_round(request, _manage_context(request, survey, words, draft), [])
    words = Words.posted(request)
    context = _manage_context(request, survey, words, draft)
    errors = words.problems() + [
        ("change-note", problem.message)
        for problem in services.note_problems(
            publication, field="change_note", text=words.change_note
        )
    ]
    if not errors:
        with transaction.atomic():
            draft = services.draft_start(survey=survey, user=request.user)
            try:
                services.draft_update(
                    draft,
                    title=words.title,
                    summary=words.summary,
                    findings=words.findings,
                    change_note=words.change_note,
                )
            except services.FiguresNotPublished as refused:
                transaction.set_rollback(True)  # not even an empty draft is left
                errors = _figure_errors(refused.problems, words)
            except services.PublicReleaseFinished:
                transaction.set_rollback(True)
                errors = [("", "This version was published meanwhile: check it and try again")]
    if errors:
        return _render_round(request, context, errors)
    messages.success(request, f"Version {draft.version} saved as a draft")
    return redirect("publishing:manage-round", slug)


@staff_page(DRAFT, PUBLISH)
@require_GET
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The draft rendered exactly as the public page would render it, with a banner."""
    survey, _ = _round(slug)
    draft = services.draft_of(survey)
    if draft is None:
        return _back(request, slug, "There is no draft to preview: save one first")
    publication = Publication(draft.release)
    context = release_context(draft, publication, chosen_transaction(request, publication))
    context["can_publish"] = holds(request.user, PUBLISH)
    return render(request, "publishing/preview.html", context)


@staff_page(PUBLISH)
@require_http_methods(["GET", "POST"])
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    survey, _ = _round(slug)
    draft = services.draft_of(survey)
    if draft is None:
        return _back(request, slug, "There is no draft to publish")
    problems: list[tuple[str, str]] = []
    if request.method == "POST":
        try:
            public = services.publish(draft=draft, user=request.user)
        except services.ChangeNoteMissing:
            problems = [("change-note", "Say what changed in this version before publishing it")]
        except services.FiguresNotPublished as refused:
            problems = _figure_errors(refused.problems, Words.of(draft))
        except (services.NotPublishable, services.PublicReleaseFinished):
            problems = [("", "The round's release changed, or this draft was published meanwhile")]
        else:
            messages.success(request, f"Version {public.version} is published")
            return redirect("publishing:manage-round", slug)
    elif draft.version > 1 and not draft.change_note:
        problems = [("change-note", "Say what changed in this version before publishing it")]
    context = {
        "survey": survey,
        "draft": draft,
        "live": services.live(survey),
        "problems": problems,
        "manage_url": reverse("publishing:manage-round", args=[slug]),
    }
    return render(request, "publishing/publish_confirm.html", context)


@staff_page(PUBLISH)
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, slug: str) -> HttpResponse:
    survey, _ = _round(slug)
    live = services.live(survey)
    if live is None:
        return _back(
            request, slug, "No version of this round is published: there is nothing to withdraw"
        )
    reason, errors = "", []
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        problems = services.note_problems(Publication(live.release), field="reason", text=reason)
        if len(reason) > TEXT_MAX:
            errors = [("reason", f"Reason must be {TEXT_MAX:,} characters or fewer")]
        elif problems:
            errors = [("reason", problem.message) for problem in problems]
        else:
            try:
                services.withdraw(public=live, user=request.user, reason=reason)
            except services.ReasonMissing:
                errors = [("reason", "Enter why the release is withdrawn")]
            except services.PublicReleaseFinished:
                return _back(request, slug, "This version was withdrawn or replaced meanwhile")
            else:
                messages.success(request, f"Version {live.version} is withdrawn")
                return redirect("publishing:manage-round", slug)
    context = {"survey": survey, "live": live, "reason": reason, "errors": errors}
    return render(request, "publishing/withdraw.html", context)
