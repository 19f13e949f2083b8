"""The tracker: administrators only, counts and the outstanding list, never answers."""

import csv
import datetime
import io

import pytest
from django.core import mail
from django.db.models import F
from django.test import Client
from openpyxl import load_workbook

from campaigns.services import invitations_send
from outbox.models import OutboundEmail
from surveys.choices import ResponseStatus
from surveys.models import Response
from surveys.services import link_issue, link_redeem, response_get_or_create
from surveys.tests.factories import fill_everything

from .conftest import make_council

pytestmark = pytest.mark.django_db
ONE_HOUR = datetime.timedelta(hours=1)
CONFIRMED = {"confirmed": "yes"}


@pytest.fixture
def round_in_progress(survey, councils3, django_capture_on_commit_callbacks):
    """Hartlepool submitted, Middlesbrough opened its link, Redcar has no contact, and a
    council named like a formula was invited."""
    formula = make_council(survey, "E06000009", name='=HYPERLINK("http://x")')
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey)
    submitted = Response.objects.get(authority=councils3[0])
    fill_everything(submitted)
    Response.objects.filter(pk=submitted.pk).update(status=ResponseStatus.SUBMITTED)
    opened = Response.objects.get(authority=councils3[1])
    link_redeem(link=link_issue(response=opened), now=opened.created_at)
    return survey, councils3, formula


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_tracker_is_for_administrators_only(round_in_progress, analyst):
    survey = round_in_progress[0]
    url = f"/campaigns/{survey.slug}/"
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert _client(analyst).get(url).status_code == 403
    assert _client(analyst).get(f"/campaigns/{survey.slug}/outstanding.csv").status_code == 403
    assert _client(analyst).post(f"/campaigns/{survey.slug}/send/").status_code == 403


def test_tracker_counts_and_lists_outstanding_councils_without_answers(
    round_in_progress, administrator, django_assert_max_num_queries
):
    survey = round_in_progress[0]
    client = _client(administrator)
    page = client.get(f"/campaigns/{survey.slug}/")
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    html = page.content.decode()
    status_table = html[html.index("Councils by status") : html.index("By council type")]
    for label, count in [("Submitted", 1), ("Link opened", 1), ("Invited", 1),
                         ("Not invited", 1)]:  # fmt: skip
        assert f'<th scope="row" class="govuk-table__header">{label}</th>' in status_table
        assert f'govuk-table__cell--numeric">{count}</td>' in status_table
    assert "Redcar and Cleveland Council (E06000003): No chief executive email address" in html
    outstanding = html[html.index('id="outstanding"') :]
    assert "Middlesbrough Council" in outstanding
    assert "Hartlepool Borough Council" not in outstanding  # submitted: not outstanding
    # Who responded, never what: no figure or answer appears.
    assert "Pat Example" not in html and "1,201" not in html
    everyone = client.get(f"/campaigns/{survey.slug}/?everyone=on&region=north_east")
    assert "Hartlepool Borough Council" in everyone.content.decode().split('id="outstanding"')[1]
    with django_assert_max_num_queries(12):
        client.get(f"/campaigns/{survey.slug}/?status=link_opened")


def test_outstanding_list_exports_to_csv_and_xlsx_safely(round_in_progress, administrator):
    survey = round_in_progress[0]
    client = _client(administrator)
    download = client.get(f"/campaigns/{survey.slug}/outstanding.csv")
    assert download["Content-Disposition"].startswith('attachment; filename="outstanding-')
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:5] == ["GSS code", "Council", "Council type", "Region", "Status"]
    # The switchboard number was appended: every earlier column keeps its place.
    assert rows[0][14:] == ["Contact problem", "Switchboard phone"]
    names = {row[1]: row for row in rows[1:]}
    assert set(names) == {
        "Middlesbrough Council", "Redcar and Cleveland Council", "'=HYPERLINK(\"http://x\")",
    }  # fmt: skip
    assert names["Middlesbrough Council"][4] == "Link opened"
    filtered = client.get(f"/campaigns/{survey.slug}/outstanding.csv?status=not_invited")
    assert len(list(csv.reader(io.StringIO(filtered.content.decode())))) == 2
    workbook = load_workbook(
        io.BytesIO(client.get(f"/campaigns/{survey.slug}/outstanding.xlsx").content)
    )
    sheet = workbook["Outstanding councils"]
    cells = {sheet.cell(r, 2).value: r for r in range(2, sheet.max_row + 1)}
    row = cells['\'=HYPERLINK("http://x")']
    assert sheet.cell(row, 2).data_type == "s"
    assert sheet.cell(row, 11).value == 0  # reminders: a number stays a number
    assert client.get(f"/campaigns/{survey.slug}/outstanding.pdf").status_code == 404


def test_send_from_the_tracker_and_selection(
    survey, councils3, administrator, django_capture_on_commit_callbacks
):
    client = _client(administrator)
    url = f"/campaigns/{survey.slug}/send/"
    one = {"scope": "selected", "action": "invite", "council": ["E06000002"], **CONFIRMED}
    with django_capture_on_commit_callbacks(execute=True):
        nothing = client.post(url, {"scope": "selected", "action": "invite", **CONFIRMED})
        one = client.post(url, one)
    assert nothing.status_code == one.status_code == 303
    assert [m.to for m in mail.outbox] == [["ce.e06000002@council.example"]]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "invite", **CONFIRMED})
        client.post(url, {"action": "invite", **CONFIRMED})
    assert len(mail.outbox) == 2
    assert OutboundEmail.objects.count() == 2


def test_preview_shows_the_email_for_a_council_and_writes_nothing(survey, councils3, administrator):
    client = _client(administrator)
    page = client.get(
        f"/campaigns/{survey.slug}/preview/", {"kind": "reminder_started", "council": "E06000002"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Dear Chief E06000002," in html
    assert "Thank you for starting Middlesbrough Council" in html
    assert "(the council&#x27;s own link)" in html
    assert not Response.objects.exists()
    make_council(survey, "E06000004", chief_executive_name="<b>Jo</b>")
    escaped = client.get(
        f"/campaigns/{survey.slug}/preview/", {"kind": "invitation", "council": "E06000004"}
    )
    assert "Dear &lt;b&gt;Jo&lt;/b&gt;," in escaped.content.decode()
    refused = client.get(f"/campaigns/{survey.slug}/preview/", {"kind": "x", "council": "E1"})
    assert "Select an email" in refused.content.decode()


def test_extension_page_extends_and_refuses_bad_dates(
    survey, councils3, administrator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(survey=survey, authorities=councils3[:1])
    client = _client(administrator)
    url = f"/campaigns/{survey.slug}/councils/E06000001/extend/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"day": "31", "month": "2", "year": "2099", "time": "17:00"})
    assert "Enter a real date" in bad.content.decode()
    assert bad.content.decode().count("Error:") >= 1
    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(url, {"day": "1", "month": "2", "year": "2099", "time": "17:00"})
    assert good.status_code == 303
    assert "new deadline is 5pm on Sunday 1 February 2099" in mail.outbox[-1].body


def test_tracker_pages_long_lists(client, survey, administrator):
    from .conftest import make_council

    for number in range(130):
        make_council(survey, f"E07{number:06d}")
    client.force_login(administrator)
    first = client.get(f"/campaigns/{survey.slug}/")
    text = first.content.decode()
    assert "130 councils listed, 1 to 100 shown" in text
    assert 'aria-label="Page 2"' in text
    second = client.get(f"/campaigns/{survey.slug}/?page=2")
    assert "101 to 130 shown" in second.content.decode()
    assert client.get(f"/campaigns/{survey.slug}/?page=oops").status_code == 200


def test_a_late_submission_is_flagged_on_the_tracker_and_in_the_exports(
    round_in_progress, administrator
):
    survey, councils3, _ = round_in_progress
    on_time = Response.objects.get(authority=councils3[0])
    Response.objects.filter(pk=on_time.pk).update(submitted_at=survey.closes_at - ONE_HOUR)
    late = Response.objects.get(authority=councils3[1])
    fill_everything(late)
    Response.objects.filter(pk=late.pk).update(
        status=ResponseStatus.SUBMITTED,
        deadline_extended_to=survey.closes_at + 2 * ONE_HOUR,
        submitted_at=survey.closes_at + ONE_HOUR,
    )
    client = _client(administrator)
    html = client.get(f"/campaigns/{survey.slug}/?everyone=on").content.decode()
    html = html.split('id="outstanding"')[1]
    rows = {
        name: html[html.index(name) :].split("</tr>")[0]
        for name in ("Hartlepool Borough Council", "Middlesbrough Council")
    }
    assert ">Late<" in rows["Middlesbrough Council"]
    assert ">Late<" not in rows["Hartlepool Borough Council"]
    download = client.get(f"/campaigns/{survey.slug}/outstanding.csv?everyone=on")
    lines = list(csv.DictReader(io.StringIO(download.content.decode())))
    late_column = {line["Council"]: line["Late"] for line in lines if line["Submitted (UK time)"]}
    assert late_column == {"Hartlepool Borough Council": "No", "Middlesbrough Council": "Yes"}


def test_links_in_emails_come_from_the_configured_address_whatever_host_the_request_named(
    survey, councils3, administrator, settings, django_capture_on_commit_callbacks
):
    """Host header poisoning: a request naming another host cannot put it in the links."""
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    client = _client(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            f"/campaigns/{survey.slug}/send/",
            {"action": "invite", **CONFIRMED},
            HTTP_HOST="evil.example",
        )
    assert sent.status_code == 303
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "evil.example" not in message.body
        assert f"\n{settings.SURVEY_BASE_URL}/s/" in message.body
    settings.ALLOWED_HOSTS = ["testserver"]
    refused = client.post(f"/campaigns/{survey.slug}/send/", {"action": "invite"},
                          HTTP_HOST="evil.example")  # fmt: skip
    assert refused.status_code == 400


def test_a_mass_send_is_confirmed_first_saying_how_many_councils_get_what(
    survey, councils3, administrator, django_capture_on_commit_callbacks
):
    client = _client(administrator)
    url = f"/campaigns/{survey.slug}/send/"
    asked = client.post(url, {"action": "invite"})
    assert asked.status_code == 200
    html = asked.content.decode()
    assert "Send invitations to 2 councils?" in html
    assert "No chief executive email address" in html  # Redcar, 1 council, not sent
    assert not OutboundEmail.objects.exists()  # asking sends nothing
    assert 'name="confirmed" value="yes"' in html
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {"action": "invite", "scope": "all", **CONFIRMED})
    assert sent.status_code == 303
    assert len(mail.outbox) == 2
    # Sending again would send nothing: the page says so and offers no button.
    again = client.post(url, {"action": "invite"}).content.decode()
    assert "No council would get an invitation now" in again
    assert "2 councils have already been sent their invitation" in again
    assert 'name="confirmed"' not in again
    # A reminder a day later: the wording each council would get, by what it has done.
    started = Response.objects.get(authority=councils3[0])
    Response.objects.filter(pk=started.pk).update(started_at=started.created_at)
    OutboundEmail.objects.update(created_at=F("created_at") - datetime.timedelta(hours=25))
    reminders = client.post(url, {"action": "remind"}).content.decode()
    assert "Send reminders to 2 councils?" in reminders
    table = reminders[reminders.index("What will be sent") :]
    assert "Reminder: not started" in table and "Reminder: started but not submitted" in table
    selected = client.post(
        url, {"action": "remind", "scope": "selected", "council": ["E06000002"]}
    ).content.decode()
    assert "Send reminders to 1 council?" in selected
    assert '<input type="hidden" name="council" value="E06000002">' in selected
    assert OutboundEmail.objects.count() == 2


def test_tracker_puts_actions_first_and_shows_rates_and_queued_emails(
    survey, councils3, administrator, django_capture_on_commit_callbacks
):
    """Before anyone is invited, then with one invitation queued but not sent."""
    client = _client(administrator)
    html = client.get(f"/campaigns/{survey.slug}/").content.decode()
    assert html.index("Send invitations to every council") < html.index("without a usable contact")
    assert html.index("Send invitations to every council") < html.index('id="outstanding"')
    # The long list of councils without a contact is behind a details component.
    details = html[html.rindex('<details class="govuk-details"', 0, html.index("Redcar")) :]
    assert "1 council without a usable contact: not emailed" in details
    assert html.count("No contact yet") == 3  # the outstanding list says it in words
    assert "None" not in html.split('id="outstanding"')[1]
    invitations_send(survey=survey, authorities=councils3[:1])  # queued: not sent yet
    Response.objects.filter(authority=councils3[1]).update(status=ResponseStatus.SUBMITTED)
    response_get_or_create(survey=survey, authority=councils3[1])
    Response.objects.filter(authority=councils3[1]).update(status=ResponseStatus.SUBMITTED)
    html = client.get(f"/campaigns/{survey.slug}/").content.decode()
    headline = html[html.index('id="response-rate"') :].split("</p>")[0]
    assert ">33.3%</span><br>response rate: 1 of 3 councils has submitted" in headline
    status_table = html[html.index("Councils by status") : html.index("By council type")]
    queued = status_table[status_table.index("Invitation queued, not sent yet") :]
    assert queued.split("</tr>")[0].count("govuk-table__cell--numeric") == 2
    assert "33.3%</td>" in queued.split("</tr>")[0]
    emails = html[html.index("Emails of this round") :].split("</table>")[0]
    assert "Queued, not sent yet</th>" in emails and "Sent</th>" in emails
    assert 'numeric">1</td>' in emails.split("Queued, not sent yet")[1].split("</tr>")[0]
    assert 'numeric">0</td>' in emails.split("Sent</th>")[1].split("</tr>")[0]
    kind_table = html[html.index("Councils by type and status") :].split("</table>")[0]
    assert "Response rate" in kind_table and "33.3%" in kind_table


def test_the_phone_chasing_export_has_each_council_s_switchboard_number(
    survey, councils3, administrator
):
    councils3[1].switchboard_phone = "01632 960 002"
    councils3[1].save()
    client = _client(administrator)
    lines = list(csv.DictReader(io.StringIO(
        client.get(f"/campaigns/{survey.slug}/outstanding.csv").content.decode()
    )))  # fmt: skip
    phones = {line["Council"]: line["Switchboard phone"] for line in lines}
    assert phones["Middlesbrough Council"] == "01632 960 002"
    assert phones["Hartlepool Borough Council"] == ""
    sheet = load_workbook(
        io.BytesIO(client.get(f"/campaigns/{survey.slug}/outstanding.xlsx").content)
    )["Outstanding councils"]
    assert sheet.cell(1, 16).value == "Switchboard phone"
    numbers = {sheet.cell(r, 2).value: sheet.cell(r, 16).value for r in range(2, 5)}
    assert numbers["Middlesbrough Council"] == "01632 960 002"


def test_an_extension_says_exactly_what_was_sent_and_the_tracker_lists_who_was_not_told(
    survey, councils3, administrator, django_capture_on_commit_callbacks
):
    for council in councils3:
        response_get_or_create(survey=survey, authority=council)
    client = _client(administrator)
    summer = {"day": "1", "month": "7", "year": "2099", "time": "17:00"}  # BST: 4pm UTC
    # Redcar has no email address: the page says so before and after, and no email exists.
    url = f"/campaigns/{survey.slug}/councils/E06000003/extend/"
    form = client.get(url).content.decode()
    assert "No email can tell the council: no chief executive email address" in form
    with django_capture_on_commit_callbacks(execute=True):
        untold = client.post(url, summer, follow=True).content.decode()
    assert "We have emailed them" not in untold
    assert "deadline is extended to 5pm on Wednesday 1 July 2099" in untold
    assert (
        "No email was sent to Redcar and Cleveland Council: No chief executive email address"
        in untold
    )
    assert not OutboundEmail.objects.filter(kind="extension").exists()
    # Middlesbrough is emailed: the page names who and where.
    with django_capture_on_commit_callbacks(execute=True):
        told = client.post(
            f"/campaigns/{survey.slug}/councils/E06000002/extend/", summer, follow=True
        ).content.decode()
    assert (
        "An email telling Chief E06000002 (ce.e06000002@council.example) the new deadline is "
        "queued" in told
    )
    assert len(mail.outbox) == 1
    html = client.get(f"/campaigns/{survey.slug}/").content.decode()
    section = html[html.index("Extensions the councils have not been told about") :]
    section = section[: section.index("</ul>")]
    assert "Redcar and Cleveland Council (E06000003)" in section
    assert "No chief executive email address" in section
    assert "Middlesbrough" not in section
    # Giving the same deadline again says it was already sent, rather than claiming a new one.
    again = client.post(
        f"/campaigns/{survey.slug}/councils/E06000002/extend/", summer, follow=True
    ).content.decode()
    assert "They have already been emailed about this deadline" in again
