import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from surveys.models import QuestionnaireLocked
from surveys.questionnaires import questionnaire_load


class Command(BaseCommand):
    help = "Load a questionnaire definition (fixtures/questionnaire-*.json). Safe to repeat."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{file.name} is not valid JSON: {error}") from None
        try:
            questionnaire, outcome = questionnaire_load(data=data)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        except QuestionnaireLocked as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Questionnaire {questionnaire.version}: {outcome}")
