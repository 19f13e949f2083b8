"""The respondent journey: thin views that check access, bind a form and call a service."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from outbox.bounces import BOUNCED
from outbox.models import EmailStatus
from survey_site.formatting import time_text
from survey_site.middleware import csrf_token_only
from survey_site.ratelimit import (
    link_attempt_failed,
    link_attempts_blocked,
    link_failures_over_global_limit,
)
from survey_site.uploads import upload_limit_bytes, upload_limit_text, upload_too_large
from surveys import markup
from surveys.after_close import AfterClose, open_after_close
from surveys.choices import Provision, ResponseStatus, SectionKind
from surveys.contributors import (
    ContributorRefused,
    contributor_add,
    contributor_reassign,
    contributor_revoke,
    section_complete_notify,
)
from surveys.forms import (
    AssignmentForm,
    ContributorForm,
    QuestionsForm,
    SubmitForm,
    TransactionForm,
    sign_state,
)
from surveys.models import EmailKind, KeyTransaction, Section
from surveys.pages import (
    Page,
    answers_summary,
    neighbours,
    page_rows,
    page_sequence,
    questions_initial,
    questions_state,
    transaction_initial,
    transaction_state,
    transaction_stored,
)
from surveys.respondent import (
    ENDED_KEY,
    Respondent,
    is_autosave,
    respondent_context,
    respondent_from_request,
    respondent_login,
    respondent_logout,
    respondent_required,
)
from surveys.selectors import (
    COMPLETED,
    HISTORY_SHOWN,
    ResponseData,
    answered_questionnaire_parts,
    describe_value,
    figures_to_confirm,
    link_holder_address,
    response_data,
    response_progress,
    section_assignments,
    transaction_history,
    transaction_page_data,
)
from surveys.services import (
    FigureInput,
    ResponseIncomplete,
    ResponseNotEditable,
    SaveResult,
    TransactionInput,
    channel_names,
    figures_unconfirmed,
    link_after_close,
    link_find,
    link_is_usable,
    link_redeem,
    response_is_open,
    response_reopen,
    response_save_answers,
    response_save_transaction,
    response_submit,
    submission_copy_enqueue,
    submission_copy_key,
)
from surveys.spreadsheets import (
    UploadRefused,
    inputs_from_json,
    inputs_to_json,
    upload_plan,
    workbook_bytes,
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
    after = link_after_close(link, now) if link is not None else None
    if after is not None:
        return _after_close_landing(request, link, after, now)
    if link is None or not link_is_usable(link, now):
        link_attempt_failed(request)
        # The limit on all clients together applies to bad links only: a right link
        # still works while someone, from many addresses, floods the site with guesses.
        if link_failures_over_global_limit():
            return render(request, "429.html", status=429)
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
            # After submitting, the page says so at once and what can still be done.
            "submitted": response.status == ResponseStatus.SUBMITTED,
            "may_reopen": response_is_open(response, now)
            and (link.contributor is None or link.contributor.can_submit),
            "is_contributor": link.contributor is not None,
        },
    )


def _after_close_landing(request: HttpRequest, link, after: AfterClose, now) -> HttpResponse:
    """A closed round's link: the one read-only page it still opens (surveys.after_close).
    Continue starts a session limited to that page; no answer can change."""
    if request.method == "POST":
        respondent_login(request, link, now, after_close=after.url)
        return _redirect_303(after.url)
    response = link.response
    return render(
        request,
        "surveys/link_after_close.html",
        {"authority": response.authority, "survey": response.survey, "after": after},
    )


def _redirect_303(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303
    return response


def _context(request: HttpRequest, data: ResponseData | None, **extra: Any) -> dict[str, Any]:
    return {**respondent_context(request), **extra}


@respondent_required
def task_list(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    progress = response_progress(data=data)
    pages = {(p.section.pk, p.slug): p for p in page_sequence(data)}
    assigned = section_assignments(response=respondent.response)
    sections = [
        {
            "state": state,
            "allowed": respondent.may_answer(state.section),
            "assigned": assigned.get(state.section.pk, []) + assigned.get(None, []),
            "tasks": [
                {
                    "title": page_state.title,
                    "href": pages[(state.section.pk, page_state.slug)].url
                    if respondent.may_answer(state.section)
                    else None,
                    "status": page_state.status,
                    "warnings": page_state.warnings,
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
        _context(
            request,
            data,
            progress=progress,
            sections=sections,
            may_answer_transactions=any(
                b["allowed"]
                for b in sections
                if b["state"].section.kind == SectionKind.TRANSACTIONS
            ),
        ),
    )


def _find_page(data: ResponseData, **match: str) -> tuple[list[Page], Page]:
    pages = page_sequence(data)
    for page in pages:
        if all(getattr(page, k) == v for k, v in match.items()):
            return pages, page
    raise Http404


def _after_save(request: HttpRequest, following: str | None) -> HttpResponse:
    return _redirect_303(following or reverse("surveys:tasks"))


def _is_later(request: HttpRequest) -> bool:
    """ "Save and come back later": save what is valid, then let the person leave."""
    return request.method == "POST" and request.POST.get("action") == "later"


SAVED_SESSION_KEY = "respondent_saved"


def _typed(form, name: str) -> bool:
    """Whether the person typed or chose something for this field (not left it empty)."""
    values = [form[name].value()]
    if name.startswith("figure_"):
        values.append(form[f"not_recorded_{name.removeprefix('figure_')}"].value())
    flat = [v for value in values for v in (value if isinstance(value, list | tuple) else [value])]
    return any(v not in (None, "", False) for v in flat)


def _saved_for_later(request: HttpRequest, page: Page, form) -> HttpResponse:
    """After "Save and come back later": the page saying what was saved and how to come
    back. Answers still to give are not errors here; what was typed but could not be
    saved (a mistyped figure) is listed, by the error that says why (never the value)."""
    not_saved = [
        str(error)
        for name, errors in form.errors.items()
        if name != "__all__" and _typed(form, name)
        for error in errors
    ]
    request.session[SAVED_SESSION_KEY] = {
        "section": page.section.slug,
        "page": page.slug,
        "not_saved": not_saved,
    }
    return _redirect_303(reverse("surveys:saved"))


def _not_editable(request: HttpRequest) -> HttpResponse:
    messages.info(request, "These answers can no longer be changed. Nothing has been saved.")
    return _redirect_303(reverse("surveys:tasks"))


def _refused(request: HttpRequest, template: str) -> HttpResponse:
    """A 403 page that says why, to a respondent who may not do this."""
    # The whole respondent context: the page's notices (submitted, deadline) read it.
    return render(request, template, _context(request, None), status=403)


def _forbidden_section(request: HttpRequest) -> HttpResponse:
    return _refused(request, "surveys/section_not_assigned.html")


def _submitters_only(request: HttpRequest) -> HttpResponse:
    return _refused(request, "surveys/submit_not_allowed.html")


def _transactions_section(response) -> Section:
    return answered_questionnaire_parts(response)[2]


def _notify_if_section_complete(respondent: Respondent, section: Section) -> None:
    """A contributor finished a section they were given: tell the link holder (once)."""
    contributor = respondent.contributor
    if contributor is None or not respondent.may_answer(section):
        return
    data = response_data(response=respondent.response)
    state = next(s for s in response_progress(data=data).sections if s.section.pk == section.pk)
    if state.status != COMPLETED:
        return
    to_address = link_holder_address(response=respondent.response)
    if to_address:
        section_complete_notify(
            response=respondent.response,
            section=section,
            contributor=contributor,
            to_address=to_address,
        )


def _transaction_url(key_transaction) -> str | None:
    if key_transaction is None:
        return None
    return reverse("surveys:transaction", args=[key_transaction.slug])


@respondent_required
def transaction_page(request: HttpRequest, slug: str) -> HttpResponse:
    respondent: Respondent = request.respondent
    # A save reads the stored answer itself (locked); only a page view needs it here.
    data = transaction_page_data(
        response=respondent.response, slug=slug, answers=request.method != "POST"
    )
    if data is None:
        raise Http404
    section = _transactions_section(respondent.response)
    if not respondent.may_answer(section):
        return _forbidden_section(request)
    index = next(i for i, t in enumerate(data.transactions) if t.slug == slug)
    key_transaction = data.transactions[index]
    before = data.transactions[index - 1] if index > 0 else None
    after = data.transactions[index + 1] if index + 1 < len(data.transactions) else None
    names = channel_names(data.channels)
    result = None
    unsaved = False
    if is_autosave(request):
        return _transaction_autosave(request, data, key_transaction, section)
    if request.method == "POST":
        form = TransactionForm(request.POST, channels=data.channels)
        if not respondent.editable:
            # Nothing typed is lost: show the person's own values back, unsaved.
            form.is_valid()
            unsaved = True
        elif _is_later(request):
            try:
                result = _transaction_save_valid(request, data, key_transaction, section, form)
            except ResponseNotEditable:
                unsaved, result = True, None
            if not unsaved and not result.conflicts:
                page = Page(section, slug, key_transaction.name, request.path, key_transaction)
                return _saved_for_later(request, page, form)
        elif form.is_valid():
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
                stored = transaction_stored(
                    transaction_page_data(response=respondent.response, slug=slug),
                    key_transaction,
                )
                data_in = TransactionInput(
                    provision=cleaned["provision"],
                    channels_offered=stored.channels_offered,
                    end_to_end=stored.end_to_end,
                    figures=stored.figures,
                )
            try:
                result = _save_transaction(respondent, data, key_transaction, data_in, loaded)
            except ResponseNotEditable:
                unsaved, result = True, None
            else:
                _notify_if_section_complete(respondent, section)
            if not unsaved and not result.conflicts and not result.needs_confirmation:
                return _after_save(request, _transaction_url(after))
        if result is not None:
            # Saved what could be saved; show the page again with what needs a decision,
            # from the answer and figures as the save left them (no second read).
            data = _with_saved(data, key_transaction, result)
            stored = transaction_stored(data, key_transaction)
            form = TransactionForm(
                initial=transaction_initial(stored)
                | _mine(result, key_transaction.slug)
                | {"state": sign_state(transaction_state(key_transaction, stored))},
                channels=data.channels,
            )
    else:
        stored = transaction_stored(data, key_transaction)
        form = TransactionForm(
            initial=transaction_initial(stored)
            | {"state": sign_state(transaction_state(key_transaction, stored))},
            channels=data.channels,
        )
    history = transaction_history(
        response=respondent.response, key_transaction=key_transaction, names=names
    )
    return render(
        request,
        "surveys/transaction_page.html",
        _context(
            request,
            data,
            form=form,
            provision_radios=markup.radios(form["provision"]),
            channels_group=markup.channels_group(form),
            end_to_end_radios=markup.radios(form["end_to_end"], inline=True),
            key_transaction=key_transaction,
            unsaved=unsaved,
            transaction_count=len(data.transactions),
            back_url=_transaction_url(before) or reverse("surveys:tasks"),
            result=result,
            tier_note=not key_transaction.normally_delivered_by(respondent.response.authority.tier),
            # Unusual figures saved and not yet confirmed: shown whenever the page is open.
            to_confirm=_figures_to_confirm(request, data, key_transaction, result, unsaved),
            conflicts=[_conflict_text(c, names) for c in result.conflicts] if result else [],
            history=history[:HISTORY_SHOWN],
            history_rows=markup.history_rows(history[:HISTORY_SHOWN]),
            older_history=len(history) > HISTORY_SHOWN,
        ),
    )


def _with_saved(data: ResponseData, key_transaction: KeyTransaction, result: SaveResult):
    return replace(
        data,
        transaction_answers={key_transaction.pk: result.answer},
        figures={(key_transaction.pk, code): figure for code, figure in result.figures.items()},
    )


def _figures_to_confirm(request, data, key_transaction, result, unsaved: bool) -> list:
    if unsaved:
        return []
    if request.method == "POST" and result is None:
        # A refused save read no answers: read them for the warnings still open.
        data = transaction_page_data(
            response=request.respondent.response, slug=key_transaction.slug
        )
    return figures_to_confirm(data, key_transaction)


def _save_transaction(
    respondent: Respondent,
    data: ResponseData,
    key_transaction: KeyTransaction,
    data_in: TransactionInput,
    loaded: Mapping[str, Any],
) -> SaveResult:
    return response_save_transaction(
        response=respondent.response,
        key_transaction=key_transaction,
        data=data_in,
        loaded=loaded,
        actor=respondent.actor,
        channel_names=channel_names(data.channels),
        contributor=respondent.contributor,
    )


def _autosave_refused() -> JsonResponse:
    return JsonResponse(
        {
            "saved": False,
            "reason": "These answers can no longer be changed, so your latest changes have "
            "not been saved",
        },
        status=409,
    )


def _autosave_reply(result: SaveResult, loaded: Mapping[str, Any]) -> JsonResponse:
    """The page's new state: its old base, moved on for the fields this save wrote.

    A field someone else changed meanwhile keeps its old base, so that Save and
    continue still finds the clash and shows both values, as it does without autosave.
    """
    return JsonResponse(
        {
            "saved": True,
            "conflicts": bool(result.conflicts),
            "state": sign_state({**loaded, **result.written}),
            "saved_at": time_text(timezone.now()),
        }
    )


def _transaction_autosave(
    request: HttpRequest, data: ResponseData, key_transaction: KeyTransaction, section: Section
) -> JsonResponse:
    """A change on a transaction page, saved in the background: what is valid so far."""
    if not request.respondent.editable:
        return _autosave_refused()
    form = TransactionForm(request.POST, channels=data.channels)
    try:
        result = _transaction_save_valid(request, data, key_transaction, section, form)
    except ResponseNotEditable:
        return _autosave_refused()
    return _autosave_reply(result, form.loaded_state())


def _transaction_save_valid(
    request: HttpRequest,
    data: ResponseData,
    key_transaction: KeyTransaction,
    section: Section,
    form: TransactionForm,
) -> SaveResult:
    """Save the parts of a transaction page that are valid now (autosave, and "Save and
    come back later"); the rest is kept as stored. Raises ResponseNotEditable."""
    respondent: Respondent = request.respondent
    values = form.autosave_values()
    data_in = TransactionInput(
        provision=values.get("provision"),
        channels_offered=[c.code for c in data.channels if c.code in values["channels"]]
        if "channels" in values
        else None,
        end_to_end=values.get("end_to_end"),
        figures={code: FigureInput(*figure) for code, figure in values.get("figures", {}).items()},
    )
    result = _save_transaction(respondent, data, key_transaction, data_in, form.loaded_state())
    _notify_if_section_complete(respondent, section)
    return result


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


def _conflict_text(conflict, names: dict[str, str]) -> dict[str, str]:
    field = conflict.key.split("/")[-1]
    label = names.get(field, field.replace("_", " "))
    return {
        "field": field,
        "label": label,
        "theirs": describe_value(conflict.theirs),
        "mine": describe_value(conflict.mine),
        "changed_by": conflict.changed_by or "someone else",
        "changed_at": conflict.changed_at,
    }


@respondent_required
def questions_page(request: HttpRequest, section: str, group: str) -> HttpResponse:
    respondent: Respondent = request.respondent
    # A page of questions needs their answers, not the transactions' figures.
    data = response_data(response=respondent.response, transactions=False)
    pages, page = _find_page(data, slug=group)
    if page.section.slug != section or not page.questions:
        raise Http404
    if not respondent.may_answer(page.section):
        return _forbidden_section(request)
    before, after = neighbours(pages, page)
    questions = list(page.questions)
    result = None
    unsaved = False
    if is_autosave(request):
        return _questions_autosave(request, page)
    if request.method == "POST":
        form = QuestionsForm(request.POST, questions=questions, title=page.title)
        later = _is_later(request)
        if not respondent.editable:
            form.is_valid()
            unsaved = True
        elif later or form.is_valid():
            values = form.autosave_values() if later else form.values()
            try:
                result = _save_answers(respondent, page, values, form.loaded_state())
            except ResponseNotEditable:
                unsaved = True
            else:
                _notify_if_section_complete(respondent, page.section)
                if not result.conflicts and later:
                    return _saved_for_later(request, page, form)
                if not result.conflicts:
                    return _after_save(request, after.url if after else None)
                data = response_data(response=respondent.response, transactions=False)
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
            unsaved=unsaved,
            conflicts=[_conflict_text(c, {}) for c in result.conflicts] if result else [],
        ),
    )


def _save_answers(
    respondent: Respondent, page: Page, values: Mapping[str, Any], loaded: Mapping[str, Any]
) -> SaveResult:
    return response_save_answers(
        response=respondent.response,
        questions=list(page.questions),
        values=values,
        loaded=loaded,
        actor=respondent.actor,
        contributor=respondent.contributor,
    )


def _questions_autosave(request: HttpRequest, page: Page) -> JsonResponse:
    """A change on a page of questions, saved in the background: the valid answers."""
    respondent: Respondent = request.respondent
    if not respondent.editable:
        return _autosave_refused()
    form = QuestionsForm(request.POST, questions=list(page.questions), title=page.title)
    values = form.autosave_values()
    loaded = form.loaded_state()
    try:
        result = _save_answers(respondent, page, values, loaded)
    except ResponseNotEditable:
        return _autosave_refused()
    _notify_if_section_complete(respondent, page.section)
    return _autosave_reply(result, loaded)


@respondent_required
def check_answers(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    progress = response_progress(data=data)
    form = SubmitForm()
    if request.method == "POST":
        form = SubmitForm(request.POST)
        if not respondent.can_submit:
            return _submitters_only(request)
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
                        _send_copy(submitted, locked_data, respondent)
            except ResponseIncomplete:
                messages.info(request, "Some answers are missing: complete them to submit.")
                return _redirect_303(reverse("surveys:check"))
            except ResponseNotEditable:
                return _not_editable(request)
            return _redirect_303(reverse("surveys:confirmation"))
    # A section with nothing left to answer is folded away on the page.
    states = {
        state.section.pk: {
            "status": state.status,
            "complete": not any(page.missing for page in state.pages),
        }
        for state in progress.sections
    }
    return render(
        request,
        "surveys/check_answers.html",
        _context(
            request,
            data,
            progress=progress,
            missing_links=_missing_links(respondent, data, progress),
            summary=[
                block | states[block["section"].pk]
                for block in answers_summary(data, respondent.editable)
                if respondent.may_answer(block["section"])
            ],
            form=form,
        ),
    )


def _missing_links(respondent: Respondent, data: ResponseData, progress) -> list[dict[str, str]]:
    """Each answer still needed before submitting, in the person's sections, linked to
    its field on its page."""
    urls = {(p.section.pk, p.slug): p.url for p in page_sequence(data)}
    return [
        {"text": str(item), "href": f"{urls[(state.section.pk, page.slug)]}#{item.anchor}"}
        for state in progress.sections
        if not state.section.optional and respondent.may_answer(state.section)
        for page in state.pages
        for item in page.missing
    ]


@respondent_required
def section_check(request: HttpRequest, section: str) -> HttpResponse:
    """Check your answers for one section, with change links."""
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    blocks = [b for b in answers_summary(data, respondent.editable) if b["section"].slug == section]
    if not blocks:
        raise Http404
    if not respondent.may_answer(blocks[0]["section"]):
        return _forbidden_section(request)
    return render(
        request,
        "surveys/section_check.html",
        _context(request, data, section_summary=blocks[0]),
    )


def _send_copy(response, data: ResponseData, respondent: Respondent) -> None:
    """A copy of the answers to the person who submitted, at their own address (a
    contributor's, or the link holder's: never one a contributor typed in "Your contact
    details"), holding only the sections they may answer, as on their check page. Answers
    are confidential within a council too: a contributor given some sections never
    receives the others by email."""
    contributor = respondent.contributor
    if contributor is not None:
        to_address = contributor.email
    else:
        to_address = link_holder_address(response=response)
    if not to_address:
        return
    summary = answers_summary(data, editable=False)
    shown = [block for block in summary if respondent.may_answer(block["section"])]
    context = {
        "response": response,
        "authority": response.authority,
        "survey": response.survey,
        "summary": shown,
        "partial": len(shown) < len(summary),
    }
    submission_copy_enqueue(
        response=response,
        to_address=to_address,
        text=render_to_string("emails/submission_copy.txt", context),
        html=render_to_string("emails/submission_copy.html", context),
    )


@respondent_required
def confirmation(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    if respondent.response.status != ResponseStatus.SUBMITTED:
        return _redirect_303(reverse("surveys:tasks"))
    data = response_data(response=respondent.response)
    # Where the copy of this submission went: the submitter's own address (a contributor's,
    # or the contact given in "About you"), not necessarily the person now looking.
    copy = respondent.response.emails.filter(key=submission_copy_key(respondent.response)).first()
    return render(
        request,
        "surveys/confirmation.html",
        _context(request, data, copy_to=copy.to_address if copy else ""),
    )


@require_POST
@respondent_required
def reopen(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    # Reopening undoes a submission: only those who may submit may do it (the council's
    # link holder, or a contributor they allowed to submit), as on the check page.
    if not respondent.can_submit:
        return _submitters_only(request)
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


@respondent_required
def saved(request: HttpRequest) -> HttpResponse:
    """What "Save and come back later" saved, what it could not, and how to come back."""
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    last = request.session.get(SAVED_SESSION_KEY) or {}
    page = next(
        (
            p
            for p in page_sequence(data)
            if p.section.slug == last.get("section") and p.slug == last.get("page")
        ),
        None,
    )
    missing: list[str] = []
    if page is not None:
        state = next(s for s in response_progress(data=data).sections if s.section == page.section)
        missing = next(p.missing for p in state.pages if p.slug == page.slug)
    return render(
        request,
        "surveys/saved.html",
        _context(
            request,
            data,
            page=page,
            rows=page_rows(data, page, editable=False) if page else [],
            not_saved=last.get("not_saved", []) if page else [],
            missing=missing,
        ),
    )


@require_POST
@respondent_required
@open_after_close
def keep_alive(request: HttpRequest) -> HttpResponse:
    """Extends the session now; the timeout warning calls it."""
    request.session.modified = True
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
    ended = request.session.pop(ENDED_KEY, None)
    return render(
        request, "surveys/session_ended.html", {"ended": ended if isinstance(ended, dict) else {}}
    )


# --- Contributors (the council link holder only) ----------------------------------


def _link_holder_only(request: HttpRequest) -> HttpResponse | None:
    if not request.respondent.is_link_holder:
        return _forbidden_section(request)
    return None


def _section_choices(response) -> list[Section]:
    return list(response.survey.questionnaire.sections.order_by("order"))


CONTRIBUTOR_EMAIL_KINDS = [EmailKind.CONTRIBUTOR_ADDED, EmailKind.CONTRIBUTOR_REASSIGNED]


@respondent_required
def contributors(request: HttpRequest) -> HttpResponse:
    refused = _link_holder_only(request)
    if refused:
        return refused
    respondent: Respondent = request.respondent
    sections = _section_choices(respondent.response)
    form = ContributorForm(sections=sections)
    if request.method == "POST":
        form = ContributorForm(request.POST, sections=sections)
        if not respondent.editable:
            return _not_editable(request)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contributor = contributor_add(
                    response=respondent.response,
                    name=data["name"],
                    email=data["email"],
                    role=data["role"],
                    sections=data["section_objects"],
                    all_sections=data["all_sections"],
                    can_submit=data["can_submit"],
                    actor=respondent.actor,
                )
            except ContributorRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, f"{contributor.name} has been added and sent their link.")
                return _redirect_303(reverse("surveys:contributors"))
    people = list(
        respondent.response.contributors.filter(revoked_at__isnull=True)
        .prefetch_related("sections")
        .order_by("name")
    )
    # Whose link email came back undelivered (outbox.bounces): they never got their link.
    bounced = set(
        respondent.response.emails.filter(
            kind__in=CONTRIBUTOR_EMAIL_KINDS,
            status=EmailStatus.FAILED,
            last_error__startswith=BOUNCED,
        ).values_list("to_address", flat=True)
    )
    bounced = {address.lower() for address in bounced}
    for person in people:
        person.email_bounced = person.email.lower() in bounced
    return render(
        request,
        "surveys/contributors.html",
        {
            **_context(request, None),
            "form": form,
            "people": people,
            "removed": respondent.response.contributors.filter(revoked_at__isnull=False),
        },
    )


def _own_contributor(request: HttpRequest, contributor_id: int):
    """A contributor of the session's own council, never another council's."""
    contributor = request.respondent.response.contributors.filter(
        pk=contributor_id, revoked_at__isnull=True
    ).first()
    if contributor is None:
        raise Http404
    return contributor


@respondent_required
def contributor_change(request: HttpRequest, contributor_id: int) -> HttpResponse:
    refused = _link_holder_only(request)
    if refused:
        return refused
    respondent: Respondent = request.respondent
    contributor = _own_contributor(request, contributor_id)
    sections = _section_choices(respondent.response)
    if request.method == "POST":
        if not respondent.editable:
            return _not_editable(request)
        form = AssignmentForm(request.POST, sections=sections)
        if form.is_valid():
            data = form.cleaned_data
            contributor_reassign(
                contributor=contributor,
                sections=data["section_objects"],
                all_sections=data["all_sections"],
                can_submit=data["can_submit"],
                actor=respondent.actor,
            )
            messages.success(request, f"{contributor.name}'s sections have been updated.")
            return _redirect_303(reverse("surveys:contributors"))
    else:
        form = AssignmentForm(
            sections=sections,
            initial={
                "sections": ["all"]
                if contributor.all_sections
                else [str(s.pk) for s in contributor.sections.all()],
                "can_submit": contributor.can_submit,
            },
        )
    return render(
        request,
        "surveys/contributor_change.html",
        {**_context(request, None), "form": form, "contributor": contributor},
    )


@respondent_required
def contributor_remove(request: HttpRequest, contributor_id: int) -> HttpResponse:
    refused = _link_holder_only(request)
    if refused:
        return refused
    contributor = _own_contributor(request, contributor_id)
    if request.method == "POST":
        contributor_revoke(contributor=contributor, actor=request.respondent.actor)
        messages.success(
            request,
            f"{contributor.name} has been removed. Their link no longer works; the answers "
            "they gave are kept under their name.",
        )
        return _redirect_303(reverse("surveys:contributors"))
    return render(
        request,
        "surveys/contributor_remove.html",
        {**_context(request, None), "contributor": contributor},
    )


# --- Spreadsheet round trip ------------------------------------------------------

UPLOAD_SESSION_KEY = "spreadsheet_upload"


def _spreadsheet_context(request: HttpRequest) -> tuple[ResponseData, dict, Section]:
    respondent: Respondent = request.respondent
    data = response_data(response=respondent.response)
    stored = {t.slug: transaction_stored(data, t) for t in data.transactions}
    section = next(s for s in data.sections if s.kind == SectionKind.TRANSACTIONS)
    return data, stored, section


@respondent_required
def spreadsheet_download(request: HttpRequest) -> HttpResponse:
    data, stored, section = _spreadsheet_context(request)
    if not request.respondent.may_answer(section):
        return _forbidden_section(request)
    content = workbook_bytes(data=data, stored=stored)
    download = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    code = request.respondent.response.authority.gss_code
    download["Content-Disposition"] = f'attachment; filename="survey-figures-{code}.xlsx"'
    return download


def _upload_too_large_text() -> str:
    return f"The selected file must be smaller than {upload_limit_text()}"


@csrf_exempt
@respondent_required
def spreadsheet(request: HttpRequest) -> HttpResponse:
    """Upload: validate and preview every change; confirm: write them, attributed.

    An upload over the size cap is refused from its headers, before anything reads its
    body: the CSRF check, which reads it, comes after (refusing changes nothing).
    """
    if request.method == "POST" and upload_too_large(request):
        return _spreadsheet_refused(request, _upload_too_large_text())
    return _spreadsheet(request)


def _spreadsheet_refused(request: HttpRequest, refusal: str) -> HttpResponse:
    """The upload page with a refusal; nothing saved or pending is touched."""
    respondent: Respondent = request.respondent
    data, _, section = _spreadsheet_context(request)
    if not respondent.may_answer(section):
        return _forbidden_section(request)
    if not respondent.editable:
        return _not_editable(request)
    context = _context(request, data, errors=[], refusal=refusal, plan=None)
    return render(request, "surveys/spreadsheet.html", context, status=400)


@csrf_protect
def _spreadsheet(request: HttpRequest) -> HttpResponse:
    respondent: Respondent = request.respondent
    data, stored, section = _spreadsheet_context(request)
    if not respondent.may_answer(section):
        return _forbidden_section(request)
    context = _context(request, data, errors=[], refusal="", plan=None)
    if request.method == "POST" and request.POST.get("action") == "confirm":
        pending = request.session.pop(UPLOAD_SESSION_KEY, None)
        if not respondent.editable:
            return _not_editable(request)
        if not pending or pending.get("response") != respondent.response.pk:
            messages.info(request, "Upload the spreadsheet again: nothing has been saved.")
            return _redirect_303(reverse("surveys:spreadsheet"))
        names = channel_names(data.channels)
        by_slug = {t.slug: t for t in data.transactions}
        clashes = 0
        try:
            for slug, item in inputs_from_json(pending["inputs"]).items():
                result = response_save_transaction(
                    response=respondent.response,
                    key_transaction=by_slug[slug],
                    data=item,
                    loaded=pending["base"][slug],
                    actor=f"{respondent.actor} (spreadsheet upload)",
                    channel_names=names,
                    contributor=respondent.contributor,
                )
                clashes += len(result.conflicts)
        except ResponseNotEditable:
            return _not_editable(request)
        _notify_if_section_complete(respondent, section)
        text = "The figures from your spreadsheet have been saved."
        if clashes:
            text += (
                f" {clashes} figure(s) were changed by someone else after you uploaded, so "
                "we kept theirs: check the transaction pages."
            )
        messages.success(request, text)
        return _redirect_303(reverse("surveys:tasks"))
    if request.method == "POST":
        if not respondent.editable:
            return _not_editable(request)
        upload = request.FILES.get("spreadsheet")
        if upload_too_large(request) or (upload is not None and upload.size > upload_limit_bytes()):
            # Reading stopped where the file passed the cap (survey_site.uploads).
            context["refusal"] = _upload_too_large_text()
        elif upload is None:
            context["refusal"] = "Select a spreadsheet to upload"
        else:
            try:
                plan = upload_plan(
                    raw=upload.read(), response=respondent.response, data=data, stored=stored
                )
            except UploadRefused as error:
                context["refusal"] = str(error)
            else:
                context["plan"] = plan
                context["to_confirm"] = _upload_to_confirm(data, plan.inputs)
                if not plan.errors and plan.changes:
                    request.session[UPLOAD_SESSION_KEY] = {
                        "response": respondent.response.pk,
                        "inputs": inputs_to_json(plan.inputs),
                        "base": {
                            slug: transaction_state(by_t, stored[slug])
                            for slug, by_t in ((t.slug, t) for t in data.transactions)
                            if slug in plan.inputs
                        },
                    }
        status = 400 if context["refusal"] else 200
        return render(request, "surveys/spreadsheet.html", context, status=status)
    return render(request, "surveys/spreadsheet.html", context)


def _upload_to_confirm(data: ResponseData, inputs: Mapping[str, TransactionInput]) -> list[dict]:
    """The transactions whose figures, once the upload is saved, would be flagged as
    unusual and need confirming on their pages (unless exactly these were confirmed)."""
    names = channel_names(data.channels)
    flagged = []
    for key_transaction in data.transactions:
        item = inputs.get(key_transaction.slug)
        answer = data.transaction_answers.get(key_transaction.pk)
        if item is None or item.channels_offered is None:
            continue
        warnings = figures_unconfirmed(
            provision=item.provision or "",
            channels_offered=item.channels_offered,
            figures=item.figures,
            confirmed=answer.confirmed_figures if answer else "",
            names=names,
        )
        if warnings:
            flagged.append(
                {"transaction": key_transaction.name, "warnings": [text for _, text in warnings]}
            )
    return flagged
