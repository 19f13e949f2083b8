# EmailAttempt now lives in outbox (outbox/migrations/0001_initial.py): Django's state
# forgets it here; the table stays as it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0001_initial"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="EmailAttempt")],
            database_operations=[],
        ),
    ]
