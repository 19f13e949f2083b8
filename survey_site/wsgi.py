import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "survey_site.settings")

application = get_wsgi_application()

# Import every view now rather than on the first request, then leave everything loaded so
# far (modules, settings, URL patterns: it lives as long as the process) out of the garbage
# collector's passes, which otherwise walk it again and again: about 7% of the instructions
# of a form page (measured in process with callgrind).
get_resolver().url_patterns  # noqa: B018 (the import is the point)
gc.freeze()
