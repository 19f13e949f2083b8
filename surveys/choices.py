from django.db import models


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class PopulationKind(models.TextChoices):
    """Which councils a round invites."""

    ENGLAND_2015 = "england_2015", "English councils on 1 July 2015 (353)"
    CURRENT = "current", "Current English councils"
    CHOSEN = "chosen", "A chosen list of councils"


class ResponseStatus(models.TextChoices):
    """The one state machine of a council's response (see surveys.services)."""

    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    REOPENED = "reopened", "Reopened"
    CLOSED = "closed", "Closed"


class SectionKind(models.TextChoices):
    QUESTIONS = "questions", "Questions"
    TRANSACTIONS = "transactions", "Channels for key transactions"


class QuestionKind(models.TextChoices):
    TEXT = "text", "Short text"
    TEXTAREA = "textarea", "Long text"
    EMAIL = "email", "Email address"
    PHONE = "phone", "Telephone number"
    DATE = "date", "Date"
    CHOICE = "choice", "One of a list"
    MULTICHOICE = "multichoice", "Any of a list"
    SCALE = "scale", "Scale 1 to 5"
    MONEY = "money", "Amount in pounds"


class Provision(models.TextChoices):
    YES = "yes", "Yes"
    NOT_RESPONSIBLE = "not_responsible", "Not our responsibility"
    OTHER_ORGANISATION = "other_organisation", "Provided by another organisation for us"


class EndToEnd(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class ChangeKind(models.TextChoices):
    FIGURE = "figure", "Figure"
    TRANSACTION = "transaction", "Transaction answer"
    ANSWER = "answer", "Answer"
    STATUS = "status", "Response status"


class RevokeContributors(models.TextChoices):
    """Which contributors lose their links when a council's link is re-issued."""

    SINCE_ISSUE = "since-issue", "contributors added since the link was last issued"
    ALL = "all", "every contributor"
    NONE = "none", "no contributor"
