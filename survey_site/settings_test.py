"""Settings for the test suite: the real settings, with test defaults for unset variables.

The suite runs with DEBUG on (development static files, no HTTPS redirect) and tasks in
process; production settings are tested in subprocesses (survey_site/tests/test_settings.py).
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("EMAIL_URL", "memorymail://")

from survey_site.settings import *  # noqa: F403
