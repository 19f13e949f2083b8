"""Fill in successor councils from the reference file that ``import_authorities`` loads.

Databases that imported the councils before ``replaced_by`` was read get their successors
here, from the same shipped file (fixtures/authorities/england_councils.csv). Only councils
already in the database are linked; a database without councils (a new one) is left alone,
and importing the file later links them. Adding only: a successor set by hand is kept.
"""

import csv

from django.conf import settings
from django.db import migrations

REFERENCE_CSV = settings.BASE_DIR / "fixtures" / "authorities" / "england_councils.csv"


def successor_codes() -> dict[str, list[str]]:
    if not REFERENCE_CSV.exists():
        return {}
    with REFERENCE_CSV.open(newline="", encoding="utf-8") as handle:
        return {
            row["local_authority_code"].strip(): row["replaced_by"].replace(",", " ").split()
            for row in csv.DictReader(handle)
            if row.get("replaced_by", "").strip()
        }


def fill(apps, schema_editor):
    Authority = apps.get_model("authorities", "Authority")
    wanted = successor_codes()
    codes = set(wanted) | {code for successors in wanted.values() for code in successors}
    by_code = {a.code: a for a in Authority.objects.filter(code__in=codes)}
    for code, successors in wanted.items():
        council = by_code.get(code)
        linked = [by_code[s] for s in successors if s in by_code]
        if council is not None and linked:
            council.successors.add(*linked)


class Migration(migrations.Migration):
    dependencies = [("authorities", "0006_authority_successors")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
