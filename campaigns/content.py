"""Campaign emails: editable subject and body with ((placeholders)), as GOV.UK Notify.

Administrators write plain text. The text part is that text filled in; the HTML part is
built from it by templates/emails/<kind>.html, escaping every value, with the full link
on a line of its own (Notify's rules: the person's name, the full link on the service's
own domain, no tracking, no attachments, nothing sensitive in the subject).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from campaigns.choices import TemplateKind

PLACEHOLDER = re.compile(r"\(\(\s*([A-Za-z_]+)\s*\)\)")
PLACEHOLDERS = (
    "chief_executive_name",
    "council_name",
    "survey_name",
    "link",
    "deadline",
    "days_left",
    "team_email",
)
LINK_LINE = "((link))"
# The Django templates that wrap each kind's text (templates/emails/<name>*.{txt,html}).
TEMPLATE_FILES = {
    TemplateKind.INVITATION: "invitation",
    TemplateKind.REMINDER_NOT_STARTED: "reminder",
    TemplateKind.REMINDER_STARTED: "reminder",
    TemplateKind.EXTENSION: "extension",
}

DEFAULTS: dict[str, tuple[str, str]] = {
    TemplateKind.INVITATION: (
        "((survey_name)): please respond by ((deadline))",
        """Dear ((chief_executive_name)),

We are asking every council in England to take part in ((survey_name)). It asks how \
residents use ((council_name))'s channels for key transactions, such as paying council tax.

Please answer by ((deadline)) (UK time). You, or an officer you forward this email to, can \
use this link:

((link))

You can save your answers and come back to them at any time before the deadline. Several \
people can work on the answers.

Your council's answers are confidential. We only publish totals, protected so that no \
council can be identified.

If you have any questions, email ((team_email)).

Local Digital Alliance survey team""",
    ),
    TemplateKind.REMINDER_NOT_STARTED: (
        "Reminder: ((survey_name)) closes on ((deadline))",
        """Dear ((chief_executive_name)),

We have not yet had ((council_name))'s response to ((survey_name)).

You have ((days_left)) left: the deadline is ((deadline)) (UK time). Use this link to start:

((link))

If you have any questions, or cannot respond by the deadline, email ((team_email)).

Local Digital Alliance survey team""",
    ),
    TemplateKind.REMINDER_STARTED: (
        "Reminder: submit your answers to ((survey_name)) by ((deadline))",
        """Dear ((chief_executive_name)),

Thank you for starting ((council_name))'s response to ((survey_name)). Your answers are \
saved, but they have not been submitted yet.

You have ((days_left)) left: the deadline is ((deadline)) (UK time). Use this link to \
finish and submit:

((link))

If you have any questions, or cannot finish by the deadline, email ((team_email)).

Local Digital Alliance survey team""",
    ),
    TemplateKind.EXTENSION: (
        "((survey_name)): your new deadline is ((deadline))",
        """Dear ((chief_executive_name)),

We have extended ((council_name))'s deadline for ((survey_name)). The new deadline is \
((deadline)) (UK time). If you have already submitted, you can reopen your response to \
correct it until then.

Use the same link as before:

((link))

If you have any questions, email ((team_email)).

Local Digital Alliance survey team""",
    ),
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def template_errors(*, kind: str, subject: str, body: str) -> list[str]:
    """Problems that stop a template being saved, in GOV.UK error wording."""
    errors = []
    for name in sorted(set(PLACEHOLDER.findall(subject)) | set(PLACEHOLDER.findall(body))):
        if name not in PLACEHOLDERS:
            errors.append(
                f"(({name})) is not a placeholder you can use. Use "
                + ", ".join(f"(({p}))" for p in PLACEHOLDERS)
            )
    if "link" in PLACEHOLDER.findall(subject):
        errors.append("The subject must not contain the link: it is a key to the council's answers")
    if "chief_executive_name" not in PLACEHOLDER.findall(body):
        errors.append("Address the chief executive by name: include ((chief_executive_name))")
    if not any(line.strip() == LINK_LINE for line in body.splitlines()):
        errors.append("Put ((link)) on a line of its own in the body")
    return errors


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def paragraphs(body: str, values: dict[str, str]) -> list[list[dict[str, str]]]:
    """The body as paragraphs of lines; a line that is only ((link)) becomes a link.

    Values stay plain text here: the HTML template escapes them.
    """
    blocks = re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip())
    result = []
    for block in blocks:
        lines = []
        for line in block.split("\n"):
            if line.strip() == LINK_LINE:
                lines.append({"link": values["link"]})
            else:
                lines.append({"text": fill(line.strip(), values)})
        result.append(lines)
    return result


def render(*, kind: str, subject: str, body: str, values: dict[str, str]) -> Rendered:
    """Subject, text and HTML parts of one council's email."""
    from outbox.sending import render_email

    context = {
        "subject": " ".join(fill(subject, values).split()),
        "body": fill(body.replace("\r\n", "\n").strip(), values),
        "paragraphs": paragraphs(body, values),
        "values": values,
    }
    rendered_subject, text, html = render_email(TEMPLATE_FILES[kind], context)
    return Rendered(rendered_subject, text, html)
