from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from authorities.choices import TIER_BY_KIND, AuthorityKind, LinkKind, Region, Tier

GSS_CODE_PATTERN = r"^E(06|07|08|09|10)\d{6}$"
gss_code_validator = RegexValidator(
    GSS_CODE_PATTERN, "Enter a GSS code like E06000001 (E06, E07, E08, E09 or E10 and 6 digits)"
)
three_letter_code_validator = RegexValidator(r"^[A-Z]{3}$", "Enter a three-letter code like HPL")
# Synthetic councils for scale tests (reporting.services) carry four-character codes
# starting with a digit, which no real council has.
council_code_validator = RegexValidator(
    r"^([A-Z]{3}|[0-9][A-Z0-9]{3})$", "Enter a three-letter code like HPL"
)
# The 2015 round's fieldwork date: its population is the councils existing that day.
ENGLAND_2015_DATE = datetime.date(2015, 7, 1)

# A UK telephone number as people write it: spaces, hyphens and brackets are allowed
# around 10 or 11 digits starting 0, or +44 and 9 or 10 digits.
UK_PHONE_PATTERN = r"^(?:\+44\s?(?:\(0\)\s?)?|\(?0)[\d\s()-]{8,16}$"
UK_PHONE_DIGITS = r"^(?:44\d{9,10}|0\d{9,10})$"
PHONE_MESSAGE = "Enter a UK telephone number, like 01632 960 001 or +44 1632 960 001"


def uk_phone_validator(value: str) -> None:
    """A switchboard number a chaser can dial from the UK."""
    digits = re.sub(r"\D", "", value.replace("(0)", ""))
    if not re.fullmatch(UK_PHONE_PATTERN, value.strip()) or not re.fullmatch(
        UK_PHONE_DIGITS, digits
    ):
        raise ValidationError(PHONE_MESSAGE, code="invalid")


class AuthorityQuerySet(models.QuerySet):
    def existing_on(self, day: datetime.date) -> AuthorityQuerySet:
        """Councils that existed on a day (start and end dates inclusive)."""
        return self.filter(
            Q(start_date__isnull=True) | Q(start_date__lte=day),
            Q(end_date__isnull=True) | Q(end_date__gte=day),
        )

    def current(self) -> AuthorityQuerySet:
        return self.filter(end_date__isnull=True)


class Authority(models.Model):
    """An English principal council (reference data: mySociety CC BY 4.0, OGL v3)."""

    code = models.CharField(
        "three-letter code", max_length=4, unique=True, validators=[council_code_validator]
    )
    gss_code = models.CharField(
        "GSS code", max_length=9, unique=True, validators=[gss_code_validator]
    )
    former_gss_codes = models.JSONField("former GSS codes", default=list, blank=True)
    official_name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=100)
    name_2015 = models.CharField(
        "name in 2015", max_length=200, blank=True, help_text="Where it differs from today's."
    )
    kind = models.CharField("type", max_length=20, choices=AuthorityKind.choices)
    region = models.CharField(max_length=20, choices=Region.choices)
    website = models.URLField(max_length=300, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(
        null=True, blank=True, help_text="Last day of existence; empty while it exists."
    )
    county = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="districts",
        limit_choices_to={"kind": AuthorityKind.COUNTY},
    )
    # The councils that took over its area when it was abolished (the register's
    # ``replaced_by``): one for a merger, several when its area was split between them.
    successors = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="predecessors",
        help_text="The councils that took over its area when it was abolished.",
    )
    chief_executive_name = models.CharField(max_length=200, blank=True)
    chief_executive_email = models.EmailField(max_length=254, blank=True)
    switchboard_phone = models.CharField(
        "switchboard telephone number",
        max_length=30,
        blank=True,
        validators=[uk_phone_validator],
        help_text="The council's main number, for chasing by phone.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AuthorityQuerySet.as_manager()

    class Meta:
        verbose_name = "council"
        verbose_name_plural = "councils"
        ordering = ["official_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="authority_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(county__isnull=True) | Q(kind=AuthorityKind.DISTRICT),
                name="authority_only_districts_have_a_county",
            ),
        ]
        indexes = [models.Index(fields=["kind", "region"])]

    def __str__(self) -> str:
        return self.official_name

    @property
    def tier(self) -> str:
        return TIER_BY_KIND.get(self.kind, Tier.UNITARY)

    @property
    def has_contact(self) -> bool:
        return bool(self.chief_executive_email)

    def existed_on(self, day: datetime.date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or self.end_date >= day
        )


class AccessLink(models.Model):
    """A bearer link to one council's response; the token itself is never stored.

    See authorities.tokens: the token is derived from `nonce` and a key kept outside the
    database, and requests are looked up by `token_hash`. A re-issued link gets a new row
    (the next generation) and the old one is revoked; the response and its history stay.
    """

    response = models.ForeignKey("surveys.Response", on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=20, choices=LinkKind.choices, default=LinkKind.COUNCIL)
    contributor = models.ForeignKey(
        "surveys.Contributor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="links",
    )
    generation = models.PositiveSmallIntegerField(default=1)
    nonce = models.CharField(max_length=64, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_used_at = models.DateTimeField(
        null=True, blank=True, help_text="First time someone continued from the link."
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response"],
                condition=Q(kind=LinkKind.COUNCIL, revoked_at__isnull=True),
                name="access_link_one_live_council_link",
            ),
            models.CheckConstraint(
                condition=(Q(kind=LinkKind.COUNCIL) & Q(contributor__isnull=True))
                | (Q(kind=LinkKind.CONTRIBUTOR) & Q(contributor__isnull=False)),
                name="access_link_contributor_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.generation}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
