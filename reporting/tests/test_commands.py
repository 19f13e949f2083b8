"""The operators' commands: generate_responses, export_responses, build_release, export_release."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from reporting.models import Release, ReleaseStatus
from reporting.synthetic import SYNTHETIC_ACTOR
from surveys.models import Figure, Response
from surveys.tests.factories import make_authority

pytestmark = pytest.mark.django_db


@pytest.fixture
def synthetic_round(survey):
    for number, (kind, region) in enumerate(
        [("unitary", "north_east")] * 3 + [("district", "east")] * 3, start=1
    ):
        prefix = "E06" if kind == "unitary" else "E07"
        survey.chosen_authorities.add(
            make_authority(f"{prefix}{number:06d}", kind=kind, region=region)
        )
    return survey


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_generate_responses_submits_one_synthetic_response_per_council(synthetic_round):
    output = _run("generate_responses", synthetic_round.slug, "--seed", "7")
    assert "6 synthetic responses" in output
    responses = Response.objects.filter(survey=synthetic_round)
    assert responses.count() == 6
    assert set(responses.values_list("status", flat=True)) == {"submitted"}
    figures = Figure.objects.filter(response__survey=synthetic_round)
    assert figures.exists()
    assert set(figures.values_list("updated_by", flat=True)) == {SYNTHETIC_ACTOR}
    assert figures.filter(not_recorded=True).exists() or figures.count() < 50
    # Running it again replaces the synthetic answers; nothing doubles.
    count = figures.count()
    _run("generate_responses", synthetic_round.slug, "--seed", "7")
    assert Figure.objects.filter(response__survey=synthetic_round).count() == count


def test_generate_responses_scale_makes_copies_with_new_codes(synthetic_round):
    _run("generate_responses", synthetic_round.slug, "--scale", "2")
    codes = set(
        Response.objects.filter(survey=synthetic_round).values_list(
            "authority__gss_code", flat=True
        )
    )
    assert len(codes) == 12
    assert all(code[:3] in ("E06", "E07") and len(code) == 9 for code in codes)


def test_generate_responses_refuses_real_rounds_and_bad_input(small_round):
    with pytest.raises(CommandError, match="real responses"):
        _run("generate_responses", small_round.slug)
    with pytest.raises(CommandError, match="No survey round"):
        _run("generate_responses", "no-such-round")
    with pytest.raises(CommandError, match="scale"):
        _run("generate_responses", small_round.slug, "--scale", "0")


def test_export_responses_writes_raw_figures_without_free_text(small_round, tmp_path):
    target = tmp_path / "raw.csv"
    _run("export_responses", small_round.slug, "--output", str(target))
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0] == [
        "gss_code",
        "council_type",
        "region",
        "transaction",
        "channel",
        "figure",
        "not_recorded",
        "estimate",
    ]
    assert len(rows) == 1 + 6 * 3
    assert [
        "E06000006",
        "unitary",
        "north_west",
        "pay-council-tax",
        "WEB",
        "50000",
        "no",
        "no",
    ] in rows
    with pytest.raises(CommandError):
        _run("export_responses", "no-such-round", "--output", str(target))


def test_build_and_export_release(small_round, tmp_path):
    with pytest.raises(CommandError, match="no published release"):
        _run(
            "export_release", small_round.slug, "--format", "json", "--output", str(tmp_path / "x")
        )
    output = _run("build_release", small_round.slug)
    release = Release.objects.get(survey=small_round)
    assert release.status == ReleaseStatus.READY
    assert f"Release {release.pk}" in output and "Audit: passed" in output
    assert "Published: analysts now see this release" in output
    json_path = tmp_path / "release.json"
    _run("export_release", small_round.slug, "--format", "json", "--output", str(json_path))
    document = json.loads(json_path.read_text())
    assert len(document["cells"]) == release.cells.count()
    hidden = [c for c in document["cells"] if c["value"] is None and c.get("symbol") == "[c]"]
    assert hidden
    assert document["relations"] and set(document["relations"][0]) == {"total", "parts"}
    ids = {c["id"] for c in document["cells"]}
    assert all(r["total"] in ids and set(r["parts"]) <= ids for r in document["relations"])
    text = json_path.read_text()
    for secret in ("min_contributors", "p_percent", "rules", "group_min_size"):
        assert secret not in text
    xlsx_path = tmp_path / "release.xlsx"
    _run("export_release", small_round.slug, "--format", "xlsx", "--output", str(xlsx_path))
    assert "Notes" in load_workbook(xlsx_path).sheetnames
    csv_path = tmp_path / "release.csv"
    _run("export_release", small_round.slug, "--format", "csv", "--output", str(csv_path))
    assert len(csv_path.read_text().splitlines()) == 1 + release.cells.count()
    with pytest.raises(CommandError):
        _run("export_release", small_round.slug, "--format", "pdf", "--output", str(csv_path))


def test_build_release_of_unknown_round_fails():
    with pytest.raises(CommandError, match="No survey round"):
        _run("build_release", "no-such-round")


def test_export_responses_leaves_out_figures_the_councils_answer_withdrew(small_round, tmp_path):
    from reporting.services import release_catalogue, release_load
    from reporting.tables import counted_figures
    from surveys.models import TransactionAnswer

    pay = TransactionAnswer.objects.filter(response__survey=small_round)
    # After entering figures, one council said another organisation provides the service,
    # one that it is not its responsibility, and one took face to face off: the figures
    # stay saved (answering "yes" again restores them) but no longer stand.
    pay.filter(response__authority__gss_code="E06000001").update(provision="other_organisation")
    pay.filter(response__authority__gss_code="E06000002").update(provision="not_responsible")
    pay.filter(response__authority__gss_code="E06000003").update(channels_offered=["WEB", "PHONE"])
    assert Figure.objects.filter(response__survey=small_round).count() == 6 * 3
    target = tmp_path / "raw.csv"
    _run("export_responses", small_round.slug, "--output", str(target))
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert len(rows[0]) == 8  # the same columns
    exported = {(r[0], r[3], r[4]): r[5] for r in rows[1:]}
    assert not any(gss in ("E06000001", "E06000002") for gss, _, _ in exported)
    assert ("E06000003", "pay-council-tax", "F2F") not in exported
    assert exported[("E06000003", "pay-council-tax", "WEB")] == "900"
    assert len(rows) == 1 + 3 * 3 + 2
    # Exactly the figures a release counts (grouped in pandas: the same cells as the
    # database's grouping, see test_grouping).
    catalogue = release_catalogue(survey=small_round)
    counted = counted_figures(release_load(survey=small_round, catalogue=catalogue, grouped=False))
    assert exported == {
        (r.gss, r.transaction, r.channel): str(int(r.value)) for r in counted.itertuples()
    }
