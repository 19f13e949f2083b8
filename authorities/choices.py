from django.db import models


class AuthorityKind(models.TextChoices):
    """Types of English principal council, as in the reference data."""

    COUNTY = "county", "County council"
    DISTRICT = "district", "Non-metropolitan district"
    UNITARY = "unitary", "Unitary authority"
    METROPOLITAN = "metropolitan", "Metropolitan borough"
    LONDON_BOROUGH = "london_borough", "London borough"
    CITY_OF_LONDON = "city_of_london", "City of London"
    ISLES_OF_SCILLY = "isles_of_scilly", "Isles of Scilly"


class Region(models.TextChoices):
    """The nine English regions."""

    NORTH_EAST = "north_east", "North East"
    NORTH_WEST = "north_west", "North West"
    YORKSHIRE = "yorkshire", "Yorkshire and The Humber"
    EAST_MIDLANDS = "east_midlands", "East Midlands"
    WEST_MIDLANDS = "west_midlands", "West Midlands"
    EAST = "east", "East of England"
    LONDON = "london", "London"
    SOUTH_EAST = "south_east", "South East"
    SOUTH_WEST = "south_west", "South West"


class Tier(models.TextChoices):
    """Which tier normally delivers a service: two-tier areas split it."""

    COUNTY = "C", "County"
    DISTRICT = "D", "District"
    UNITARY = "U", "Unitary (all services)"


TIER_BY_KIND = {
    AuthorityKind.COUNTY: Tier.COUNTY,
    AuthorityKind.DISTRICT: Tier.DISTRICT,
}


class LinkKind(models.TextChoices):
    COUNCIL = "council", "Council link (chief executive)"
    CONTRIBUTOR = "contributor", "Contributor link"
