from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from authorities.models import Authority
from survey_site.exports import write_csv
from surveys.choices import RevokeContributors
from surveys.contributors import council_link_reissue
from surveys.models import Survey
from surveys.selectors import survey_population
from surveys.services import link_url, links_issue_for_survey, response_get_or_create


class Command(BaseCommand):
    help = (
        "Create any missing council links for a round and export each council's link "
        "(GSS code, council name, link) as CSV for mail merge. --reissue replaces the "
        "links of the named councils (the old links stop working; drafts are kept) and "
        "revokes their contributors added since the link was last issued "
        "(--revoke-contributors)."
    )

    def add_arguments(self, parser):
        parser.add_argument("survey_slug")
        parser.add_argument("--councils", help="Comma-separated GSS codes (default: all)")
        parser.add_argument("--csv", type=Path, required=True, dest="csv_path")
        parser.add_argument("--reissue", action="store_true")
        parser.add_argument("--reason", default="Re-issued by an administrator")
        parser.add_argument(
            "--revoke-contributors",
            choices=RevokeContributors.values,
            help="With --reissue: which contributors' links stop too (default: since-issue, "
            "those added since the link was last issued; their answers stay)",
        )

    def handle(
        self, *args, survey_slug, councils, csv_path, reissue, reason, revoke_contributors,
        **options,
    ):  # fmt: skip
        survey = Survey.objects.filter(slug=survey_slug).first()
        if survey is None:
            raise CommandError(f"No survey round with slug {survey_slug!r}")
        if revoke_contributors and not reissue:
            raise CommandError("--revoke-contributors goes with --reissue")
        revoke = revoke_contributors or RevokeContributors.SINCE_ISSUE
        population = survey_population(survey=survey).order_by("gss_code")
        if councils:
            codes = [c.strip().upper() for c in councils.split(",") if c.strip()]
            chosen = list(population.filter(gss_code__in=codes))
            unknown = sorted(set(codes) - {a.gss_code for a in chosen})
            if unknown:
                in_db = set(
                    Authority.objects.filter(gss_code__in=unknown).values_list(
                        "gss_code", flat=True
                    )
                )
                problems = [
                    f"{c} is not in this round's population" if c in in_db else f"{c} is unknown"
                    for c in unknown
                ]
                raise CommandError("; ".join(problems))
        else:
            if reissue:
                raise CommandError("--reissue needs --councils: name the councils to re-issue")
            chosen = list(population)
        if reissue:
            issued = []
            for authority in chosen:
                response = response_get_or_create(survey=survey, authority=authority)
                done = council_link_reissue(
                    response=response, reason=reason, actor="Command", revoke=revoke
                )
                issued.append((authority, done.link))
                self.stdout.write(
                    f"{authority.official_name} ({authority.gss_code}): {done.describe(revoke)}"
                )
        else:
            issued = links_issue_for_survey(survey=survey, authorities=chosen)
        try:
            with csv_path.open("w", newline="", encoding="utf-8") as handle:
                write_csv(
                    handle,
                    ["gss_code", "council_name", "link"],
                    ((a.gss_code, a.official_name, link_url(link)) for a, link in issued),
                )
        except OSError as error:
            raise CommandError(f"Cannot write {csv_path}: {error.strerror}") from None
        verb = "Re-issued" if reissue else "Links ready for"
        self.stdout.write(f"{verb} {len(issued)} councils; written to {csv_path}")
        self.stdout.write("The file holds live access links: keep it safe and delete it after use.")
