"""Releases built from hand-made responses: protection, pages, downloads and permissions."""

import csv
import dataclasses
import datetime
import io
import json
import re
import threading

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission, User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reporting import selectors
from reporting import services as reporting_services
from reporting.exports import release_csv, release_json, release_xlsx
from reporting.models import (
    HIDDEN_STATUSES,
    Release,
    ReleaseCell,
    ReleaseImmutable,
    ReleaseStatus,
    Withheld,
)
from reporting.publication import Publication
from reporting.services import release_build, release_build_if_due, release_run
from reporting.tasks import release_build_due_task
from survey_site.roles import ANALYSTS
from surveys.models import Answer, Figure, Question, Response, TransactionAnswer
from surveys.selectors import collection_end, collection_finished
from surveys.services import response_grace_deadline
from surveys.tests.factories import make_authority

from .analyst_outputs import analyst_outputs
from .factories import SMALL_ROUND, TRANSACTION, close_round, make_small_round, submitted_response

pytestmark = [pytest.mark.django_db]

# The north-west council E06000006 reports 50,000 web payments: it dominates every cell it is in.
DOMINANT_NW_WEB = 50_800  # north-west unitaries' web total (50,000 + 800)
DOMINANT_UNITARY_WEB = 55_000  # all unitaries' web total
HIDDEN_NUMBERS = ["50,800", "50800", "55,000", "55000"]


@pytest.fixture
def release(small_round):
    built = release_build(survey_id=small_round.pk)
    assert built.status == ReleaseStatus.READY, built.error
    return built


def _cell(release, table, **keys):
    return ReleaseCell.objects.get(release=release, table=table, keys=keys)


def _vol(release, kind, region, channel="WEB"):
    keys = {"transaction": "pay-council-tax", "channel": channel}
    return _cell(release, "volume", **keys, council_type=kind, region=region)


def test_build_protects_the_dominant_council_and_publishes_what_is_safe(release):
    assert release.audit["passed"] is True
    assert _vol(release, "unitary", "north_west").status == "primary"
    assert _vol(release, "unitary", "north_west").value is None
    # The England total is dominated by one council too (p% rule).
    assert _vol(release, "total", "total").value is None
    published = ReleaseCell.objects.filter(release=release, status="published", table="volume")
    assert published.exists()
    # Every published volume cell is one of the hand-computed totals.
    hand = {
        ("WEB", "north_east"): 4200,
        ("PHONE", "north_east"): 1730,
        ("F2F", "north_east"): 420,
        ("PHONE", "north_west"): 610,
        ("F2F", "north_west"): 165,
        ("WEB", "total"): DOMINANT_UNITARY_WEB,
        ("PHONE", "total"): 2340,
        ("F2F", "total"): 585,
    }
    for cell in published.filter(keys__transaction="pay-council-tax"):
        key = (cell.keys["channel"], cell.keys["region"])
        if key in hand and cell.keys["council_type"] in ("unitary", "total"):
            assert cell.value == hand[key], cell.cell_id
    # Rule parameters are kept privately on the release, for audit.
    assert release.rules["min_contributors"] >= 2


def test_published_cells_satisfy_every_relation_where_all_are_published(release):
    values = {c.cell_id: c.value for c in ReleaseCell.objects.filter(release=release)}
    checked = 0
    for total, parts in release.relations:
        if values[total] is not None and all(values[p] is not None for p in parts):
            assert values[total] == pytest.approx(sum(values[p] for p in parts))
            checked += 1
    assert checked > 0


def test_a_hidden_cell_never_appears_as_a_number_in_any_page_or_download(release, analyst_client):
    slug = release.survey.slug
    urls = [
        reverse("reporting:release-overview", args=[slug]),
        reverse("reporting:release-channels", args=[slug]) + "?transaction=pay-council-tax",
        reverse("reporting:release-take-up", args=[slug]),
        reverse("reporting:release-costs", args=[slug]),
        reverse("reporting:release-answers", args=[slug]),
    ]
    for fmt in ("csv", "json"):
        urls.append(reverse("reporting:release-download", args=[slug, fmt]))
    for url in urls:
        page = analyst_client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        for number in HIDDEN_NUMBERS:
            assert number not in text, (url, number)
    channel_page = analyst_client.get(urls[1]).content.decode()
    assert "[c]" in channel_page
    shown_here = ReleaseCell.objects.filter(
        release=release,
        table="volume",
        status="published",
        keys__transaction="pay-council-tax",
        keys__region="total",
        value__gt=0,
    )
    assert shown_here.exists()
    for cell in shown_here:
        assert f"{cell.value:,.0f}" in channel_page
    workbook = load_workbook(io.BytesIO(release_xlsx(publication=Publication(release))))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                assert value not in (DOMINANT_NW_WEB, DOMINANT_UNITARY_WEB)


def test_answers_page_shows_the_frequency_tables_as_released(release, analyst_client):
    page = analyst_client.get(reverse("reporting:release-answers", args=[release.survey.slug]))
    assert page.status_code == 200
    text = page.content.decode()
    for title in (
        "Councils providing each transaction",
        "Councils offering each channel for a transaction they provide",
    ):
        assert title in text
    # Each England count of councils providing a transaction is shown as released.
    view = selectors.release_view(release=release)
    labels = selectors.release_labels(release=release)
    table = selectors.table_provision(view, labels)
    provided = [row for row in table.rows if row[0] == labels.transaction("pay-council-tax")]
    assert provided
    for row in provided:
        cell = row[2]  # England
        assert f">{cell.text}<" in text
    hidden = ReleaseCell.objects.filter(release=release, table="provision").exclude(
        status="published"
    )
    assert ("[c]" in text) is hidden.exists()


def test_the_same_cell_has_the_same_status_in_every_view_and_export(release):
    stored = {c.cell_id: c for c in ReleaseCell.objects.filter(release=release)}
    exported = {c["id"]: c for c in release_json(publication=Publication(release))["cells"]}
    assert set(exported) == set(stored)
    stream = io.StringIO()
    release_csv(publication=Publication(release), stream=stream)
    csv_rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert len(csv_rows) == len(stored)
    workbook = load_workbook(io.BytesIO(release_xlsx(publication=Publication(release))))
    detail = workbook["Transactions in detail"]
    detail_rows = list(detail.iter_rows(min_row=3, values_only=True))
    volume_cells = [c for c in stored.values() if c.table == "volume"]
    volume_cells.sort(key=lambda c: c.order)
    assert len(detail_rows) == len(volume_cells)
    for cell, row in zip(volume_cells, detail_rows, strict=True):
        hidden = cell.status in HIDDEN_STATUSES
        assert (row[-1] == "[c]") is hidden
        assert (exported[cell.cell_id]["value"] is None) is hidden
        if not hidden:
            assert row[-1] == cell.value
    by_keys = {(c.table, frozenset(c.keys.items())): c for c in stored.values()}
    for row in csv_rows:
        keys = frozenset((k, row[k]) for k in selectors.KEY_COLUMNS if row[k] != "")
        cell = by_keys[row["table"], keys]
        assert (row["value"] == "[c]") is (cell.status in HIDDEN_STATUSES)
    # The page table for one transaction shows exactly the stored statuses.
    view = selectors.release_view(release=release)
    labels = selectors.release_labels(release=release)
    table = selectors.table_channel_mix(view, labels, "pay-council-tax")
    web = next(row for row in table.rows if row[1] == "Online self-service")
    england = stored["volume|pay-council-tax|WEB|total|total"]
    assert (web[2].text == "[c]") is (england.status in HIDDEN_STATUSES)


def test_xlsx_has_cover_notes_and_numbers_stored_as_numbers(release):
    workbook = load_workbook(io.BytesIO(release_xlsx(publication=Publication(release))))
    assert workbook.sheetnames[:2] == ["Cover", "Notes"]
    notes = " ".join(str(c) for row in workbook["Notes"].iter_rows(values_only=True) for c in row)
    for symbol in ("[c]", "[x]", "[z]", "[e]"):
        assert symbol in notes
    rates = workbook["Response rates"]
    england = [row for row in rates.iter_rows(min_row=3, values_only=True) if row[0] == "England"]
    assert england[-1][2] == 6 and isinstance(england[-1][2], int | float)
    text = json.dumps(
        [[c for c in row] for s in workbook.worksheets for row in s.iter_rows(values_only=True)],
        default=str,
    )
    for secret in ("min_contributors", "p_percent", "group_min_size"):
        assert secret not in text


def test_free_text_and_personal_data_are_never_shown_or_exported(small_round, analyst_client):
    authority = make_authority("E06000007", kind="unitary", region="north_east")
    questionnaire = small_round.questionnaire
    free = Question.objects.filter(section__questionnaire=questionnaire, free_text=True).first()
    personal = Question.objects.filter(
        section__questionnaire=questionnaire, personal_data=True
    ).first()
    submitted_response(
        small_round,
        authority,
        {"WEB": 700, "PHONE": 200, "F2F": 50},
        {free.slug: "=HYPERLINK(SECRET-FREE-TEXT)", personal.slug: "Pat SECRET-PERSON"},
    )
    release = release_build(survey_id=small_round.pk)
    assert release.published_at is not None
    # Every page and download an analyst can reach, the workbook read cell by cell.
    for name, content in analyst_outputs(analyst_client, small_round).items():
        assert "SECRET-FREE-TEXT" not in content, name
        assert "SECRET-PERSON" not in content, name


def test_analyst_sees_pages_others_are_refused(release, client, analyst, administrator):
    url = reverse("reporting:release-take-up", args=[release.survey.slug])
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("sign-in"))
    client.force_login(administrator)
    assert client.get(url).status_code == 403
    assert (
        client.get(
            reverse("reporting:release-download", args=[release.survey.slug, "xlsx"])
        ).status_code
        == 403
    )
    client.force_login(analyst)
    assert client.get(url).status_code == 200
    # Analysts never see primary versus secondary suppression.
    assert (
        client.get(reverse("reporting:release-suppression", args=[release.survey.slug])).status_code
        == 403
    )
    overview = client.get(reverse("reporting:release-overview", args=[release.survey.slug]))
    # They see how many cells of each table are hidden and why (the release's notes, issue 10),
    # never which cell: no cell is labelled by its status, every hidden one reads [c].
    content = overview.content.decode()
    assert "Secondary suppression" not in content and "Primary suppression" not in content
    assert "Cells hidden, by table and why" in content
    statuses = dict(ReleaseCell.objects.filter(release=release).values_list("cell_id", "status"))
    shown = re.findall(r'data-cell="([^"]+)">([^<]*)<', content)
    assert shown
    for cell_id, text in shown:
        assert (text == "[c]") == (statuses[cell_id] in HIDDEN_STATUSES), cell_id


def test_internals_permission_shows_suppression_details(release, client, internals_analyst):
    client.force_login(internals_analyst)
    page = client.get(reverse("reporting:release-suppression", args=[release.survey.slug]))
    assert page.status_code == 200
    assert b"Secondary suppression" in page.content


def test_a_superuser_needs_the_permission_itself_to_see_suppression_internals(release, client):
    """Superuser status grants no role: the internals need the permission itself."""
    root = User.objects.create_superuser("root", password="a-long-test-password")
    client.force_login(root)
    slug = release.survey.slug
    suppression = reverse("reporting:release-suppression", args=[slug])
    assert client.get(reverse("reporting:release-overview", args=[slug])).status_code == 403
    root.groups.add(Group.objects.get(name=ANALYSTS))
    client.force_login(User.objects.get(pk=root.pk))
    overview = client.get(reverse("reporting:release-overview", args=[slug]))
    assert overview.status_code == 200
    assert suppression.encode() not in overview.content
    assert client.get(suppression).status_code == 403
    root.user_permissions.add(Permission.objects.get(codename="view_suppression_internals"))
    client.force_login(User.objects.get(pk=root.pk))
    assert client.get(suppression).status_code == 200


def test_unknown_transaction_or_format_is_not_found(release, analyst_client):
    slug = release.survey.slug
    url = reverse("reporting:release-channels", args=[slug])
    assert analyst_client.get(url + "?transaction=../../responses").status_code == 404
    assert (
        analyst_client.get(reverse("reporting:release-download", args=[slug, "pdf"])).status_code
        == 404
    )


def test_charts_are_accessible_svg_next_to_tables(release, analyst_client):
    page = analyst_client.get(reverse("reporting:release-take-up", args=[release.survey.slug]))
    html = page.content.decode()
    assert 'role="img"' in html and "<title id=" in html
    assert "<table" in html
    assert "<script>" not in html and "style=" not in html


def test_dashboard_selectors_use_a_fixed_number_of_queries(release, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        view = selectors.release_view(release=release)
        labels = selectors.release_labels(release=release)
        tables = [
            selectors.table_response_rates(view),
            selectors.table_channel_mix(view, labels),
            selectors.table_take_up(view, labels),
            selectors.table_costs(view, labels),
            selectors.table_own_costs(view, labels),
            selectors.table_answers(view, labels),
        ]
    assert all(t.rows for t in tables)


def test_a_finished_release_and_its_cells_never_change(release):
    with pytest.raises(ReleaseImmutable):
        release.save()
    with pytest.raises(ReleaseImmutable):
        release.delete()
    cell = ReleaseCell.objects.filter(release=release).first()
    cell.value = 1
    with pytest.raises(ReleaseImmutable):
        cell.save()


def test_running_a_build_twice_changes_nothing(release):
    cells = ReleaseCell.objects.filter(release=release).count()
    assert release_run(release_id=release.pk) == ReleaseStatus.READY
    assert ReleaseCell.objects.filter(release=release).count() == cells
    assert release.survey.releases.count() == 1


def _published_json(client, slug):
    """Every cell of the round as an analyst downloads it."""
    url = reverse("reporting:release-download", args=[slug, "json"])
    return json.loads(client.get(url).content)["cells"]


def test_a_release_built_while_councils_can_still_answer_is_never_shown(
    survey, analyst_client, tmp_path
):
    make_small_round(survey, SMALL_ROUND)  # the round is still open
    built = release_build(survey_id=survey.pk)
    assert built.status == ReleaseStatus.READY
    assert built.published_at is None and built.withheld == Withheld.COLLECTING
    assert selectors.release_published(survey=survey) is None
    overview = analyst_client.get(reverse("reporting:release-overview", args=[survey.slug]))
    assert b"have not been published yet" in overview.content
    assert b"50,800" not in overview.content
    for name in ("release-take-up", "release-costs", "release-answers"):
        page = analyst_client.get(reverse(f"reporting:{name}", args=[survey.slug]))
        assert page.status_code == 404
    download = reverse("reporting:release-download", args=[survey.slug, "json"])
    assert analyst_client.get(download).status_code == 404
    with pytest.raises(CommandError, match="no published release"):
        call_command(
            "export_release", survey.slug, "--format", "csv", "--output", tmp_path / "x.csv"
        )


def test_a_second_release_of_a_round_is_withheld_so_two_cannot_be_subtracted(
    release, analyst_client
):
    """Attack 4 over time: a late council's figures would be the difference of two releases."""
    slug = release.survey.slug
    before = _published_json(analyst_client, slug)
    # England totals the late council would add to, published in the first release.
    england = [
        c
        for c in before
        if c["table"] == "volume"
        and c["keys"].get("transaction") == TRANSACTION
        and c["keys"].get("council_type") == "total"
        and c["keys"].get("region") == "total"
        and c["value"]
    ]
    assert england
    late = make_authority("E06000007", kind="unitary", region="north_east")
    submitted_response(release.survey, late, {"WEB": 777, "PHONE": 50, "F2F": 5})
    second = release_build(survey_id=release.survey_id)
    assert second.status == ReleaseStatus.READY and second.number == release.number + 1
    assert second.published_at is None and second.withheld == Withheld.SUPERSEDED
    assert selectors.release_published(survey=release.survey) == release
    assert _published_json(analyst_client, slug) == before
    overview = analyst_client.get(reverse("reporting:release-overview", args=[slug]))
    assert f"{release.number}, built".encode() in overview.content


def test_the_release_is_built_once_the_last_extension_and_its_grace_have_passed(
    small_round, django_capture_on_commit_callbacks, settings
):
    extended = small_round.responses.first()
    extended.deadline_extended_to = timezone.now() + datetime.timedelta(days=2)
    extended.save(update_fields=["deadline_extended_to"])
    end = extended.deadline_extended_to + datetime.timedelta(minutes=settings.LATE_GRACE_MINUTES)
    assert collection_end(survey=small_round) == end
    with django_capture_on_commit_callbacks(execute=True):
        assert release_build_due_task() == []  # still collecting: nothing is built
    assert not small_round.releases.exists()
    with time_machine.travel(end + datetime.timedelta(minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            (requested,) = release_build_due_task()
        release = Release.objects.get(pk=requested)
        assert release.status == ReleaseStatus.READY and release.published_at is not None
        # Published: the schedule builds nothing more, even after an answer changes.
        figure = Figure.objects.filter(response__survey=small_round).first()
        Figure.objects.filter(pk=figure.pk).update(value=figure.value + 1, version=2)
        with django_capture_on_commit_callbacks(execute=True):
            assert release_build_due_task() == []
    assert small_round.releases.count() == 1


def _make_the_audit_refuse(monkeypatch):
    """Make every audit report an exact disclosure; return the real protect."""
    real_protect = reporting_services.protect

    def failing_protect(*args, **kwargs):
        result = real_protect(*args, **kwargs)
        audit = dataclasses.replace(result.audit, exact_disclosures=("volume|x",))
        return dataclasses.replace(result, audit=audit)

    monkeypatch.setattr(reporting_services, "protect", failing_protect)
    return real_protect


def test_a_refused_build_of_the_final_answers_is_not_retried_until_they_change(
    small_round, monkeypatch
):
    real_protect = _make_the_audit_refuse(monkeypatch)
    assert release_build(survey_id=small_round.pk).status == ReleaseStatus.REFUSED
    assert release_build_if_due(survey_id=small_round.pk) is None
    monkeypatch.setattr(reporting_services, "protect", real_protect)
    figure = Figure.objects.filter(response__survey=small_round).first()
    Figure.objects.filter(pk=figure.pk).update(value=figure.value + 1, version=2)
    again = release_build_if_due(survey_id=small_round.pk)
    assert again is not None
    release_run(release_id=again.pk)
    again.refresh_from_db()
    assert again.published_at is not None


def test_one_published_release_per_round_is_enforced_by_the_database(release):
    from django.db import IntegrityError, transaction

    second = Release.objects.create(survey=release.survey, number=release.number + 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Release.objects.filter(pk=second.pk).update(
            status=ReleaseStatus.READY, published_at=timezone.now()
        )


def test_a_refused_audit_publishes_nothing(small_round, monkeypatch, analyst_client):
    _make_the_audit_refuse(monkeypatch)
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.REFUSED
    assert not ReleaseCell.objects.filter(release=release).exists()
    assert selectors.release_published(survey=small_round) is None
    page = analyst_client.get(reverse("reporting:release-overview", args=[small_round.slug]))
    assert b"refused" in page.content
    take_up = reverse("reporting:release-take-up", args=[small_round.slug])
    assert analyst_client.get(take_up).status_code == 404


def test_a_round_where_no_council_submitted_publishes_an_empty_release(survey, analyst_client):
    for gss in ("E06000001", "E06000002"):
        survey.chosen_authorities.add(make_authority(gss))
    close_round(survey)
    release = release_build(survey_id=survey.pk)
    assert release.status == ReleaseStatus.READY, release.error
    assert release.published_at is not None and release.counts["respondents"] == 0
    overview = analyst_client.get(reverse("reporting:release-overview", args=[survey.slug]))
    assert overview.status_code == 200


def test_a_response_reopened_at_the_deadline_holds_the_release_until_it_is_settled(
    small_round, django_capture_on_commit_callbacks
):
    from surveys.choices import ResponseStatus

    reopened = small_round.responses.first()
    small_round.responses.filter(pk=reopened.pk).update(status=ResponseStatus.REOPENED)
    assert not collection_finished(survey=small_round, now=timezone.now())
    assert release_build_if_due(survey_id=small_round.pk) is None
    withheld = release_build(survey_id=small_round.pk)  # on demand: built, not published
    assert withheld.withheld == Withheld.COLLECTING
    # The deadline task submits it again (its earlier submission stood): now it is due.
    small_round.responses.filter(pk=reopened.pk).update(status=ResponseStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        due = release_build_if_due(survey_id=small_round.pk)
    due.refresh_from_db()
    assert due.published_at is not None and due.counts["respondents"] == len(SMALL_ROUND)


def test_a_council_taken_out_of_the_round_is_not_counted(small_round):
    removed = small_round.responses.first()
    small_round.chosen_authorities.remove(removed.authority)
    release = release_build(survey_id=small_round.pk)
    assert release.counts["respondents"] == len(SMALL_ROUND) - 1
    assert [row[0] for row in release.inputs if row[0] == removed.pk] == []


def test_an_extension_given_while_the_release_was_building_keeps_it_unpublished(
    small_round, monkeypatch
):
    real_protect = reporting_services.protect
    late = small_round.responses.first()

    def protect_while_an_extension_is_given(*args, **kwargs):
        # Another session extends a council's deadline while this build protects the tables.
        Response.objects.filter(pk=late.pk).update(
            deadline_extended_to=timezone.now() + datetime.timedelta(days=2)
        )
        return real_protect(*args, **kwargs)

    monkeypatch.setattr(reporting_services, "protect", protect_while_an_extension_is_given)
    release = release_build(survey_id=small_round.pk)
    assert release.status == ReleaseStatus.READY
    assert release.published_at is None and release.withheld == Withheld.COLLECTING


def test_an_extension_overtaken_by_a_later_round_deadline_still_gives_its_grace(
    small_round, settings
):
    extended = small_round.responses.first()
    extended.deadline_extended_to = small_round.closes_at - datetime.timedelta(hours=1)
    extended.save(update_fields=["deadline_extended_to"])
    grace = datetime.timedelta(minutes=settings.LATE_GRACE_MINUTES)
    # As the journey allows (surveys.services.response_grace_deadline).
    assert response_grace_deadline(extended) == small_round.closes_at + grace
    assert collection_end(survey=small_round) == small_round.closes_at + grace
    assert not collection_finished(survey=small_round, now=small_round.closes_at + grace / 2)


def test_a_published_rounds_dates_and_councils_cannot_be_changed_in_the_admin(
    release, admin_client
):
    url = reverse("admin:surveys_survey_change", args=[release.survey_id])
    page = admin_client.get(url).content.decode()
    for field in ("closes_at_0", "opens_at_0", "status", "chosen_authorities"):
        assert f'name="{field}"' not in page, field
    assert 'name="name"' in page  # the rest stays editable


def test_an_unpublished_rounds_dates_can_be_changed_in_the_admin(small_round, admin_client):
    url = reverse("admin:surveys_survey_change", args=[small_round.pk])
    assert 'name="closes_at_0"' in admin_client.get(url).content.decode()


def test_a_save_committed_after_the_answers_were_read_withholds_that_release(
    small_round, monkeypatch, django_capture_on_commit_callbacks
):
    """A save that passed its deadline check just before the deadline can commit while the
    build runs: that build is not published, and the next one (holding it) is."""
    real_protect = reporting_services.protect
    figure = Figure.objects.filter(response__survey=small_round).first()

    def protect_while_a_save_commits(*args, **kwargs):
        Figure.objects.filter(pk=figure.pk).update(
            value=figure.value + 5, version=figure.version + 1, updated_at=timezone.now()
        )
        return real_protect(*args, **kwargs)

    monkeypatch.setattr(reporting_services, "protect", protect_while_a_save_commits)
    first = release_build(survey_id=small_round.pk)
    assert first.status == ReleaseStatus.READY and first.published_at is None
    monkeypatch.setattr(reporting_services, "protect", real_protect)
    with django_capture_on_commit_callbacks(execute=True):
        second = release_build_if_due(survey_id=small_round.pk)
    second.refresh_from_db()
    assert second.published_at is not None and second.number == first.number + 1


@pytest.mark.django_db(transaction=True)
def test_fingerprints_are_read_beside_the_answers_in_the_same_snapshot(small_round, monkeypatch):
    """A build of its own (a worker's) reads the answers' fingerprints on a second connection
    while it loads the answers: both see the snapshot the build opened, not a save committed
    after it, and the check before publishing still sees that save."""
    figure = Figure.objects.filter(response__survey=small_round).first()
    before = reporting_services.release_inputs(survey=small_round)
    main = threading.current_thread()
    saved = threading.Event()
    readers = []
    real_inputs, real_load = reporting_services.release_inputs, reporting_services.release_load

    def inputs_once_the_save_is_in(*, survey):
        if threading.current_thread() is not main:
            readers.append(threading.current_thread().name)
            assert saved.wait(10)
        return real_inputs(survey=survey)

    def save_then_load(**kwargs):
        def save():
            try:
                Figure.objects.filter(pk=figure.pk).update(
                    value=figure.value + 5, version=figure.version + 1, updated_at=timezone.now()
                )
            finally:
                connection.close()

        saver = threading.Thread(target=save)
        saver.start()
        saver.join()
        saved.set()
        return real_load(**kwargs)

    monkeypatch.setattr(reporting_services, "release_inputs", inputs_once_the_save_is_in)
    monkeypatch.setattr(reporting_services, "release_load", save_then_load)
    built = release_build(survey_id=small_round.pk)

    assert readers and readers[0].startswith("release-inputs")
    assert built.status == ReleaseStatus.READY, built.error
    assert built.inputs == before  # the snapshot's, not the saved figure's
    assert real_inputs(survey=small_round) != before
    assert built.published_at is None and built.withheld == Withheld.COLLECTING


def test_a_build_keeps_the_fingerprints_as_text_and_stores_the_same_record(release, small_round):
    """The build keeps the answers' fingerprints as their JSON text until the release is
    stored: the stored record and its fingerprint are what the rows themselves give."""
    rows = reporting_services.release_inputs(survey=small_round)
    rules = release.rules
    assert rules and isinstance(rules, dict)
    text = reporting_services._inputs_text(survey=small_round)
    assert json.loads(text) == rows == release.inputs
    assert reporting_services._text_fingerprint(text, rules) == (
        reporting_services._fingerprint(rows, rules)
    )
    assert release.inputs_fingerprint == reporting_services._fingerprint(rows, rules)


def test_any_write_to_a_response_s_answers_changes_its_fingerprint_and_no_other(small_round):
    """On PostgreSQL the fingerprints come from each response's count of writes to its
    answers, kept by the database: an update that leaves version and updated_at as they
    were, a new answer and a deleted one each change that response's fingerprint, and only
    its own. The count is the database's: a rolled-back write leaves it as it was."""
    assert connection.vendor == "postgresql"
    figure = Figure.objects.filter(response__survey=small_round).order_by("pk").first()
    mine = figure.response_id

    def fingerprints():
        return {
            pk: stamp for pk, _gss, stamp in reporting_services.release_inputs(survey=small_round)
        }

    seen = [fingerprints()]
    assert mine in seen[0]

    def written(write):
        write()
        now = fingerprints()
        changed = {pk for pk in now if now[pk] != seen[-1][pk]}
        seen.append(now)
        return changed

    # Same value, same version, same time: only the database knows it was written.
    assert written(lambda: Figure.objects.filter(pk=figure.pk).update(value=figure.value)) == {mine}
    answer = TransactionAnswer.objects.filter(response_id=mine).first()
    assert written(
        lambda: TransactionAnswer.objects.filter(pk=answer.pk).update(end_to_end="")
    ) == {mine}
    question = Question.objects.filter(section__questionnaire=small_round.questionnaire).first()
    assert written(lambda: Answer.objects.create(response_id=mine, question=question, value=3)) == {
        mine
    }
    assert written(lambda: Answer.objects.filter(response_id=mine).delete()) == {mine}

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            Figure.objects.filter(pk=figure.pk).update(value=figure.value + 1)
            raise RuntimeError

    assert written(rolled_back) == set()
    assert len(seen[0]) > 1  # the other responses were there, and kept their fingerprints
