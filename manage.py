#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "survey_site.settings")
    # The demo's .env (written by `make run`) fills in unset variables for manage.py
    # only: tests, gunicorn and Celery never read it.
    from survey_site.env import dotenv_apply

    dotenv_apply(Path(__file__).resolve().parent / ".env")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
