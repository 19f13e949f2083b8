import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reporting.management.commands._common import survey_by_slug
from reporting.models import Release, ReleaseStatus
from reporting.services import release_request
from reporting.tasks import release_build_task


class Command(BaseCommand):
    help = "Build a protected release of a round through the Celery task and print the audit."

    def add_arguments(self, parser):
        parser.add_argument("survey_slug")
        parser.add_argument(
            "--timeout", type=int, default=3600, help="Seconds to wait for a worker's build"
        )

    def handle(self, *args, survey_slug, timeout, **options):
        survey = survey_by_slug(survey_slug)
        # Queued on commit: in process where CELERY_TASK_ALWAYS_EAGER, else by a worker.
        release = release_request(survey_id=survey.pk)
        if settings.CELERY_TASK_ALWAYS_EAGER:
            # In process; a no-op when the on-commit queueing already built it.
            release_build_task.apply(args=[release.pk])
        deadline = time.monotonic() + timeout
        while True:
            release = Release.objects.get(pk=release.pk)
            if release.status != ReleaseStatus.BUILDING:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"Release {release.pk} still building after {timeout} s")
            time.sleep(1)
        audit = release.audit or {}
        self.stdout.write(f"Release {release.pk} (number {release.number}): {release.status}")
        self.stdout.write(
            f"Audit: {'passed' if audit.get('passed') else 'failed'}; "
            f"cells {release.counts.get('cells', 0)}, "
            f"relations {release.counts.get('relations', 0)}, "
            f"hidden {release.counts.get('primary', 0) + release.counts.get('secondary', 0)}"
        )
        if release.published_at:
            self.stdout.write("Published: analysts now see this release")
        elif release.withheld:
            self.stdout.write(f"Not published: {release.get_withheld_display().lower()}")
        if release.status == ReleaseStatus.FAILED:
            raise CommandError(f"Build failed: {release.error}")
        if release.status == ReleaseStatus.REFUSED:
            raise CommandError("The disclosure audit refused the release: nothing is published")
