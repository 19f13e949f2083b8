from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authorities.services import authority_import_apply, authority_import_plan
from survey_site.tabular import TableError, read_table

SHOWN_FIELDS = 8


class Command(BaseCommand):
    help = (
        "Import or update councils and chief-executive contacts from a CSV or XLSX file. "
        "All rows are validated first; nothing is written if any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change; write nothing."
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            table = read_table(file.read_bytes())
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except TableError as error:
            raise CommandError(str(error)) from None
        plan = authority_import_plan(header=table.header, rows=table.rows)
        if not plan.ok:
            for problem in plan.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(plan.problems)} problem(s) found in {file.name}: nothing was imported"
            )
        verb = "Would" if dry_run else "Will"
        detailed = dry_run or options["verbosity"] >= 2
        for change in plan.changes if detailed else []:
            if change.is_new:
                self.stdout.write(f"{verb} create {change.gss_code} (row {change.row})")
            else:
                self.stdout.write(f"{verb} update {change.gss_code} (row {change.row}):")
                for name, (old, new) in list(change.changes.items())[:SHOWN_FIELDS]:
                    self.stdout.write(f"  {name}: {old!r} -> {new!r}")
        summary = f"{plan.created} to create, {plan.updated} to update, {plan.unchanged} unchanged"
        if dry_run:
            self.stdout.write(f"Dry run: {summary}. Nothing was written.")
            return
        authority_import_apply(plan=plan)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: {plan.created} created, {plan.updated} updated, "
                f"{plan.unchanged} unchanged"
            )
        )
