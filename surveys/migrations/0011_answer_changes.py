"""Each response's count of writes to its answers, kept by PostgreSQL triggers.

A statement that inserts, updates or deletes figures, transaction answers or answers adds
one to the count of every response whose rows it wrote (statement-level triggers with
transition tables: one upsert per statement, not per row). SQLite keeps no count: the
release's inputs are fingerprinted from the rows themselves there (reporting.services).
"""

from django.db import migrations, models

TABLES = ("surveys_figure", "surveys_transactionanswer", "surveys_answer")
# One trigger per event: a trigger with a transition table fires on one event only.
EVENTS = (("insert", "INSERT", "NEW"), ("update", "UPDATE", "NEW"), ("delete", "DELETE", "OLD"))

FUNCTION = """
CREATE FUNCTION surveys_count_answer_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In response order, so that two statements writing several responses' answers take
    -- their counts' row locks in the same order.
    INSERT INTO surveys_answerchanges (response_id, changes)
    SELECT response_id, 1 FROM (SELECT DISTINCT response_id FROM changed) AS written
    ORDER BY response_id
    ON CONFLICT (response_id) DO UPDATE
    SET changes = surveys_answerchanges.changes + 1;
    RETURN NULL;
END
$$
"""


def _triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        for name, event, side in EVENTS:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_changes_{name} AFTER {event} ON {table}"
                f" REFERENCING {side} TABLE AS changed FOR EACH STATEMENT"
                " EXECUTE FUNCTION surveys_count_answer_changes()"
            )


def _drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        for name, _event, _side in EVENTS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changes_{name} ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS surveys_count_answer_changes()")


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0010_provision_words"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnswerChanges",
            fields=[
                ("response_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("changes", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(_triggers, _drop_triggers),
    ]
