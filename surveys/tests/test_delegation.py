"""Delegation: contributors with their own links, limited sections, attribution, revocation."""

import datetime
import re
import tempfile
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from authorities.models import AccessLink
from outbox.models import OutboundEmail
from surveys.choices import ResponseStatus
from surveys.contributors import contributor_add, contributor_reassign, contributor_revoke
from surveys.models import Answer, ChangeRecord, Contributor, Figure, Section
from surveys.services import link_reissue, link_url

from .factories import fill_everything, make_authority, new_response, open_link

PAY = "/survey/transactions/pay-council-tax/"


def link_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def open_contributor(contributor: Contributor) -> Client:
    from surveys.contributors import contributor_link

    client = Client()
    path = link_path(link_url(contributor_link(contributor=contributor)))
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 303
    return client


@pytest.fixture
def holder(response) -> Client:
    client = Client()
    open_link(client, response)
    return client


@pytest.fixture
def transactions_section(questionnaire) -> Section:
    return questionnaire.sections.get(slug="transactions")


@pytest.fixture
def officer(response, transactions_section, django_capture_on_commit_callbacks) -> Contributor:
    with django_capture_on_commit_callbacks(execute=True):
        return contributor_add(
            response=response,
            name="Sam Officer",
            email="Sam.Officer@council.example",
            role="Revenues",
            sections=[transactions_section],
            all_sections=False,
            can_submit=False,
            actor="Council link holder",
        )


def test_link_holder_adds_a_contributor_who_gets_a_personal_link_by_email(
    holder, response, questionnaire, django_capture_on_commit_callbacks
):
    section = questionnaire.sections.get(slug="transactions")
    with django_capture_on_commit_callbacks(execute=True):
        added = holder.post(
            "/survey/contributors/",
            {"name": "Sam Officer", "email": "sam@council.example", "role": "Revenues",
             "sections": [str(section.pk)]},
        )  # fmt: skip
    assert added.status_code == 303
    contributor = Contributor.objects.get()
    assert (contributor.name, contributor.email, contributor.all_sections) == (
        "Sam Officer", "sam@council.example", False,
    )  # fmt: skip
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["sam@council.example"]
    assert "Dear Sam Officer" in message.body
    link = re.search(r"(http://\S+/s/\S+)", message.body).group(1)
    stored = AccessLink.objects.get(contributor=contributor)
    assert link.rsplit("/", 1)[1] not in str(AccessLink.objects.values().get(pk=stored.pk))
    page = holder.get("/survey/contributors/")
    assert b"Sam Officer (Revenues)" in page.content
    assert b"Assigned to Sam Officer (Revenues)" in holder.get("/survey/").content


def test_adding_a_contributor_validates_with_govuk_errors(holder):
    page = holder.post("/survey/contributors/", {"email": "not-an-email"})
    text = page.content.decode()
    assert "Enter their full name" in text
    assert "Enter an email address in the correct format" in text
    assert "Select the sections they should answer" in text
    assert not Contributor.objects.exists()


def test_contributor_answers_only_their_sections_and_is_attributed(officer, response):
    client = open_contributor(officer)
    assert client.get("/survey/about/contact/").status_code == 403
    page = client.get(PAY)
    state = re.search(r'name="state" value="([^"]*)"', page.content.decode()).group(1)
    saved = client.post(
        PAY,
        {"state": state, "provision": "yes", "channels": ["WEB"], "end_to_end": "no",
         "figure_WEB": "321"},
    )  # fmt: skip
    assert saved.status_code == 303
    figure = Figure.objects.get(response=response, channel__code="WEB")
    assert figure.updated_by == "Sam Officer (Revenues)"
    record = ChangeRecord.objects.get(key="pay-council-tax/WEB")
    assert record.contributor == officer
    history = client.get(PAY).content.decode()
    assert "History of this page" in history
    assert "Sam Officer (Revenues)" in history
    tasks = client.get("/survey/").content.decode()
    assert "This section has not been assigned to you" in tasks
    assert "Manage contributors" not in tasks
    assert client.get("/survey/contributors/").status_code == 403


def test_only_the_link_holder_or_an_authorised_contributor_can_submit(officer, response, holder):
    fill_everything(response)
    client = open_contributor(officer)
    refused = client.post("/survey/check/", {"submitted_by": "Sam", "declaration": "on"})
    assert refused.status_code == 403
    response.refresh_from_db()
    assert response.status == ResponseStatus.IN_PROGRESS
    contributor_reassign(
        contributor=officer, sections=[], all_sections=True, can_submit=True, actor="holder"
    )
    allowed = client.post("/survey/check/", {"submitted_by": "Sam", "declaration": "on"})
    assert allowed["Location"] == "/survey/confirmation/"
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    assert response.submitted_by == "Sam"


def test_revoking_a_contributor_stops_their_link_at_once_and_keeps_their_answers(
    officer, response, holder
):
    client = open_contributor(officer)
    client.post(PAY, {"provision": "yes", "channels": ["WEB"], "end_to_end": "no",
                      "figure_WEB": "5"})  # fmt: skip
    remove = holder.post(f"/survey/contributors/{officer.pk}/remove/")
    assert remove.status_code == 303
    assert client.get(PAY)["Location"] == "/survey/session-ended/"
    told = client.get("/survey/session-ended/").content.decode()
    assert "Your access to this survey has been removed" in told
    assert "contact your chief executive's office" in told
    assert "period without activity" not in told
    # Said once: the same browser later sees the ordinary page.
    assert "period without activity" in client.get("/survey/session-ended/").content.decode()
    officer.refresh_from_db()
    assert officer.is_revoked
    assert Figure.objects.get(response=response, channel__code="WEB").updated_by == (
        "Sam Officer (Revenues)"
    )
    again = Client()
    path = link_path(link_url(AccessLink.objects.get(contributor=officer)))
    assert again.get(path).status_code == 404


def test_reassigning_emails_the_contributor_once_per_change(
    officer, questionnaire, django_capture_on_commit_callbacks
):
    about = questionnaire.sections.get(slug="about")
    with django_capture_on_commit_callbacks(execute=True):
        changed = contributor_reassign(
            contributor=officer, sections=[about], all_sections=False, can_submit=False,
            actor="holder",
        )  # fmt: skip
        unchanged = contributor_reassign(
            contributor=officer, sections=[about], all_sections=False, can_submit=False,
            actor="holder",
        )  # fmt: skip
    assert (changed, unchanged) == (True, False)
    kinds = list(OutboundEmail.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["contributor_added", "contributor_reassigned"]
    assert "About this response" in mail.outbox[-1].body


def test_link_holder_is_told_once_when_a_contributor_completes_a_section(
    officer, response, django_capture_on_commit_callbacks
):
    response.authority.chief_executive_email = "ce@council.example"
    response.authority.save()
    client = open_contributor(officer)
    slugs = list(response.survey.questionnaire.transactions.values_list("slug", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        for slug in slugs:
            client.post(f"/survey/transactions/{slug}/", {"provision": "other_organisation"})
        client.post(PAY, {"provision": "other_organisation"})
    notices = OutboundEmail.objects.filter(kind="section_complete")
    assert notices.count() == 1
    assert notices.get().to_address == "ce@council.example"
    assert "Sam Officer has completed" in notices.get().body_text


def test_contributor_ids_from_another_council_are_not_found(officer, survey, holder):
    other = new_response(survey, make_authority("E06000002"))
    stranger = contributor_add(
        response=other, name="X", email="x@other.example", role="", sections=[],
        all_sections=True, can_submit=False, actor="other",
    )  # fmt: skip
    assert holder.get(f"/survey/contributors/{stranger.pk}/").status_code == 404
    assert holder.post(f"/survey/contributors/{stranger.pk}/remove/").status_code == 404
    stranger.refresh_from_db()
    assert not stranger.is_revoked


def test_contributor_revoke_is_idempotent(officer):
    contributor_revoke(contributor=officer, actor="holder")
    contributor_revoke(contributor=officer, actor="holder")
    assert ChangeRecord.objects.filter(key=f"contributor:{officer.pk}").count() == 2


def test_only_those_who_may_submit_can_reopen_a_submitted_response(officer, response, holder):
    fill_everything(response)
    assert (
        holder.post("/survey/check/", {"submitted_by": "Pat", "declaration": "on"})["Location"]
        == "/survey/confirmation/"
    )
    client = open_contributor(officer)
    tasks = client.get("/survey/").content.decode()
    assert "Reopen to make changes" not in tasks
    assert "ask your chief executive's office" in tasks
    refused = client.post("/survey/reopen/")
    assert refused.status_code == 403
    assert "Only the chief executive's office can submit or reopen" in refused.content.decode()
    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    assert not ChangeRecord.objects.filter(key="status", new_value="reopened").exists()
    contributor_reassign(
        contributor=officer, sections=[], all_sections=False, can_submit=True, actor="holder"
    )
    assert "Reopen to make changes" in client.get("/survey/").content.decode()
    assert client.post("/survey/reopen/").status_code == 303
    response.refresh_from_db()
    assert response.status == ResponseStatus.REOPENED
    record = ChangeRecord.objects.get(key="status", new_value="reopened")
    assert record.changed_by == "Sam Officer (Revenues)"


def test_a_restricted_contributors_copy_of_the_answers_holds_only_their_sections(
    response, questionnaire, django_capture_on_commit_callbacks
):
    fill_everything(response)
    others = list(questionnaire.sections.exclude(slug="transactions"))
    with django_capture_on_commit_callbacks(execute=True):
        officer = contributor_add(
            response=response, name="Kim Officer", email="kim@council.example",
            role="Policy", sections=others, all_sections=False, can_submit=True,
            actor="Council link holder",
        )  # fmt: skip
    client = open_contributor(officer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/survey/check/", {"submitted_by": "Kim", "declaration": "on"})
    assert done["Location"] == "/survey/confirmation/"
    (message,) = mail.outbox
    assert message.to == ["kim@council.example"]
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert "Head of Customer Services" in text  # an answer in Kim's own sections
        assert "other sections are not included" in text
        # The transactions section was not Kim's: none of its figures leave in the copy.
        assert "Pay council tax" not in text
        assert "1,201" not in text and "1201" not in text
        assert "800 (estimate)" not in text
    stored = OutboundEmail.objects.get(kind="submission_copy")
    assert "1,201" not in stored.body_text and "1,201" not in stored.body_html
    # The confirmation names the address the copy went to: Kim's, not the contact's.
    confirmation = client.get("/survey/confirmation/").content.decode()
    assert "We have sent a copy of your answers to kim@council.example" in confirmation
    assert "pat.example@council.example" not in confirmation


def test_the_link_holders_copy_of_the_answers_holds_every_section(
    response, holder, django_capture_on_commit_callbacks
):
    fill_everything(response)
    with django_capture_on_commit_callbacks(execute=True):
        holder.post("/survey/check/", {"submitted_by": "Pat", "declaration": "on"})
    (message,) = mail.outbox
    assert "Pay council tax" in message.body and "1,201" in message.body
    assert "Head of Customer Services" in message.body
    assert "other sections are not included" not in message.body


def test_the_link_holder_sees_when_a_contributors_link_email_bounced(officer, holder):
    from outbox.bounces import Bounce, bounce_record

    page = holder.get("/survey/contributors/").content.decode()
    assert "Email not delivered" not in page
    sent = OutboundEmail.objects.get(kind="contributor_added")
    assert bounce_record(
        Bounce(sent.message_hash, "sam.officer@council.example", "5.1.1", "User unknown")
    )
    page = holder.get("/survey/contributors/").content.decode()
    row = page[page.index("Sam Officer") :].split("</tr>")[0]
    assert "Email not delivered" in row and "add them again with the right one" in row


def submitted_by_the_holder(holder, response) -> None:
    fill_everything(response)
    done = holder.post("/survey/check/", {"submitted_by": "Pat Example", "declaration": "on"})
    assert done["Location"] == "/survey/confirmation/"


def test_a_contributor_is_not_told_the_deadline_passed_or_that_they_submitted(
    officer, response, holder
):
    """Weeks before the deadline, after the chief executive's office submitted: the pages a
    contributor sees say who submitted, never "The deadline has passed" or "You submitted"."""
    submitted_by_the_holder(holder, response)
    client = open_contributor(officer)
    pages = {
        "their section": client.get(PAY),
        "a section not theirs": client.get("/survey/about/contact/"),
        "reopen refused": client.post("/survey/reopen/"),
        "task list": client.get("/survey/"),
    }
    assert pages["a section not theirs"].status_code == 403
    assert pages["reopen refused"].status_code == 403
    for name, page in pages.items():
        text = page.content.decode()
        assert "The deadline has passed" not in text, name
        assert "You submitted" not in text, name
        assert "You have submitted" not in text, name
        assert "response was submitted by Pat Example" in text or (
            "response has been submitted by Pat Example" in text
        ), name
    own = pages["their section"].content.decode()
    assert "unless your chief executive's office reopens it" in own


def test_a_refused_page_after_the_deadline_still_says_the_deadline_has_passed(
    officer, response, holder
):
    client = open_contributor(officer)
    response.survey.closes_at = timezone.now() + datetime.timedelta(minutes=5)
    response.survey.save()
    with time_machine.travel(response.survey.closes_at + datetime.timedelta(minutes=1)):
        page = client.get("/survey/about/contact/")
    assert page.status_code == 403
    assert "The deadline has passed" in page.content.decode()


def _contributor(response, name, capture) -> Contributor:
    with capture(execute=True):
        return contributor_add(
            response=response, name=name, email=f"{name.split()[0].lower()}@council.example",
            role="", sections=[], all_sections=True, can_submit=False, actor="Council link holder",
        )  # fmt: skip


@pytest.fixture
def leaked(response, holder, django_capture_on_commit_callbacks):
    """Ann was added under the council's previous link; the link was then re-issued and Ben
    was added through the new one (which leaked). Each has a session and an answer."""
    with time_machine.travel(datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC)):
        ann = _contributor(response, "Ann Early", django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime(2026, 1, 6, 9, tzinfo=datetime.UTC)):
        link_reissue(response=response, reason="chief executive changed", actor="Admin")
    with time_machine.travel(datetime.datetime(2026, 1, 7, 9, tzinfo=datetime.UTC)):
        ben = _contributor(response, "Ben Leak", django_capture_on_commit_callbacks)
    sessions = {}
    for person, slug in ((ann, "missed-bin"), (ben, "fly-tipping")):
        sessions[person.name] = client = open_contributor(person)
        saved = client.post(f"/survey/transactions/{slug}/", {
            "provision": "yes", "channels": ["WEB"], "end_to_end": "no", "figure_WEB": "22",
        })  # fmt: skip
        assert saved.status_code == 303
    return ann, ben, sessions


def _reissue_command(response, *extra) -> str:
    out = StringIO()
    call_command(
        "issue_links", response.survey.slug, "--councils", response.authority.gss_code,
        "--reissue", "--csv", str(Path(tempfile.mkdtemp()) / "links.csv"), *extra, stdout=out,
    )  # fmt: skip
    return out.getvalue()


def test_reissuing_revokes_the_contributors_added_since_the_link_was_last_issued(leaked, response):
    ann, ben, sessions = leaked
    printed = _reissue_command(response)
    assert (
        f"{response.authority.official_name} ({response.authority.gss_code}): 1 contributor "
        "revoked (contributors added since the link was last issued), 1 kept"
    ) in printed
    ann.refresh_from_db()
    ben.refresh_from_db()
    assert ben.is_revoked and not ann.is_revoked
    # Ben's session ends at once; Ann carries on.
    assert sessions["Ben Leak"].get(PAY)["Location"] == "/survey/session-ended/"
    assert sessions["Ann Early"].get(PAY).status_code == 200
    # Ben's answer stays, attributed to him.
    figure = Figure.objects.get(transaction__slug="fly-tipping", channel__code="WEB")
    assert (figure.response, figure.value, figure.updated_by) == (response, 22, "Ben Leak")
    assert ChangeRecord.objects.get(key="fly-tipping/WEB").contributor == ben


@pytest.mark.usefixtures("leaked")
def test_reissuing_can_revoke_every_contributor_or_none(response):
    assert "2 contributors kept" in _reissue_command(response, "--revoke-contributors=none")
    assert not response.contributors.filter(revoked_at__isnull=False).exists()
    printed = _reissue_command(response, "--revoke-contributors", "all")
    assert "2 contributors revoked (every contributor)" in printed
    assert not response.contributors.filter(revoked_at__isnull=True).exists()
    with pytest.raises(CommandError, match="--revoke-contributors goes with --reissue"):
        call_command(
            "issue_links", response.survey.slug, "--revoke-contributors=all",
            "--csv", str(Path(tempfile.mkdtemp()) / "links.csv"),
        )  # fmt: skip


def test_the_admins_reissue_revokes_new_contributors_and_says_so(leaked, response):
    ann, ben, sessions = leaked
    boss = User.objects.create_superuser("boss", "boss@example.gov.uk", "a-long-password-123")
    admin = Client()
    admin.force_login(boss)
    download = admin.post(
        "/admin/surveys/response/", {"action": "reissue_links", "_selected_action": [response.pk]}
    )
    assert download["Content-Type"].startswith("text/csv")
    ben.refresh_from_db()
    assert ben.is_revoked and not Contributor.objects.get(pk=ann.pk).is_revoked
    assert sessions["Ben Leak"].get(PAY)["Location"] == "/survey/session-ended/"
    told = [str(m) for m in get_messages(download.wsgi_request)]
    assert told == [
        f"Re-issued 1 council link. Contributors: {response.authority.official_name}: "
        "1 contributor revoked (contributors added since the link was last issued), 1 kept."
    ]
    admin.post(
        "/admin/surveys/response/",
        {"action": "reissue_links_revoking_all", "_selected_action": [response.pk]},
    )
    assert Contributor.objects.get(pk=ann.pk).is_revoked


@pytest.fixture
def typed_by_a_contributor(response, questionnaire, django_capture_on_commit_callbacks):
    """Everything is answered; then Cat, a contributor given "About you", types an address
    of her own choosing into "Your contact details"."""
    response.authority.chief_executive_email = "ce@council.example"
    response.authority.save()
    fill_everything(response)  # by the link holder: pat.example@council.example
    with django_capture_on_commit_callbacks(execute=True):
        cat = contributor_add(
            response=response, name="Cat Officer", email="cat@council.example", role="",
            sections=[questionnaire.sections.get(slug="about")], all_sections=False,
            can_submit=False, actor="Council link holder",
        )  # fmt: skip
    client = open_contributor(cat)
    page = client.get("/survey/about/contact/").content.decode()
    state = re.search(r'name="state" value="([^"]*)"', page).group(1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post("/survey/about/contact/", {
            "state": state, "respondent-name": "Pat Example",
            "respondent-job-title": "Head of Customer Services",
            "respondent-email": "cat.elsewhere@mail.example", "respondent-phone": "",
        })  # fmt: skip
    assert saved.status_code == 303
    assert Answer.objects.get(question__slug="respondent-email").value == (
        "cat.elsewhere@mail.example"
    )
    return cat


def test_the_section_complete_email_never_goes_to_an_address_a_contributor_typed(
    typed_by_a_contributor,
):
    notice = OutboundEmail.objects.get(kind="section_complete")
    assert notice.to_address == "ce@council.example"
    assert all("cat.elsewhere@mail.example" not in m.to for m in mail.outbox)


def test_the_link_holders_copy_never_goes_to_an_address_a_contributor_typed(
    typed_by_a_contributor, holder, response, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = holder.post("/survey/check/", {"submitted_by": "Pat", "declaration": "on"})
    assert done["Location"] == "/survey/confirmation/"
    (message,) = mail.outbox
    assert message.to == ["ce@council.example"]  # the link holder's own contact
    assert "Pay council tax" in message.body  # the link holder may see every section
    confirmation = holder.get("/survey/confirmation/").content.decode()
    assert "We have sent a copy of your answers to ce@council.example" in confirmation
    assert "cat.elsewhere@mail.example" not in confirmation


def _add(holder, name, role="", email=None):
    return holder.post("/survey/contributors/", {
        "name": name, "email": email or f"{name.split()[0].lower()}@council.example", "role": role,
        "sections": ["all"],
    })  # fmt: skip


@pytest.mark.parametrize(
    ("name", "role", "error"),
    [
        ("colleague. URGENT: your account expires, sign in at https://evil.example", "",
         "Enter their full name without a web address"),
        ("Sam Officer", "Revenues – see evil.example/login",
         "Enter their role or team without a web address"),
        ("Sam Officer\nURGENT: reply today", "",
         "Enter their full name on one line, without hidden characters"),
        ("Sam Officer", "Revenues\u200b\u202e",
         "Enter their role or team on one line, without hidden characters"),
    ],
)  # fmt: skip
def test_names_and_roles_that_could_carry_a_message_are_refused(holder, name, role, error):
    page = _add(holder, name, role)
    assert page.status_code == 200
    text = page.content.decode()
    assert "govuk-error-summary" in text and error in text
    assert not Contributor.objects.exists() and not mail.outbox


def test_a_response_has_at_most_so_many_contributors(holder, response, settings):
    settings.CONTRIBUTORS_MAX = 2
    for name in ("Ann One", "Ben Two"):
        assert _add(holder, name).status_code == 303
    page = _add(holder, "Cat Three")
    assert page.status_code == 200
    text = page.content.decode()
    assert "govuk-error-summary" in text
    assert "You can have up to 2 contributors at once. Remove one before adding another." in text
    assert response.contributors.count() == 2
    holder.post(f"/survey/contributors/{response.contributors.first().pk}/remove/")
    assert _add(holder, "Cat Three").status_code == 303


def test_a_response_adds_at_most_so_many_contributors_an_hour(
    holder, response, settings, django_capture_on_commit_callbacks
):
    settings.CONTRIBUTOR_INVITATIONS_PER_HOUR = 3
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for minutes, name in ((0, "Ann One"), (20, "Ben Two"), (40, "Cat Three")):
            with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
                assert _add(holder, name).status_code == 303
    assert len(mail.outbox) == 3
    # Removing one frees a place, but not an invitation: each was emailed.
    holder.post(f"/survey/contributors/{response.contributors.first().pk}/remove/")
    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(start + datetime.timedelta(minutes=50), tick=False),
    ):
        page = _add(holder, "Dan Four")
    assert page.status_code == 200
    assert (
        "You have added 3 contributors in the last hour. You can add another in 10 minutes."
        in page.content.decode()
    )
    assert response.contributors.count() == 3
    assert len(mail.outbox) == 3
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert _add(holder, "Dan Four").status_code == 303
