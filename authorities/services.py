"""Writes for councils: importing reference data and chief-executive contacts."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction

from authorities.choices import AuthorityKind, Region
from authorities.models import (
    GSS_CODE_PATTERN,
    Authority,
    gss_code_validator,
    three_letter_code_validator,
    uk_phone_validator,
)

# Input column -> model field. Several spellings are accepted so that the reference
# file (fixtures/england_councils.csv) and a hand-made contacts sheet both load.
COLUMN_FIELDS: dict[str, str] = {
    "gss_code": "gss_code",
    "local_authority_code": "code",
    "code": "code",
    "former_gss_codes": "former_gss_codes",
    "official_name": "official_name",
    "nice_name": "short_name",
    "short_name": "short_name",
    "name_2015_register": "name_2015",
    "name_2015": "name_2015",
    "authority_type": "kind",
    "type": "kind",
    "region": "region",
    "website_url": "website",
    "website": "website",
    "start_date": "start_date",
    "end_date_normalised": "end_date",
    "end_date": "end_date",
    "county_la": "county",
    "county": "county",
    "replaced_by": "successors",
    "successors": "successors",
    "chief_executive_name": "chief_executive_name",
    "chief_executive_email": "chief_executive_email",
    "switchboard_phone": "switchboard_phone",
}
# Columns of the reference file that the model does not keep; anything else unknown is
# refused, so that a misspelt column (chief_executive_emial) is never silently dropped.
IGNORED_COLUMNS = frozenset(
    {
        "la_type_code",
        "region_source",
        "in_2015",
        "current",
        "website_source",
        "website_url_2016",
        "snac",
        "gov_uk_slug",
        "bs_6879",
    }
)
# When a file has both, the first wins (the normalised end date is the last day).
PREFERRED = {"end_date": "end_date_normalised", "code": "local_authority_code"}
REQUIRED_FOR_NEW = ("code", "official_name", "kind", "region")
# The column a missing field should be given in.
CANONICAL_COLUMNS = {
    "code": "local_authority_code",
    "official_name": "official_name",
    "kind": "authority_type",
    "region": "region",
}
FIELD_LABELS = {
    "code": "three-letter code",
    "official_name": "official name",
    "kind": "authority type",
    "region": "region",
}


@dataclass(frozen=True)
class ImportProblem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.column}: {self.message}"


@dataclass
class PlannedChange:
    row: int
    gss_code: str
    authority: Authority | None  # None: a new council
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        return self.authority is None


@dataclass
class ImportPlan:
    changes: list[PlannedChange] = field(default_factory=list)
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for c in self.changes if c.is_new)

    @property
    def updated(self) -> int:
        return sum(1 for c in self.changes if not c.is_new)

    @property
    def ok(self) -> bool:
        return not self.problems


def _choice(value: str, choices: type, what: str) -> str:
    wanted = value.strip().casefold()
    for choice_value, label in choices.choices:
        if wanted in (choice_value.casefold(), str(label).casefold()):
            return choice_value
    raise ValidationError(f"Unknown {what} {value!r}")


def _date(value: str) -> datetime.date | None:
    if not value.strip():
        return None
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"Enter a date as YYYY-MM-DD, not {value!r}") from None


def _codes(value: str) -> list[str]:
    codes = [c for c in value.replace(";", " ").replace(",", " ").split() if c]
    for code in codes:
        gss_code_validator(code)
    return codes


def _email(value: str) -> str:
    value = value.strip()
    if value:
        EmailValidator(message=f"Enter an email address like name@council.gov.uk, not {value!r}")(
            value
        )
    return value.lower()


def _url(value: str) -> str:
    value = value.strip()
    if value and "://" not in value:
        value = "http://" + value  # the reference data has a few bare domains
    if value:
        URLValidator(schemes=["http", "https"], message=f"Enter a web address, not {value!r}")(
            value
        )
    return value


def _phone(value: str) -> str:
    value = " ".join(value.split())
    if value:
        uk_phone_validator(value)
    return value


def _text(value: str) -> str:
    return " ".join(value.split())


def _council_codes(value: str) -> list[str]:
    """Successor councils, by three-letter or GSS code, separated by commas or spaces."""
    codes = [c.upper() for c in value.replace(";", " ").replace(",", " ").split() if c]
    for code in codes:
        if not re.fullmatch(GSS_CODE_PATTERN, code):
            three_letter_code_validator(code)
    return codes


def _code(value: str) -> str:
    value = value.strip().upper()
    three_letter_code_validator(value)
    return value


def _gss(value: str) -> str:
    value = value.strip().upper()
    gss_code_validator(value)
    return value


PARSERS = {
    "gss_code": _gss,
    "code": _code,
    "former_gss_codes": _codes,
    "official_name": _text,
    "short_name": _text,
    "name_2015": _text,
    "kind": lambda v: _choice(v, AuthorityKind, "authority type"),
    "region": lambda v: _choice(v, Region, "region"),
    "website": _url,
    "start_date": _date,
    "end_date": _date,
    "county": lambda v: v.strip().upper(),
    "successors": _council_codes,
    "chief_executive_name": _text,
    "chief_executive_email": _email,
    "switchboard_phone": _phone,
}


def _column_map(header: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Map each model field to the input column it is read from; list unknown columns."""
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for column in header:
        name = column.strip().casefold()
        if name in IGNORED_COLUMNS or not name:
            continue
        field_name = COLUMN_FIELDS.get(name)
        if field_name is None:
            unknown.append(column)
        elif field_name not in mapping or PREFERRED.get(field_name) == name:
            mapping[field_name] = column
    return mapping, unknown


def authority_import_plan(
    *, header: list[str], rows: Iterable[tuple[int, Mapping[str, str]]]
) -> ImportPlan:
    """Validate rows of council data and work out what importing them would change.

    Rows are matched to councils by GSS code (current or former), then by three-letter
    code. Every problem is reported with its row number; nothing is written here.
    """
    plan = ImportPlan()
    mapping, unknown = _column_map(header)
    for column in unknown:
        plan.problems.append(ImportProblem(1, column, "Unknown column"))
    if "gss_code" not in mapping:
        plan.problems.append(ImportProblem(1, "gss_code", "The file needs a gss_code column"))
    if plan.problems:
        return plan

    existing = list(Authority.objects.prefetch_related("successors"))
    by_gss = {a.gss_code: a for a in existing}
    by_gss.update({former: a for a in existing for former in a.former_gss_codes})
    by_code = {a.code: a for a in existing}
    seen_gss: dict[str, int] = {}
    seen_code: dict[str, int] = {}
    parsed_rows: list[tuple[int, dict[str, Any]]] = []

    for row_number, row in rows:
        values: dict[str, Any] = {}
        for field_name, column in mapping.items():
            raw = (row.get(column) or "").strip()
            try:
                values[field_name] = PARSERS[field_name](raw)
            except ValidationError as error:
                plan.problems.append(ImportProblem(row_number, column, error.messages[0]))
        gss = values.get("gss_code")
        if gss in seen_gss:
            plan.problems.append(
                ImportProblem(
                    row_number, mapping["gss_code"], f"{gss} is also on row {seen_gss[gss]}"
                )
            )
        elif gss:
            seen_gss[gss] = row_number
        code = values.get("code")
        if code and code in seen_code:
            plan.problems.append(
                ImportProblem(
                    row_number, mapping["code"], f"{code} is also on row {seen_code[code]}"
                )
            )
        elif code:
            seen_code[code] = row_number
        parsed_rows.append((row_number, values))

    # Counties and successors may be named by three-letter or GSS code, and may be new
    # in this file.
    kind_by_code = {v["code"]: v.get("kind") for _, v in parsed_rows if v.get("code")} | {
        a.code: a.kind for a in existing
    }
    gss_to_code = {v["gss_code"]: v.get("code") for _, v in parsed_rows if v.get("gss_code")}
    gss_to_code.update({a.gss_code: a.code for a in existing})

    for row_number, values in parsed_rows:
        gss = values.get("gss_code")
        if not gss:
            if "gss_code" in values or not any(p.row == row_number for p in plan.problems):
                plan.problems.append(
                    ImportProblem(row_number, mapping["gss_code"], "Enter the GSS code")
                )
            continue
        authority = by_gss.get(gss) or by_code.get(values.get("code", ""))
        if authority is not None and gss in authority.former_gss_codes:
            values.pop("gss_code")  # matched on a former code: keep the current one
        county = values.get("county")
        if county:
            county_code = gss_to_code.get(county, county)
            if kind_by_code.get(county_code) != AuthorityKind.COUNTY:
                plan.problems.append(
                    ImportProblem(
                        row_number, mapping["county"], f"{county} is not a county council"
                    )
                )
            values["county"] = county_code
        elif "county" in values:
            values["county"] = None
        if "successors" in values:
            successors = [gss_to_code.get(s, s) for s in values["successors"]]
            own_code = values.get("code") or (authority.code if authority else None)
            for successor in successors:
                if successor not in kind_by_code:
                    plan.problems.append(
                        ImportProblem(
                            row_number, mapping["successors"], f"{successor} is not a council"
                        )
                    )
                elif successor == own_code:
                    plan.problems.append(
                        ImportProblem(
                            row_number, mapping["successors"], "A council cannot replace itself"
                        )
                    )
            values["successors"] = sorted(set(successors))
        if authority is None:
            missing = [f for f in REQUIRED_FOR_NEW if not values.get(f)]
            for f in missing:
                plan.problems.append(
                    ImportProblem(
                        row_number,
                        mapping.get(f, CANONICAL_COLUMNS[f]),
                        f"Enter the {FIELD_LABELS[f]} (needed for a new council)",
                    )
                )
            if not values.get("short_name") and values.get("official_name"):
                values["short_name"] = values["official_name"]
        if values.get("name_2015") == values.get(
            "official_name", authority.official_name if authority else None
        ):
            values["name_2015"] = ""
        changes = _differences(authority, values)
        if changes:
            plan.changes.append(PlannedChange(row_number, gss, authority, changes))
        else:
            plan.unchanged += 1
    return plan


def _current_value(authority: Authority | None, field_name: str) -> Any:
    if authority is None:
        return None
    if field_name == "county":
        return authority.county.code if authority.county_id else None
    if field_name == "successors":
        return sorted(s.code for s in authority.successors.all())
    return getattr(authority, field_name)


def _differences(authority: Authority | None, values: dict[str, Any]) -> dict:
    changes = {}
    for field_name, new in values.items():
        old = _current_value(authority, field_name)
        empty_old = old in (None, "", [])
        empty_new = new in (None, "", [])
        if old != new and not (empty_old and empty_new):
            changes[field_name] = (old, new)
    return changes


@transaction.atomic
def authority_import_apply(*, plan: ImportPlan) -> None:
    """Write a validated plan: all of it or, if it has any problem, none of it."""
    if not plan.ok:
        raise ValueError("Refusing to import a plan with problems")
    county_links: list[tuple[Authority, str | None]] = []
    successor_links: list[tuple[Authority, list[str]]] = []
    for change in plan.changes:
        authority = change.authority or Authority()
        for field_name, (_, new) in change.changes.items():
            if field_name == "county":
                county_links.append((authority, new))
            elif field_name == "successors":
                successor_links.append((authority, new))
            else:
                setattr(authority, field_name, new)
        authority.full_clean(exclude=["county"], validate_unique=False)
        authority.save()
    counties = {a.code: a for a in Authority.objects.filter(kind=AuthorityKind.COUNTY)}
    for authority, county_code in county_links:
        authority.county = counties.get(county_code) if county_code else None
        authority.save(update_fields=["county", "updated_at"])
    # Successors may be councils created further down the file: linked once all are saved.
    wanted = {code for _, codes in successor_links for code in codes}
    by_code = {a.code: a for a in Authority.objects.filter(code__in=wanted)}
    for authority, codes in successor_links:
        authority.successors.set([by_code[code] for code in codes])
        authority.save(update_fields=["updated_at"])
