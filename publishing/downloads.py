"""The public release's files, for anyone, without signing in (GET only).

Each version of a round's public release has its own addresses:

- ``/statistics/<round>/version-<n>/<round>-version-<n>.ods`` and ``.xlsx``: the workbook;
- ``/statistics/<round>/version-<n>/cells.csv``: every published cell, one row each;
- ``/statistics/<round>/version-<n>/cells.csv-metadata.json``: its CSV on the Web description
  (where CSVW processors look for it, beside the CSV).

A published version and a superseded one serve their files: every version of a round reads
the same audited cells. A withdrawn version's files are gone: 410 with a page saying when and
why, linking to the release's page. Drafts and versions that never existed are 404, the same
page as any unknown address. Files may be kept by shared caches for ``MAX_AGE`` seconds, so a
withdrawal reaches every reader within that time.
"""

from __future__ import annotations

import io
import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from publishing.exports import csvw_metadata, file_name, public_csv, public_ods, public_xlsx
from publishing.models import PublicRelease, PublicReleaseStatus
from reporting.publication import Publication

MAX_AGE = 300  # seconds a shared cache may keep a file (a withdrawal is seen within this)
SERVED = (PublicReleaseStatus.PUBLISHED, PublicReleaseStatus.SUPERSEDED)
WORKBOOKS = {
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", public_ods),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", public_xlsx),
}


def file_url(public: PublicRelease, fmt: str) -> str:
    """The address of a version's file: ``ods``, ``xlsx``, ``csv`` or ``csv-metadata``."""
    args = {"slug": public.survey.slug, "version": public.version}
    if fmt == "csv":
        return reverse("publishing:public-cells", kwargs=args)
    if fmt == "csv-metadata":
        return reverse("publishing:public-cells-metadata", kwargs=args)
    return reverse("publishing:public-file", kwargs={**args, "name": file_name(public), "fmt": fmt})


def _version(request: HttpRequest, slug: str, version: int) -> PublicRelease | HttpResponse:
    """The version whose files are asked for, or the 410 page of a withdrawn one."""
    public = get_object_or_404(
        PublicRelease.objects.select_related("survey", "release"),
        survey__slug=slug,
        version=version,
        status__in=[*SERVED, PublicReleaseStatus.WITHDRAWN],
    )
    if public.status == PublicReleaseStatus.WITHDRAWN:
        response = render(
            request,
            "publishing/file_withdrawn.html",
            {
                "public": public,
                "release_url": reverse("publishing:release", args=[slug]),
            },
            status=410,
        )
        response["Cache-Control"] = f"public, max-age={MAX_AGE}"
        return response
    return public


def _file(content: bytes | str, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


@require_GET
def public_file(request: HttpRequest, slug: str, version: int, name: str, fmt: str) -> HttpResponse:
    if fmt not in WORKBOOKS or name != f"{slug}-version-{version}":
        raise Http404("No such file")
    public = _version(request, slug, version)
    if isinstance(public, HttpResponse):
        return public
    content_type, write = WORKBOOKS[fmt]
    content = write(public=public, publication=Publication(public.release))
    return _file(content, content_type, f"{name}.{fmt}")


@require_GET
def public_cells(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    public = _version(request, slug, version)
    if isinstance(public, HttpResponse):
        return public
    stream = io.StringIO()
    public_csv(public=public, publication=Publication(public.release), stream=stream)
    return _file(stream.getvalue(), "text/csv; charset=utf-8", f"{file_name(public)}-cells.csv")


@require_GET
def public_cells_metadata(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    public = _version(request, slug, version)
    if isinstance(public, HttpResponse):
        return public
    # The CSV's stable public address, from the configured base URL (never the Host header).
    csv_url = settings.SURVEY_BASE_URL + file_url(public, "csv")
    metadata = csvw_metadata(
        public=public, publication=Publication(public.release), csv_url=csv_url
    )
    return _file(
        json.dumps(metadata, ensure_ascii=False, indent=2),
        "application/csvm+json; charset=utf-8",
        f"{file_name(public)}-cells.csv-metadata.json",
    )
