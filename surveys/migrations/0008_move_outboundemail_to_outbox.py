# OutboundEmail now lives in outbox (outbox/migrations/0001_initial.py): Django's state
# forgets it here; the table stays as it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0007_outboundemail_message_hash"),
        # EmailAttempt, which pointed at this model, has left campaigns' state first.
        ("campaigns", "0002_move_emailattempt_to_outbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OutboundEmail")],
            database_operations=[],
        ),
    ]
