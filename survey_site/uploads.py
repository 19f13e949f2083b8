"""A hard cap on uploaded files: refused from the headers, or as soon as a file passes it.

Django checks the size of an upload only once the whole body has been received (stored in
memory or a temporary file). Here a multipart body is measured first: one whose declared
length is over the cap is never read at all, and a file that grows past the cap stops
being stored at that byte (OWASP ASVS 5.2.1). This handler comes first in
FILE_UPLOAD_HANDLERS, so it also covers the bodies that CSRF checks parse on every page.
A view that wants to tell the person why asks `upload_too_large(request)` before anything
reads the body (see surveys.views.spreadsheet).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

# Room for the form's other fields, part headers and boundaries around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
REFUSED = "_upload_too_large"


def upload_limit_bytes() -> int:
    """The largest file accepted."""
    return settings.SURVEY_UPLOAD_MAX_BYTES


def upload_limit_text() -> str:
    """The largest file accepted, as people read it ("2 MB")."""
    return f"{upload_limit_bytes() // 2**20} MB"


def _body_limit_bytes() -> int:
    return upload_limit_bytes() + MULTIPART_OVERHEAD_BYTES


def _declared_length(meta) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # as Django reads it: a body it will not read


def upload_too_large(request: HttpRequest) -> bool:
    """Whether the request's body is over the cap (judged from its headers, before any of
    it is read) or held a file that was (judged while reading, which then stopped)."""
    return getattr(request, REFUSED, False) or _declared_length(request.META) > _body_limit_bytes()


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload that is over SURVEY_UPLOAD_MAX_BYTES."""

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, REFUSED, True)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > _body_limit_bytes():
            # Parsed as empty, without reading a byte: the request carries no fields (so
            # no CSRF token either) and no files.
            self._refuse()
            return QueryDict(encoding=encoding), MultiValueDict()
        return None  # the other handlers parse it

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > upload_limit_bytes():
            self._refuse()
            # The rest of the body, bounded by the declared length checked above, is read
            # and dropped rather than the connection reset, so the person sees the reply.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) holds the file
