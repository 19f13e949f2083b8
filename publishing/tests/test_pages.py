"""The public statistics pages and the staff pages that prepare them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.http import http_date

from publishing import services
from publishing.models import PublicRelease, PublicReleaseStatus
from reporting.publication import Publication
from reporting.tests.census import Census
from survey_site.formatting import date_text, datetime_text
from survey_site.roles import ANALYSTS, roles_ensure

from .test_services import a_published_figure

PASSWORD = "a-long-test-password"


@pytest.fixture
def drafter(db) -> User:
    """An analyst: drafts and previews, never publishes."""
    roles_ensure()
    user = User.objects.create_user("drafter", password=PASSWORD)
    user.groups.add(Group.objects.get(name=ANALYSTS))
    return user


def publish(survey, user, *, title="Digital channels of English councils", findings=(), note=""):
    draft = services.draft_start(survey=survey, user=user)
    services.draft_update(draft, title=title, summary="", findings=list(findings), change_note=note)
    return services.publish(draft=draft, user=user)


def public_url(survey) -> str:
    return reverse("publishing:release", args=[survey.slug])


def manage_url(survey, page: str = "round") -> str:
    return reverse(f"publishing:manage-{page}", args=[survey.slug])


def unpublished_figure(publication: Publication) -> str:
    figures = services.published_figures(publication)
    return next(f"{n:,}" for n in range(7919, 100000) if f"{n:,}" not in figures)


def body(html: str) -> str:
    """The release itself: findings, tables, methods and downloads (not its dates)."""
    start = html.index('<div class="app-release-body">')
    return html[start : html.index('id="updates"', start)]


# --- The public pages ------------------------------------------------------------------


def test_anyone_reads_the_live_release_and_caches_keep_it_until_it_changes(
    published_round, publisher, client
):
    publication = Publication.of(published_round)
    figure = a_published_figure(publication)
    live = publish(published_round, publisher, findings=[f"{figure} is a published figure."])

    listing = client.get(reverse("publishing:index"))
    assert listing.status_code == 200
    assert live.title in listing.content.decode()
    page = client.get(public_url(published_round))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"{figure} is a published figure." in html
    published = re.escape(date_text(live.published_at))
    assert re.search(rf"Published</dt>\s*<dd[^>]*>{published}</dd>", html)
    for section in (
        "about-response",
        "about-channels",
        "about-take-up",
        "about-costs",
        "methods",
        "downloads",
    ):
        assert f'id="{section}"' in html, section
    # Each chart is followed by its table; the response rate is a cell, not a side number.
    for chart, table in (
        ("rates-chart", publication.response_rates()),
        ("take-up-chart", publication.take_up()),
    ):
        assert html.index(f'id="{chart}-title"') < html.index(f'id="{table.slug}"'), chart
    assert 'data-cell="response_rate|total|total"' in html
    for ending in (".ods", ".xlsx", "cells.csv", "cells.csv-metadata.json"):
        assert f"/statistics/{published_round.slug}/version-1/" in html and ending in html
    assert "[c]" in html and "[x]" in html and "[z]" in html
    assert "Sign out" not in html and 'content="index, follow"' in html
    # The same for everyone: public caching, no cookie read, revalidated by date.
    assert set(page["Cache-Control"].split(", ")) == {"public", "no-cache"}
    assert "Cookie" not in page.get("Vary", "") and not page.cookies
    again = client.get(public_url(published_round), HTTP_IF_MODIFIED_SINCE=page["Last-Modified"])
    assert again.status_code == 304
    assert page["Last-Modified"] == http_date(live.published_at.timestamp())


def test_the_channel_mix_shows_the_chosen_transaction_only_if_it_is_one(
    published_round, publisher, client
):
    publish(published_round, publisher)
    transactions = Publication.of(published_round).transactions
    slug, name = list(transactions.items())[-1]
    page = client.get(public_url(published_round), {"transaction": slug})
    assert f"Share of transactions by channel, England: {name}" in page.content.decode()
    assert client.get(public_url(published_round), {"transaction": "<x>"}).status_code == 404
    assert client.post(public_url(published_round)).status_code == 405


def test_drafts_are_invisible_to_the_public(published_round, publisher, client):
    draft = services.draft_start(survey=published_round, user=publisher)
    services.draft_update(draft, title="Secret draft", summary="", findings=[], change_note="")
    assert client.get(public_url(published_round)).status_code == 404
    assert "Secret draft" not in client.get(reverse("publishing:index")).content.decode()
    version = reverse("publishing:version", args=[published_round.slug, 1])
    assert client.get(version).status_code == 404
    services.publish(draft=draft, user=publisher)
    later = services.draft_start(survey=published_round, user=publisher)
    services.draft_update(later, title="Next draft", summary="", findings=[], change_note="x")
    html = client.get(public_url(published_round)).content.decode()
    assert "Secret draft" in html and "Next draft" not in html
    assert (
        client.get(reverse("publishing:version", args=[published_round.slug, 2])).status_code == 404
    )


def test_a_replaced_version_redirects_to_the_latest_with_its_change_notes(
    published_round, publisher, client
):
    first = publish(published_round, publisher, title="First words")
    second = publish(published_round, publisher, title="Second words", note="Clearer title.")
    old = client.get(reverse("publishing:version", args=[published_round.slug, 1]))
    assert old.status_code == 302 and old["Location"] == public_url(published_round)
    html = client.get(public_url(published_round)).content.decode()
    assert "Second words" in html and "First words" not in html
    assert f"Version 2, {datetime_text(second.published_at)}: " in html
    assert "Clearer title." in html
    assert f"Version 1, {datetime_text(first.published_at)}: first published." in html
    assert "Last updated</dt>" in html and date_text(first.published_at) in html


def test_a_withdrawn_release_says_when_and_why_and_shows_no_figures(
    published_round, publisher, client
):
    live = publish(published_round, publisher)
    services.withdraw(public=live, user=publisher, reason="Councils were counted twice.")
    live.refresh_from_db()
    page = client.get(public_url(published_round))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"This release was withdrawn on {date_text(live.withdrawn_at)}" in html
    assert "Councils were counted twice." in html
    assert "data-cell" not in html and "<table" not in html and "<svg role" not in html
    assert "version-1/" not in html and ".ods" not in html and ".xlsx" not in html
    listing = client.get(reverse("publishing:index")).content.decode()
    assert "Withdrawn" in listing


# --- Preparing and publishing ------------------------------------------------------------


def test_staff_pages_need_the_right_role(published_round, drafter, publisher, client):
    slug = published_round.slug
    urls = [reverse("publishing:manage"), manage_url(published_round)]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    nobody = User.objects.create_user("nobody", password=PASSWORD, is_staff=True)
    client.force_login(nobody)
    for url in [*urls, manage_url(published_round, "preview")]:
        assert client.get(url).status_code == 403, url
    client.force_login(drafter)
    assert client.get(reverse("publishing:manage")).status_code == 200
    saved = client.post(manage_url(published_round), {"title": "Drafted", "finding-1": "Fine."})
    assert saved.status_code == 302
    assert client.get(manage_url(published_round, "preview")).status_code == 200
    # Analysts draft; only administrators publish and withdraw.
    for page in ("publish", "withdraw"):
        assert client.get(manage_url(published_round, page)).status_code == 403
        assert client.post(manage_url(published_round, page)).status_code == 403
    assert services.live(published_round) is None
    client.force_login(publisher)
    confirm = client.get(manage_url(published_round, "publish"))
    assert confirm.status_code == 200 and b"Publish version 1?" in confirm.content
    done = client.post(manage_url(published_round, "publish"), follow=True)
    assert b"Version 1 is published" in done.content
    assert b"govuk-notification-banner--success" in done.content
    live = services.live(published_round)
    assert live.published_by == publisher and live.title == "Drafted"
    assert client.get(f"/statistics/{slug}/").status_code == 200


def test_a_finding_quoting_an_unpublished_figure_is_refused_and_kept(
    published_round, drafter, client
):
    client.force_login(drafter)
    publication = Publication.of(published_round)
    bad = unpublished_figure(publication)
    typed = {
        "title": "Results",
        "summary": "What councils said.",
        "finding-1": "",  # left empty: the problem is still shown against the third
        "finding-2": "A finding without figures.",
        "finding-3": f"Up by {bad} transactions.",
    }
    page = client.post(manage_url(published_round), typed)
    html = page.content.decode()
    assert page.status_code == 200
    assert "govuk-error-summary" in html and "<title>Error: " in html
    assert f'<a href="#finding-3">‘{bad}’ in finding 2 is not a published figure' in html
    assert 'id="finding-3-error"' in html
    for value in typed.values():
        assert value in html  # nothing typed is lost
    assert not PublicRelease.objects.filter(survey=published_round).exists()

    blank = client.post(manage_url(published_round), {"title": " ", "finding-1": "x" * 401})
    assert b'<a href="#title">Enter a title</a>' in blank.content
    assert b'<a href="#finding-1">Finding 1 must be 400 characters or fewer</a>' in blank.content


def test_publishing_a_later_version_needs_a_change_note(published_round, publisher, client):
    publish(published_round, publisher)
    client.force_login(publisher)
    assert client.post(manage_url(published_round), {"title": "Better words"}).status_code == 302
    confirm = client.get(manage_url(published_round, "publish")).content.decode()
    assert (
        "There is a problem" in confirm and f"{manage_url(published_round)}#change-note" in confirm
    )
    refused = client.post(manage_url(published_round, "publish"))
    assert refused.status_code == 200 and b"Say what changed" in refused.content
    assert services.live(published_round).version == 1
    form = client.get(manage_url(published_round)).content.decode()
    assert 'id="change-note"' in form
    # A change note is published too: it may quote only published figures.
    bad = unpublished_figure(Publication.of(published_round))
    typed = {"title": "Better words", "change-note": f"Fixed {bad} cells."}
    refused = client.post(manage_url(published_round), typed).content.decode()
    assert f'<a href="#change-note">‘{bad}’ in the change note is not a published' in refused
    assert f"Fixed {bad} cells." in refused


def test_withdrawing_needs_a_reason(published_round, publisher, client):
    publish(published_round, publisher)
    client.force_login(publisher)
    page = client.get(manage_url(published_round, "withdraw")).content.decode()
    assert "govuk-warning-text" in page
    refused = client.post(manage_url(published_round, "withdraw"), {"reason": "  "})
    assert b'<a href="#reason">Enter why the release is withdrawn</a>' in refused.content
    bad = unpublished_figure(Publication.of(published_round))
    refused = client.post(manage_url(published_round, "withdraw"), {"reason": f"{bad} wrong."})
    assert f'<a href="#reason">‘{bad}’ in the reason is not a published'.encode() in refused.content
    assert services.live(published_round).version == 1
    done = client.post(
        manage_url(published_round, "withdraw"), {"reason": "A wrong register."}, follow=True
    )
    assert b"Version 1 is withdrawn" in done.content
    public = PublicRelease.objects.get(survey=published_round)
    assert public.status == PublicReleaseStatus.WITHDRAWN and public.withdrawn_by == publisher
    # Nothing left to withdraw: a message, never an error page.
    again = client.post(manage_url(published_round, "withdraw"), {"reason": "Again"}, follow=True)
    assert b"nothing to withdraw" in again.content


def test_the_preview_is_the_public_rendering_of_the_draft(published_round, publisher, client):
    publication = Publication.of(published_round)
    figure = a_published_figure(publication)
    client.force_login(publisher)
    client.post(
        manage_url(published_round),
        {"title": "Preview me", "summary": "In short.", "finding-1": f"{figure} of them."},
    )
    preview = client.get(manage_url(published_round, "preview")).content.decode()
    assert "Preview: not published" in preview and 'content="noindex, nofollow"' in preview
    client.post(manage_url(published_round, "publish"))
    client.logout()
    public = client.get(public_url(published_round)).content.decode()
    assert "Preview: not published" not in public
    assert body(preview) == body(public)
    assert f"{figure} of them." in body(public)


# --- Every number the public can see ------------------------------------------------------


def public_metadata(survey) -> dict[str, str]:
    """What the public pages say about the versions themselves: numbers and dates."""
    phrases = {}
    for public in PublicRelease.objects.filter(survey=survey):
        phrases[f"Version {public.version}"] = "the version's number"
        phrases[f"version {public.version}"] = "the version's number"
        for moment in (public.published_at, public.withdrawn_at):
            if moment is not None:
                phrases[datetime_text(moment)] = "when the version was published or withdrawn"
                phrases[date_text(moment)] = "when the version was published or withdrawn"
    return phrases


def public_census(client, survey) -> list[str]:
    """Every number of the public pages (each transaction's channel mix too), and the
    preview of the round's draft if any, checked against the release's cells."""
    publication = Publication.of(survey)
    check = Census(publication, extra=public_metadata(survey))
    urls = [reverse("publishing:index"), public_url(survey)]
    if services.live(survey):
        urls += [f"{public_url(survey)}?transaction={t}" for t in publication.transactions]
    if services.draft_of(survey):
        urls.append(manage_url(survey, "preview"))
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200, url
        check.page(url, page.content.decode())
    return check.problems


def test_the_census_of_the_public_pages_finds_only_cells_labels_and_constants(
    published_round, publisher, client
):
    publication = Publication.of(published_round)
    figures = sorted(
        {f"{cell['value']:.1f}%" for cell in publication.cells() if cell["value"] is not None}
    )
    publish(published_round, publisher, findings=[f"{figures[0]} said so.", "No figure here."])
    publish(published_round, publisher, findings=[f"{figures[-1]} did."], note="A new finding.")
    draft = services.draft_start(survey=published_round, user=publisher)
    services.draft_update(draft, title="Third", summary="", findings=[], change_note="Shorter.")
    client.force_login(publisher)
    assert public_census(client, published_round) == []

    # The census can fail: words that bypassed the service, a figure typed into a change note.
    PublicRelease.objects.filter(pk=draft.pk).update(
        findings=[f"Up {unpublished_figure(publication)}."]
    )
    assert len(public_census(client, published_round)) == 1
    PublicRelease.objects.filter(pk=draft.pk).update(
        findings=[], change_note=f"Fixed {unpublished_figure(publication)} cells."
    )
    assert public_census(client, published_round) != []

    live = services.live(published_round)
    draft.delete()
    services.withdraw(public=live, user=publisher, reason="Withdrawn for checks.")
    assert public_census(client, published_round) == []
    html = client.get(public_url(published_round)).content.decode()
    assert re.search(r"withdrawn on \d+ \w+ \d{4}", html)
