"""Survey rounds, the questionnaire as data, and councils' responses.

Answers are stored for aggregation: one `Figure` row per (response, transaction,
channel), with the "not recorded" and "estimate" flags, and every change is kept in
`ChangeRecord` (who, when, old and new value).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from authorities.models import Authority
from survey_site.formatting import datetime_text
from surveys.choices import (
    ChangeKind,
    EndToEnd,
    PopulationKind,
    Provision,
    QuestionKind,
    ResponseStatus,
    SectionKind,
    SurveyStatus,
)

# The largest figure accepted for one channel of one transaction over the period.
# The busiest English council handles a few million council tax payments a year.
MAX_FIGURE = 100_000_000
slug_validator = RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lower-case letters, digits and -")


class QuestionnaireLocked(Exception):
    """A questionnaire that already has responses cannot change."""


class Questionnaire(models.Model):
    """A versioned questionnaire definition, loaded from fixtures/questionnaire-*.json."""

    version = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    period_default = models.CharField(
        max_length=100, blank=True, help_text="Default period the figures cover."
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version"]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    def save(self, *args, **kwargs) -> None:
        self.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)

    @property
    def has_responses(self) -> bool:
        return Response.objects.filter(survey__questionnaire=self).exists()

    def ensure_editable(self) -> None:
        if self.pk and self.has_responses:
            raise QuestionnaireLocked(
                f"Questionnaire {self.version} already has responses: copy it to change it"
            )


class QuestionnairePart(models.Model):
    """Anything inside a questionnaire: refuses to change once responses exist."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.get_questionnaire().ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.get_questionnaire().ensure_editable()
        return super().delete(*args, **kwargs)

    def get_questionnaire(self) -> Questionnaire:
        raise NotImplementedError


class Section(QuestionnairePart):
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="sections"
    )
    slug = models.SlugField(max_length=50)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=SectionKind.choices)
    order = models.PositiveSmallIntegerField()
    optional = models.BooleanField(default=False)
    group_titles = models.JSONField(
        default=dict, blank=True, help_text="Page titles for question groups: {group: title}."
    )

    class Meta:
        ordering = ["questionnaire", "order"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "slug"], name="section_slug_unique"),
            models.UniqueConstraint(fields=["questionnaire", "order"], name="section_order_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_questionnaire(self) -> Questionnaire:
        return self.questionnaire


class KeyTransaction(QuestionnairePart):
    """One of the key transactions asked about, e.g. "Pay council tax" (LGSL 57)."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="transactions"
    )
    number = models.PositiveSmallIntegerField()
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    lgsl_code = models.PositiveIntegerField("LGSL code")
    lgsl_label = models.CharField("LGSL label", max_length=200, blank=True)
    tiers = models.CharField(
        max_length=3,
        blank=True,
        help_text="Tiers that normally deliver it: C, D and/or U. Empty: varies.",
        validators=[RegexValidator(r"^[CDU]*$", "Use the letters C, D and U")],
    )

    class Meta:
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="transaction_number_unique"
            ),
            models.UniqueConstraint(
                fields=["questionnaire", "slug"], name="transaction_slug_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    def get_questionnaire(self) -> Questionnaire:
        return self.questionnaire

    def normally_delivered_by(self, tier: str) -> bool:
        """False when councils of this tier are pre-answered "not our responsibility"."""
        return not self.tiers or tier in self.tiers


class Channel(QuestionnairePart):
    """A channel residents use, e.g. WEB (online self-service)."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="channels"
    )
    code = models.CharField(
        max_length=10, validators=[RegexValidator(r"^[A-Z0-9]+$", "Use capitals and digits")]
    )
    name = models.CharField(max_length=100)
    definition = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField()
    is_digital = models.BooleanField(
        default=False, help_text="Counts towards digital take-up (GDS KPI)."
    )
    is_assisted = models.BooleanField(default=False)
    default_unit_cost = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, help_text="Pounds per transaction."
    )
    unit_cost_source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["questionnaire", "order"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "code"], name="channel_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_questionnaire(self) -> Questionnaire:
        return self.questionnaire


class Question(QuestionnairePart):
    """A question of the sections other than the transaction pages."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    slug = models.SlugField(max_length=80)
    text = models.CharField(max_length=300)
    hint = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=QuestionKind.choices)
    choices = models.JSONField(default=list, blank=True, help_text="[[value, label], ...]")
    required = models.BooleanField(default=False)
    required_error = models.CharField(
        max_length=200,
        blank=True,
        help_text='GOV.UK error when unanswered, e.g. "Enter your name".',
    )
    default = models.JSONField(null=True, blank=True, help_text="Pre-filled answer, if any.")
    free_text = models.BooleanField(
        default=False,
        help_text="Free text can identify a council: never shown to analysts or exported.",
    )
    personal_data = models.BooleanField(default=False)
    group = models.CharField(
        max_length=80, blank=True, help_text="Questions shown together on one page."
    )
    order = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["section", "order"]
        constraints = [
            models.UniqueConstraint(fields=["section", "slug"], name="question_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.text

    def get_questionnaire(self) -> Questionnaire:
        return self.section.questionnaire


class Survey(models.Model):
    """A survey round: who is invited, with which questionnaire, open when."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="surveys"
    )
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(help_text="The deadline (shown in UK time).")
    population = models.CharField(max_length=20, choices=PopulationKind.choices)
    chosen_authorities = models.ManyToManyField(
        Authority, blank=True, related_name="+", help_text="Only for a chosen list."
    )
    status = models.CharField(
        max_length=10, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opens_at"]
        verbose_name = "survey round"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="survey_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Response(models.Model):
    """One council's response to one round. Created when the council is invited."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(
        max_length=20, choices=ResponseStatus.choices, default=ResponseStatus.NOT_STARTED
    )
    reference = models.CharField(max_length=20, blank=True, help_text="Given on submission.")
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.CharField(max_length=200, blank=True)
    submission_count = models.PositiveSmallIntegerField(default=0)
    deadline_extended_to = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "authority"], name="response_one_per_council_and_round"
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(reference=""),
                name="response_reference_unique",
            ),
        ]
        permissions = [
            ("view_individual_responses", "Can view individual councils' answers"),
            ("export_responses", "Can export raw figures"),
            ("view_tracker", "Can view who has responded"),
        ]

    def __str__(self) -> str:
        return f"{self.authority} – {self.survey}"


class Contributor(models.Model):
    """A named officer the council's link holder asked to help, with a link of their own."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="contributors")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=200, blank=True)
    all_sections = models.BooleanField(default=False)
    sections = models.ManyToManyField(Section, blank=True, related_name="+")
    can_submit = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Answered(models.Model):
    """Who last changed an answer and when; optimistic-concurrency version."""

    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True


class TransactionAnswer(Answered):
    """Whether and how a council provides one key transaction."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="transaction_answers"
    )
    transaction = models.ForeignKey(KeyTransaction, on_delete=models.PROTECT, related_name="+")
    provision = models.CharField(max_length=20, choices=Provision.choices, blank=True)
    channels_offered = models.JSONField(default=list, blank=True)
    end_to_end = models.CharField(max_length=10, choices=EndToEnd.choices, blank=True)
    confirmed_figures = models.CharField(
        max_length=64, blank=True, help_text="Fingerprint of figures confirmed despite warnings."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "transaction"], name="transaction_answer_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.response}: {self.transaction}"


class Figure(Answered):
    """The number of transactions through one channel: the unit of aggregation."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="figures")
    transaction = models.ForeignKey(KeyTransaction, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    value = models.PositiveBigIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_FIGURE)]
    )
    not_recorded = models.BooleanField(default=False)
    estimate = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["response", "transaction", "channel"], name="figure_unique"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(not_recorded=False),
                name="figure_not_both_value_and_not_recorded",
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | Q(value__lte=MAX_FIGURE),
                name="figure_at_most_max",
            ),
        ]
        indexes = [models.Index(fields=["transaction", "channel"])]

    def __str__(self) -> str:
        return f"{self.response}: {self.transaction} / {self.channel}"


class Answer(Answered):
    """The answer to one `Question`, as JSON (text, list of choices, number...)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    value = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.response}: {self.question.slug}"


class AnswerChanges(models.Model):
    """How many statements have written a response's answers (its figures, transaction
    answers and answers), counted by the database on PostgreSQL (triggers made by migration
    0011): whether a response's answers changed between two reads is then one row to read,
    where the fingerprints of a release's inputs scanned every figure (28 million at
    353,000 councils). No foreign key: a response's answers are deleted with it, and the
    triggers count those deletions too. Never written by Django; empty on SQLite.
    """

    response_id = models.BigIntegerField(primary_key=True)
    changes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"response {self.response_id}: {self.changes} changes"


class EmailKind(models.TextChoices):
    """The survey's kinds of email (outbox.OutboundEmail.kind)."""

    INVITATION = "invitation", "Invitation"
    REMINDER = "reminder", "Reminder"
    EXTENSION = "extension", "Deadline extension"
    SUBMISSION_COPY = "submission_copy", "Copy of submitted answers"
    CONTRIBUTOR_ADDED = "contributor_added", "Contributor added"
    CONTRIBUTOR_REASSIGNED = "contributor_reassigned", "Contributor's sections changed"
    SECTION_COMPLETE = "section_complete", "Section completed by a contributor"
    # Sent by the public release (publishing.emails) once per round to each council counted.
    COMPARISON_READY = "comparison_ready", "Council's comparison ready"


class ChangeRecord(models.Model):
    """The audit trail: every accepted change to a response, never edited or deleted."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.CharField(max_length=200)
    contributor = models.ForeignKey(
        Contributor, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    key = models.CharField(max_length=120, help_text="e.g. pay-council-tax/WEB/value")
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["response", "key", "changed_at"])]

    def __str__(self) -> str:
        return f"{datetime_text(self.changed_at)}: {self.key}"


class LinkDownloadKind(models.TextChoices):
    ISSUED = "issued", "Created missing links and downloaded them"
    REISSUED = "reissued", "Re-issued links and downloaded them"


class LinkDownload(models.Model):
    """A record of every download of live council links from the admin: who, when, and
    which councils' links. Never edited or deleted; administrators can read it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=LinkDownloadKind.choices)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    council_count = models.PositiveIntegerField()
    gss_codes = models.JSONField(help_text="The councils whose links the file held.")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "download of council links"
        verbose_name_plural = "downloads of council links"

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display().lower()} ({datetime_text(self.at)})"
