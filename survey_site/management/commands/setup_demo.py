import datetime
import json

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.text import slugify

from authorities.models import Authority
from publishing import services as publishing
from publishing.models import PublicRelease
from reporting.models import Release
from reporting.publication import Publication
from reporting.services import release_build, responses_generate
from survey_site.roles import ANALYSTS, DATA_STEWARDS, SURVEY_ADMINISTRATORS
from surveys.choices import PopulationKind, ResponseStatus, SurveyStatus
from surveys.models import Survey
from surveys.questionnaires import questionnaire_load
from surveys.selectors import survey_population
from surveys.services import link_url, links_issue_for_survey

FIXTURES = settings.BASE_DIR / "fixtures"
DEMO_SURVEY_SLUG = "demo-2015"
# A closed round of synthetic responses with a protected release, for the analysts' pages;
# the open round above stays clean for trying the respondent journey.
RESULTS_SURVEY_SLUG = "demo-2015-results"
# A unitary, a district and a county: they see different pre-answered transactions.
DEMO_COUNCILS = ["E06000001", "E07000242", "E10000015"]
# Well-known passwords are acceptable only for the local demo: the command refuses to
# run unless DEBUG is on.
# username: (password, superuser (and staff, for the Django admin), groups). The admin is
# what create_administrator makes: superuser status gives no role (survey_site.roles.holds),
# so it reads no council's answers and no suppression internals.
DEMO_USERS = {
    "admin": ("demo-admin-password", True, [SURVEY_ADMINISTRATORS]),
    "analyst": ("demo-analyst-password", False, [ANALYSTS]),
    "steward": ("demo-steward-password", False, [DATA_STEWARDS]),
}


# Reserved for examples (RFC 2606): nothing sent to these addresses can reach anyone.
DEMO_CONTACT_DOMAIN = "example"
DEMO_PHONES = 1000  # 01632 960000 to 960999


def demo_contacts_give(survey: Survey) -> int:
    """Give each council of the round without a chief executive a synthetic one.

    The campaign (invitations, reminders, the tracker) can then be tried end to end: the
    emails land in the file outbox, addressed to chief.executive@<council>.example, and
    the list for chasing by phone has numbers from Ofcom's range for drama (01632 960xxx),
    which connect to no one. A contact or number already set (imported) is kept.
    """
    given = 0
    councils = survey_population(survey=survey).order_by("gss_code")
    for number, authority in enumerate(councils):
        if not authority.chief_executive_email:
            authority.chief_executive_name = f"Demo Chief Executive of {authority.short_name}"
            slug = slugify(authority.short_name) or authority.code.lower()
            authority.chief_executive_email = f"chief.executive@{slug}.{DEMO_CONTACT_DOMAIN}"
            given += 1
        if not authority.switchboard_phone and number < DEMO_PHONES:
            authority.switchboard_phone = f"01632 960{number:03d}"
        authority.save(
            update_fields=[
                "chief_executive_name",
                "chief_executive_email",
                "switchboard_phone",
                "updated_at",
            ]
        )
    return given


def demo_public_release(survey: Survey, user: User) -> PublicRelease | None:
    """The results round's public release, published once, with headline findings quoting
    England's published digital take-up (hidden figures are simply not quoted)."""
    live = publishing.live(survey)
    if live is not None or Publication.of(survey) is None:
        return live
    draft = publishing.draft_start(survey=survey, user=user)
    publication = Publication.of(survey)
    findings = []
    for row in publication.take_up().rows:  # England's digital take-up, where published
        transaction, england = row[0], row[1]
        if england.number is not None and len(findings) < 2:
            findings.append(
                f"In England, {england.text} of {transaction[0].lower()}{transaction[1:]} "
                "transactions were done online or in an app."
            )
    publishing.draft_update(
        draft,
        title=draft.title,
        summary=(
            "Synthetic figures, made up for this demonstration: how residents reach their "
            "council for key transactions, by channel, and what each channel costs."
        ),
        findings=findings,
        change_note="",
    )
    return publishing.publish(draft=draft, user=user)


class Command(BaseCommand):
    help = "Load councils, the 2015 questionnaire and an open demo round (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "setup_demo creates well-known passwords: it runs only with DEBUG on"
            )
        call_command("import_authorities", FIXTURES / "authorities" / "england_councils.csv")
        data = json.loads((FIXTURES / "questionnaire-2015.json").read_text(encoding="utf-8"))
        questionnaire, outcome = questionnaire_load(data=data)
        self.stdout.write(f"Questionnaire {questionnaire.version}: {outcome}")
        now = timezone.now()
        survey, created = Survey.objects.get_or_create(
            slug=DEMO_SURVEY_SLUG,
            defaults={
                "name": "Channel baseline 2015 (demo round)",
                "questionnaire": questionnaire,
                "opens_at": now - datetime.timedelta(days=1),
                "closes_at": (now + datetime.timedelta(days=21)).replace(
                    hour=17, minute=0, second=0, microsecond=0
                ),
                "population": PopulationKind.ENGLAND_2015,
                "status": SurveyStatus.OPEN,
            },
        )
        self.stdout.write(f"Demo round {survey.slug}: {'created' if created else 'kept'}")
        given = demo_contacts_give(survey)
        if given:
            self.stdout.write(
                f"Synthetic chief executive contacts (@<council>.{DEMO_CONTACT_DOMAIN}): "
                f"{given} councils"
            )
        for username, (password, superuser, groups) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = superuser
            user.is_superuser = superuser
            user.set_password(password)
            user.save()
            user.groups.set(Group.objects.filter(name__in=groups))
        results, created = Survey.objects.get_or_create(
            slug=RESULTS_SURVEY_SLUG,
            defaults={
                "name": "Channel baseline 2015 (synthetic results)",
                "questionnaire": questionnaire,
                "opens_at": now - datetime.timedelta(days=60),
                "closes_at": now - datetime.timedelta(days=30),
                "population": PopulationKind.ENGLAND_2015,
                "status": SurveyStatus.CLOSED,
            },
        )
        if not Release.objects.filter(survey=results, published_at__isnull=False).exists():
            self.stdout.write("Building synthetic results and a protected release ...")
            responses_generate(survey_id=results.pk)
            release = release_build(survey_id=results.pk)
            self.stdout.write(f"Release of {results.slug}: {release.status}")
        # One council of the results round with a link, so that publishing the public
        # release emails it and its comparison can be opened.
        counted = (
            results.responses.filter(status=ResponseStatus.SUBMITTED)
            .select_related("authority")
            .order_by("authority__gss_code")
        )
        compared = counted.filter(authority__gss_code__in=DEMO_COUNCILS).first() or counted.first()
        comparison_links = (
            links_issue_for_survey(survey=results, authorities=[compared.authority])
            if compared is not None
            else []
        )
        public = demo_public_release(results, User.objects.get(username="admin"))
        demo_councils = Authority.objects.filter(gss_code__in=DEMO_COUNCILS).order_by("gss_code")
        links = links_issue_for_survey(survey=survey, authorities=demo_councils)
        base = settings.SURVEY_BASE_URL
        outbox = getattr(settings, "EMAIL_FILE_PATH", settings.EMAIL_BACKEND)
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo ready.\n"
                f"  Start page:      {base}/\n"
                f"  Sign in:         {base}/sign-in/\n"
                f"    Administrators: user admin, password {DEMO_USERS['admin'][0]}"
                f" (also {base}/admin/)\n"
                f"    Analysts:       user analyst, password {DEMO_USERS['analyst'][0]}\n"
                f"    Data stewards:  user steward, password {DEMO_USERS['steward'][0]}\n"
                f"  Campaign:        {base}/campaigns/{survey.slug}/  (as admin)\n"
                "  Council links (demo only; every council's: manage.py issue_links "
                f"{survey.slug} --csv links.csv):\n"
                + "".join(f"    {a.short_name:<20} {link_url(link)}\n" for a, link in links)
                + (
                    f"  Public release:  {base}/statistics/{results.slug}/\n"
                    if public is not None
                    else ""
                )
                + "".join(
                    f"  Comparison of {a.short_name} (its link, then 'How your council "
                    f"compares'):\n    {link_url(link)}\n"
                    for a, link in comparison_links
                )
                + f"  Outbox:          {outbox}\n"
            )
        )
