# The outbox's models move here from surveys (OutboundEmail) and campaigns (EmailAttempt).
# Only Django's state changes: the tables keep their names (db_table) and no data moves.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = {"outboundemail": "surveys", "emailattempt": "campaigns"}


def move_content_types(apps, schema_editor, forward=True):
    """Keep the permissions (and admin history) given for the moved models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, old in MOVED.items():
        source, target = (old, "outbox") if forward else ("outbox", old)
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, forward=False)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.OUTBOX_OWNER_MODEL),
        migrations.swappable_dependency(settings.OUTBOX_LINK_MODEL),
        # The tables as the apps they come from left them.
        ("surveys", "0007_outboundemail_message_hash"),
        ("campaigns", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboundEmail",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(max_length=200, unique=True)),
                        ("kind", models.CharField(max_length=30)),
                        ("to_address", models.EmailField(max_length=254)),
                        ("subject", models.CharField(max_length=300)),
                        ("body_text", models.TextField()),
                        ("body_html", models.TextField(blank=True)),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")], default="pending", max_length=10)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, max_length=300)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("message_hash", models.CharField(blank=True, db_index=True, max_length=32)),
                        ("link", models.ForeignKey(blank=True, help_text="Whose access link is put in place of the marker when the email is sent.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="emails", to=settings.OUTBOX_LINK_MODEL)),
                        ("response", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="emails", to=settings.OUTBOX_OWNER_MODEL)),
                    ],
                    options={
                        "db_table": "surveys_outboundemail",
                        "indexes": [models.Index(fields=["status", "created_at"], name="surveys_out_status_59a959_idx")],
                    },
                ),
                migrations.CreateModel(
                    name="EmailAttempt",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("attempted_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("outcome", models.CharField(choices=[("sent", "Sent"), ("retry", "Not sent: will retry"), ("failed", "Failed"), ("cancelled", "Cancelled (no longer needed)")], max_length=20)),
                        ("error", models.CharField(blank=True, max_length=200)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("email", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="tries", to="outbox.outboundemail")),
                    ],
                    options={
                        "db_table": "campaigns_emailattempt",
                        "ordering": ["attempted_at", "id"],
                        "indexes": [models.Index(fields=["email", "attempted_at"], name="campaigns_e_email_i_c43812_idx")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
