"""Successor councils from the register's replaced_by, on the committed reference data."""

import csv
import datetime
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from authorities.admin import AuthorityAdmin
from authorities.models import ENGLAND_2015_DATE, Authority
from authorities.selectors import area_on, predecessors, same_council, successor_of

from .conftest import REFERENCE_CSV

TODAY = datetime.date(2025, 7, 1)
NORTH_YORKSHIRE_2015 = {"CRA", "HAE", "HAG", "RIH", "RYE", "SCE", "SEL", "NYK"}


def by_code(code: str) -> Authority:
    return Authority.objects.get(code=code)


def codes(councils) -> set[str]:
    return {a.code for a in councils}


def reference_successors() -> dict[str, set[str]]:
    with REFERENCE_CSV.open(newline="", encoding="utf-8") as handle:
        return {
            row["local_authority_code"]: set(row["replaced_by"].split(","))
            for row in csv.DictReader(handle)
            if row["replaced_by"]
        }


def test_import_stores_every_successor_of_the_register(councils):
    expected = reference_successors()
    stored = {
        a.code: codes(a.successors.all())
        for a in Authority.objects.prefetch_related("successors")
        if a.successors.exists()
    }
    assert stored == expected
    # Every council abolished since 2015 (365 in the file, 317 current) has a successor.
    assert set(expected) == codes(Authority.objects.filter(end_date__isnull=False))
    assert len(expected) == 48


def test_importing_again_changes_no_successor(councils):
    out = StringIO()
    call_command("import_authorities", REFERENCE_CSV, stdout=out)
    assert "0 created, 0 updated, 365 unchanged" in out.getvalue()


def test_the_north_yorkshire_districts_of_2015_map_to_north_yorkshire_council(councils):
    north_yorkshire = by_code("NYE")
    for code in NORTH_YORKSHIRE_2015:
        assert successor_of(by_code(code), on=TODAY) == [north_yorkshire], code
        assert successor_of(by_code(code), on=ENGLAND_2015_DATE) == [by_code(code)]
    area = area_on(north_yorkshire, ENGLAND_2015_DATE)
    assert codes(area.councils) == NORTH_YORKSHIRE_2015 and area.whole
    assert codes(predecessors(north_yorkshire)) == NORTH_YORKSHIRE_2015
    assert predecessors(north_yorkshire, on=TODAY) == [north_yorkshire]


def test_northamptonshire_was_split_between_two_councils(councils):
    county = by_code("NTH")
    assert codes(successor_of(county, on=TODAY)) == {"NNT", "WNT"}
    north = area_on(by_code("NNT"), ENGLAND_2015_DATE)
    assert codes(north.councils) == {"COR", "ENO", "KET", "WEL", "NTH"}
    assert north.split == (county,) and not north.whole


def test_successions_chain_through_later_reorganisations(councils):
    taunton = by_code("TAU")
    assert successor_of(taunton, on=datetime.date(2020, 7, 1)) == [by_code("SWT")]
    assert successor_of(taunton, on=TODAY) == [by_code("SMT")]
    somerset = area_on(by_code("SMT"), ENGLAND_2015_DATE)
    assert codes(somerset.councils) == {"SOM", "MEN", "SEG", "SSO", "TAU", "WSO"}
    assert somerset.whole
    # In 2020 Somerset West and Taunton stood where Taunton Deane and West Somerset had.
    assert codes(area_on(by_code("SMT"), datetime.date(2020, 7, 1)).councils) == {
        "SOM",
        "MEN",
        "SEG",
        "SSO",
        "SWT",
    }


def test_a_council_before_it_existed_has_no_successor(councils):
    assert successor_of(by_code("NYE"), on=ENGLAND_2015_DATE) == []
    assert area_on(by_code("HPL"), ENGLAND_2015_DATE).councils == (by_code("HPL"),)


def test_a_former_gss_code_is_the_same_council(councils):
    gateshead = by_code("GAT")
    assert gateshead.former_gss_codes == ["E08000020"]
    assert same_council(gateshead) == [gateshead]


def test_a_successor_that_is_not_a_council_is_refused(councils, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("gss_code,replaced_by\nE07000163,ZZZ\nE07000164,HAE\n", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_authorities", path, stdout=StringIO(), stderr=err)
    assert "Row 2, replaced_by: ZZZ is not a council" in err.getvalue()
    assert "Row 3, replaced_by: A council cannot replace itself" in err.getvalue()
    assert codes(by_code("CRA").successors.all()) == {"NYE"}


def test_successors_may_be_given_by_gss_code_and_changed(councils, tmp_path):
    path = tmp_path / "change.csv"
    north_yorkshire = by_code("NYE")
    path.write_text(f"gss_code,replaced_by\nE07000163,{north_yorkshire.gss_code} SEL\n")
    call_command("import_authorities", path, stdout=StringIO())
    assert codes(by_code("CRA").successors.all()) == {"NYE", "SEL"}


def test_the_data_migration_fills_successors_of_an_existing_database(councils):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("authorities.migrations.0007_fill_authority_successors")
    for council in Authority.objects.all():
        council.successors.clear()
    migration.fill(apps, None)
    assert codes(by_code("NTH").successors.all()) == {"NNT", "WNT"}
    assert Authority.successors.through.objects.count() == sum(
        len(s) for s in reference_successors().values()
    )


def test_the_admin_shows_successions_read_only(councils, admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    model_admin = AuthorityAdmin(Authority, site)
    readonly = model_admin.get_readonly_fields(request, by_code("NYE"))
    assert {"replaced_by", "replaced"} <= set(readonly)
    form = model_admin.get_form(request, by_code("NYE"))
    assert "successors" not in form.base_fields
    assert model_admin.replaced_by(by_code("CRA")) == "North Yorkshire Council (NYE)"
    assert "Craven District Council (CRA)" in model_admin.replaced(by_code("NYE"))
