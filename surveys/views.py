"""The respondent journey: thin views that check access, bind a form and call a service."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from survey_site.middleware import csrf_token_only
from survey_site.ratelimit import link_attempt_failed, link_attempts_blocked
from surveys.choices import Provision, ResponseStatus
from surveys.forms import QuestionsForm, SubmitForm, TransactionForm, sign_state
from surveys.pages import (
    Page,
    neighbours,
    page_sequence,
    questions_initial,
    questions_state,
    transaction_initial,
    transaction_state,
    transaction_stored,
)
from surveys.respondent import (
    Respondent,
    respondent_from_request,
    respondent_login,
    respondent_logout,
    respondent_required,
)
from surveys.selectors import (
    ResponseData,
    response_data,
    response_progress,
    transaction_page_data,
)
from surveys.services import (
    FigureInput,
    ResponseIncomplete,
    ResponseNotEditable,
    TransactionInput,
    link_find,
    link_is_usable,
    link_redeem,
    response_reopen,
    response_save_answers,
    response_save_transaction,
    response_submit,
    submission_copy_enqueue,
)

logger = logging.getLogger(__name__)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    # One page, one status for unknown, revoked and expired links: no hint whether a
    # council or a token exists.
    return render(request, "surveys/link_invalid.html", status=404)


@csrf_token_only
@never_cache
def link_landing(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a Continue page and changes nothing (email scanners open every link);
    the CSRF-protected POST starts a session and redirects to a URL without the token."""
    page = _link_landing(request, token)
    page["Referrer-Policy"] = "no-referrer"
    return page


def _link_landing(request: HttpRequest, token: str) -> HttpResponse:
    if link_attempts_blocked(request):
        return render(request, "429.html", status=429)
    link = link_find(token)
    now = timezone.now()
    if link is None or not link_is_usable(link, now):
        link_attempt_failed(request)
        return _invalid_link(request)
    response = link.response
    if request.method == "POST":
        link = link_redeem(link=link, now=now)
        respondent_login(request, link, now)
        return _redirect_303(reverse("surveys:tasks"))
    from surveys.services import response_deadline

    return render(
        request,
        "surveys/link_landing.html",
        {
            "authority": response.authority,
            "survey": response.survey,
            "deadline": response_deadline(response),
            "response": response,
        },
    )


def _redirect_303(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303
    return response


def _context(request: HttpRequest, data: ResponseData, **extra: Any) -> dict[str, Any]:
    respondent: Respondent = request.respondent
    return {
        "respondent": respondent,
        "response": respondent.response,
        "authority": respondent.response.authority,
        "survey": respondent.response.survey,
        "deadline": respondent.deadline,
        "respondent_timeout_seconds": settings.SESSION_COOKIE_AGE,
        **extra,
    }


@respondent_required
def task_list(request: HttpRequest) -> HttpResponse:
    data = response_data(response=request.respondent.response)
    progress = response_progress(data=data)
    pages = {(p.section.pk, p.slug): p for p in page_sequence(data)}
    sections = [
        {
            "state": state,
            "tasks": [
                {
                    "title": page_state.title,
                    "href": pages[(state.section.pk, page_state.slug)].url,
                    "status": page_state.status,
                    "last_changed_by": page_state.last_changed_by,
                    "last_changed_at": page_state.last_changed_at,
                }
                for page_state in state.pages
            ],
        }
        for state in progress.sections
    ]
    return render(
        request,
        "surveys/task_list.html",
        _context(request, data, progress=progress, sections=sections),
    )


def _find_page(data: ResponseData, **match: str) -> tuple[list[Page], Page]:
    pages = page_sequence(data)
    for page in pages:
        if all(getattr(page, k) == v for k, v in match.items()):
            return pages, page
    raise Http404


def _after_save(request: HttpRequest, following: str | None) -> HttpResponse:
    if request.POST.get("action") == "later":
        messages.success(
            request,
            "Your answers have been saved. Use the link in the email to come back to them "
            "at any time before the deadline.",
        )
        return _redirect_303(reverse("surveys:tasks"))
    return _redirect_303(following or reverse("surveys:tasks"))


def _not_editable(request: HttpRequest) -> HttpResponse:
    messages.info(request, "These answers can no longer be changed. Nothing has been saved.")
    return _redirect_303(reverse("surveys:tasks"))


def _transaction_url(key_transaction) -> str | None:
    if key_transaction is None:
        return None
    return reverse("surveys:transaction", args=[key_transaction.slug])


@respondent_required
def transaction_page(request: HttpRequest, slug: str) -> HttpResponse:
    respondent: Respondent = request.respondent
    data = transaction_page_data(response=respondent.response, slug=slug)
    if data is None:
        raise Http404
    index = next(i for i, t in enumerate(data.transactions) if t.slug == slug)
    key_transaction = data.transactions[index]
    before = data.transactions[index - 1] if index > 0 else None
    after = data.transactions[index + 1] if index + 1 < len(data.transactions) else None
    stored = transaction_stored(data, key_transaction)
    names = {c.code: c.name for c in data.channels}
    result = None
    if request.method == "POST":
        if not respondent.editable:
            return _not_editable(request)
        form = TransactionForm(request.POST, channels=data.channels)
        if form.is_valid():
            cleaned = form.cleaned_data
            loaded = form.loaded_state()
            if cleaned["provision"] == Provision.YES:
                figures = {
                    code: FigureInput(*cleaned["figures"].get(code, (None, False, False)))
                    for code in (c.code for c in data.channels)
                }
                data_in = TransactionInput(
                    provision=cleaned["provision"],
                    channels_offered=[
                        c.code for c in data.channels if c.code in cleaned["channels"]
                    ],
                    end_to_end=cleaned["end_to_end"],
                    figures=figures,
                    confirm_figures=cleaned["confirm_figures"],
                )
            else:
                # Channels and figures are kept as they are, hidden while the council
                # does not provide the service: switching back restores them.
                data_in = TransactionInput(
                    provision=cleaned["provision"],
                    channels_offered=stored.channels_offered,
                    end_to_end=stored.end_to_end,
                    figures=stored.figures,
                )
            try:
                result = response_save_transaction(
                    response=respondent.response,
                    key_transaction=key_transaction,
                    data=data_in,
                    loaded=loaded,
                    actor=respondent.actor,
                    channel_names=names,
                )
            except ResponseNotEditable:
                return _not_editable(request)
            if not result.conflicts and not result.needs_confirmation:
                return _after_save(request, _transaction_url(after))
            # Saved what could be saved; show the page again with what needs a decision.
            data = transaction_page_data(response=respondent.response, slug=slug)
            stored = transaction_stored(data, key_transaction)
            form = TransactionForm(
                initial=transaction_initial(stored)
                | _mine(result, key_transaction.slug)
                | {"state": sign_state(transaction_state(key_transaction, stored))},
                channels=data.channels,
            )
    else:
        form = TransactionForm(
            initial=transaction_initial(stored)
            | {"state": sign_state(transaction_state(key_transaction, stored))},
            channels=data.channels,
        )
    return render(
        request,
        "surveys/transaction_page.html",
        _context(
            request,
            data,
            form=form,
            key_transaction=key_transaction,
            transaction_count=len(data.transactions),
            back_url=_transaction_url(before) or reverse("surveys:tasks"),
            result=result,
            tier_note=not key_transaction.normally_delivered_by(respondent.response.authority.tier),
            conflicts=[_conflict_text(c, names) for c in result.conflicts] if result else [],
        ),
    )


def _mine(result, prefix: str) -> dict[str, Any]:
    """Put the person's own values back into the form for conflicting fields."""
    initial: dict[str, Any] = {}
    for conflict in result.conflicts:
        field = conflict.key.removeprefix(f"{prefix}/")
        if field in ("provision", "end_to_end"):
            initial[field] = conflict.mine
        elif field == "channels_offered":
            initial["channels"] = conflict.mine
        elif isinstance(conflict.mine, dict):
            value = conflict.mine.get("value")
            initial[f"figure_{field}"] = "" if value is None else f"{value:,}"
            initial[f"not_recorded_{field}"] = conflict.mine.get("not_recorded")
            initial[f"estimate_{field}"] = conflict.mine.get("estimate")
    return initial


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        if value.get("not_recorded"):
            text = "not recorded"
        elif value.get("value") is None:
            text = "blank"
        else:
            text = f"{value['value']:,}"
        return text + (" (estimate)" if value.get("estimate") else "")
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return str(value) if value not in (None, "") else "blank"


def _conflict_text(conflict, names: dict[str, str]) -> dict[str, str]:
    field = conflict.key.split("/")[-1]
    label = names.get(field, field.replace("_", " "))
    return {
        "field": field,
        "label": label,
        "theirs": _describe(conflict.theirs),
        "mine": _describe(conflict.mine),
        "changed_by": conflict.changed_by or "someone else",
        "changed_at": conflict.changed_at,
    }


@respondent_required
def questions_page(request: HttpRequest, section: str, group: str) -> HttpResponse:
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    pages, page = _find_page(data, slug=group)
    if page.section.slug != section or not page.questions:
        raise Http404
    before, after = neighbours(pages, page)
    questions = list(page.questions)
    result = None
    if request.method == "POST":
        if not respondent.editable:
            return _not_editable(request)
        form = QuestionsForm(request.POST, questions=questions, title=page.title)
        if form.is_valid():
            try:
                result = response_save_answers(
                    response=respondent.response,
                    questions=questions,
                    values=form.values(),
                    loaded=form.loaded_state(),
                    actor=respondent.actor,
                )
            except ResponseNotEditable:
                return _not_editable(request)
            if not result.conflicts:
                return _after_save(request, after.url if after else None)
            data = response_data(response=respondent.response)
            form = QuestionsForm(
                initial=questions_initial(data, page.questions)
                | {c.key: c.mine for c in result.conflicts}
                | {"state": sign_state(questions_state(data, page.questions))},
                questions=questions,
                title=page.title,
            )
    else:
        form = QuestionsForm(
            initial=questions_initial(data, page.questions)
            | {"state": sign_state(questions_state(data, page.questions))},
            questions=questions,
            title=page.title,
        )
    return render(
        request,
        "surveys/questions_page.html",
        _context(
            request,
            data,
            form=form,
            page=page,
            back_url=before.url if before else reverse("surveys:tasks"),
            conflicts=[_conflict_text(c, {}) for c in result.conflicts] if result else [],
        ),
    )


def _summary(data: ResponseData, editable: bool) -> list[dict[str, Any]]:
    """Check-your-answers rows per section, from the same pages as the journey."""
    names = {c.code: c.name for c in data.channels}
    sections: dict[int, dict[str, Any]] = {}
    for page in page_sequence(data):
        block = sections.setdefault(page.section.pk, {"section": page.section, "rows": []})
        if page.key_transaction is not None:
            stored = transaction_stored(data, page.key_transaction)
            provision = dict(Provision.choices).get(stored.provision, "Not answered")
            lines = [provision]
            if stored.provision == Provision.YES:
                lines.append(
                    "End to end online: "
                    + (
                        {"yes": "Yes", "partly": "Partly", "no": "No"}.get(
                            stored.end_to_end, "not answered"
                        )
                    )
                )
                for code in stored.channels_offered:
                    lines.append(f"{names[code]}: {_describe(stored.figures[code].as_json())}")
            block["rows"].append(
                {"key": page.title, "lines": lines, "href": page.url if editable else None}
            )
        else:
            for question in page.questions:
                answer = data.answers.get(question.slug)
                value = answer.value if answer else None
                if isinstance(value, list):
                    text = ", ".join(dict(question.choices).get(v, v) for v in value)
                elif question.choices and value is not None:
                    text = dict(question.choices).get(value, value)
                else:
                    text = value
                block["rows"].append(
                    {
                        "key": question.text,
                        "lines": [text if text not in (None, "") else "Not answered"],
                        "href": page.url if editable else None,
                    }
                )
    return list(sections.values())


@respondent_required
def check_answers(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    progress = response_progress(data=data)
    form = SubmitForm()
    if request.method == "POST":
        form = SubmitForm(request.POST)
        if not respondent.editable and respondent.response.status != ResponseStatus.SUBMITTED:
            return _not_editable(request)
        if form.is_valid():
            try:
                with transaction.atomic():
                    # Lock first, then decide completeness on what is committed.
                    response = (
                        type(respondent.response)
                        .objects.select_for_update()
                        .get(pk=respondent.response.pk)
                    )
                    locked_data = response_data(response=response)
                    missing = response_progress(data=locked_data).missing
                    submitted, newly = response_submit(
                        response=response,
                        actor=form.cleaned_data["submitted_by"].strip(),
                        missing=missing,
                    )
                    if newly:
                        _send_copy(submitted, locked_data)
            except ResponseIncomplete:
                messages.info(request, "Some answers are missing: complete them to submit.")
                return _redirect_303(reverse("surveys:check"))
            except ResponseNotEditable:
                return _not_editable(request)
            return _redirect_303(reverse("surveys:confirmation"))
    return render(
        request,
        "surveys/check_answers.html",
        _context(
            request,
            data,
            progress=progress,
            summary=_summary(data, respondent.editable),
            form=form,
        ),
    )


def _send_copy(response, data: ResponseData) -> None:
    email = data.answers.get("respondent-email")
    if email is None or not email.value:
        return
    context = {
        "response": response,
        "authority": response.authority,
        "survey": response.survey,
        "summary": _summary(data, editable=False),
    }
    submission_copy_enqueue(
        response=response,
        to_address=email.value,
        text=render_to_string("emails/submission_copy.txt", context),
        html=render_to_string("emails/submission_copy.html", context),
    )


@respondent_required
def confirmation(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    if respondent.response.status != ResponseStatus.SUBMITTED:
        return _redirect_303(reverse("surveys:tasks"))
    data = response_data(response=respondent.response)
    email = data.answers.get("respondent-email")
    return render(
        request,
        "surveys/confirmation.html",
        _context(request, data, copy_to=email.value if email else ""),
    )


@require_POST
@respondent_required
def reopen(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    try:
        response_reopen(response=respondent.response, actor=respondent.actor)
    except ResponseNotEditable:
        return _not_editable(request)
    messages.success(
        request,
        "Your response is open for changes. Submit it again before the deadline, or the "
        "answers you submitted before will stand.",
    )
    return _redirect_303(reverse("surveys:tasks"))


@require_POST
@respondent_required
def keep_alive(request: HttpRequest) -> HttpResponse:
    """Extends the session (SESSION_SAVE_EVERY_REQUEST); the timeout warning calls it."""
    return JsonResponse({"expires_in": request.session.get_expiry_age()})


@require_POST
@never_cache
def sign_out(request: HttpRequest) -> HttpResponse:
    respondent_logout(request)
    return _redirect_303(reverse("surveys:signed-out"))


@never_cache
def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/signed_out.html")


@never_cache
def session_ended(request: HttpRequest) -> HttpResponse:
    if respondent_from_request(request) is not None:
        return redirect("surveys:tasks")
    return render(request, "surveys/session_ended.html")
