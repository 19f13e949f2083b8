"""The committed reference data gives both survey populations exactly."""

from collections import Counter

import pytest

from authorities.choices import AuthorityKind as K
from authorities.choices import Region as R
from authorities.choices import Tier
from authorities.models import ENGLAND_2015_DATE, Authority

pytestmark = pytest.mark.usefixtures("councils")


def test_reference_data_holds_every_council_since_2015():
    assert Authority.objects.count() == 365


def test_population_2015_has_353_councils_by_type():
    councils = Authority.objects.existing_on(ENGLAND_2015_DATE)
    assert Counter(councils.values_list("kind", flat=True)) == {
        K.COUNTY: 27,
        K.DISTRICT: 201,
        K.UNITARY: 55,
        K.METROPOLITAN: 36,
        K.LONDON_BOROUGH: 32,
        K.CITY_OF_LONDON: 1,
        K.ISLES_OF_SCILLY: 1,
    }


def test_population_2015_by_region_and_type_matches_published_table():
    councils = Authority.objects.existing_on(ENGLAND_2015_DATE)
    cells = Counter(councils.values_list("region", "kind"))
    assert cells[(R.SOUTH_EAST, K.DISTRICT)] == 55
    assert cells[(R.SOUTH_WEST, K.ISLES_OF_SCILLY)] == 1
    assert cells[(R.YORKSHIRE, K.COUNTY)] == 1
    assert cells[(R.NORTH_EAST, K.METROPOLITAN)] == 5
    assert Counter(councils.values_list("region", flat=True)) == {
        R.EAST_MIDLANDS: 45,
        R.EAST: 52,
        R.LONDON: 33,
        R.NORTH_EAST: 12,
        R.NORTH_WEST: 41,
        R.SOUTH_EAST: 74,
        R.SOUTH_WEST: 41,
        R.WEST_MIDLANDS: 33,
        R.YORKSHIRE: 22,
    }


def test_current_population_has_317_councils_by_type():
    councils = Authority.objects.current()
    assert Counter(councils.values_list("kind", flat=True)) == {
        K.COUNTY: 21,
        K.DISTRICT: 164,
        K.UNITARY: 62,
        K.METROPOLITAN: 36,
        K.LONDON_BOROUGH: 32,
        K.CITY_OF_LONDON: 1,
        K.ISLES_OF_SCILLY: 1,
    }


def test_somerset_west_and_taunton_is_in_neither_population():
    council = Authority.objects.get(official_name__startswith="Somerset West and Taunton")
    assert not council.existed_on(ENGLAND_2015_DATE)
    assert council.end_date is not None


def test_every_2015_district_has_a_county_in_the_same_region():
    districts = Authority.objects.existing_on(ENGLAND_2015_DATE).filter(kind=K.DISTRICT)
    assert districts.count() == 201
    for district in districts.select_related("county"):
        assert district.county is not None, district
        assert district.county.region == district.region, district


def test_forest_heath_county_correction_is_kept():
    assert Authority.objects.get(short_name="Forest Heath").county.short_name == "Suffolk"


def test_tiers_follow_the_council_type():
    assert Authority.objects.get(gss_code="E10000002").tier == Tier.COUNTY  # Buckinghamshire CC
    assert Authority.objects.filter(kind=K.DISTRICT).first().tier == Tier.DISTRICT
    assert Authority.objects.get(gss_code="E06000053").tier == Tier.UNITARY  # Isles of Scilly


def test_former_gss_codes_are_kept_for_renumbered_councils():
    council = Authority.objects.get(gss_code="E07000242")
    assert council.former_gss_codes == ["E07000097"]


def test_name_2015_is_kept_only_where_it_differs():
    names = dict(Authority.objects.exclude(name_2015="").values_list("gss_code", "name_2015"))
    assert len(names) == 3
    assert any("Shepway" in name for name in names.values())
