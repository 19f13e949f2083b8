"""python manage.py create_administrator USERNAME --email EMAIL

The first survey administrator (instead of createsuperuser): staff and superuser for the
Django admin and accounts, in the Survey administrators group, with no access to councils'
answers. The password is asked for twice, or read from SURVEY_ADMINISTRATOR_PASSWORD.
"""

import sys
from getpass import getpass

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from survey_site.env import Environment
from survey_site.roles import AdministratorExists, administrator_create

PASSWORD_VARIABLE = "SURVEY_ADMINISTRATOR_PASSWORD"  # noqa: S105 (a name)


class Command(BaseCommand):
    help = (
        "Create a survey administrator (Django admin, accounts, the campaign) without "
        f"access to councils' answers. Password: asked for, or from {PASSWORD_VARIABLE}."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)

    def handle(self, *args, username: str, email: str, **options):
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address") from None
        password = Environment().str(PASSWORD_VARIABLE) or self._ask_password()
        try:
            user = administrator_create(username=username, email=email, password=password)
        except AdministratorExists as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created administrator {user.username} (Survey administrators; no access "
                "to councils' answers). Sign in at /sign-in/ or /admin/."
            )
        )

    def _ask_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(f"Set {PASSWORD_VARIABLE}, or run this in a terminal to type it")
        password = getpass("Password: ")
        if password != getpass("Password (again): "):
            raise CommandError("The two passwords differ: nothing was created")
        return password
