import pytest
from django.conf import settings
from django.core.management import call_command

REFERENCE_CSV = settings.BASE_DIR / "fixtures" / "authorities" / "england_councils.csv"


@pytest.fixture
def councils(db):
    """The committed reference data, loaded through the import command."""
    call_command("import_authorities", REFERENCE_CSV, verbosity=0)
