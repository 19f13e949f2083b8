"""Forms of the administrators' campaign pages, with GOV.UK error wording."""

from __future__ import annotations

import datetime
import re

from django import forms

from authorities.choices import AuthorityKind, Region
from campaigns.choices import TemplateKind, TrackerStatus
from campaigns.schedule import LONDON

# "17:00", "5pm", "5:30pm", "5.30pm", "midday", "midnight": what the hint and GOV.UK style use.
TIME = re.compile(r"^\s*(\d{1,2})(?:[:.](\d{2}))?\s*([ap]\.?m\.?)?\s*$", re.IGNORECASE)
NAMED_TIMES = {"midday": datetime.time(12, 0), "noon": datetime.time(12, 0),
               "midnight": datetime.time(0, 0)}  # fmt: skip


def parse_time(text: str) -> datetime.time | None:
    """A time of day as people type it, or None when it is not one."""
    text = text.strip().lower()
    if text in NAMED_TIMES:
        return NAMED_TIMES[text]
    match = TIME.match(text)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    return datetime.time(hour, minute)


class TrackerFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        choices=TrackerStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.MultipleChoiceField(
        label="Council type",
        choices=AuthorityKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    region = forms.MultipleChoiceField(
        choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    q = forms.CharField(label="Council name or GSS code", required=False, max_length=100)
    everyone = forms.BooleanField(label="Include councils that have submitted", required=False)


class PreviewForm(forms.Form):
    kind = forms.ChoiceField(
        label="Email",
        choices=TemplateKind.choices,
        error_messages={"required": "Select an email", "invalid_choice": "Select an email"},
    )
    council = forms.CharField(
        label="Council", max_length=9, error_messages={"required": "Select a council"}
    )


class ExtensionForm(forms.Form):
    day = forms.IntegerField(min_value=1, max_value=31, required=False)
    month = forms.IntegerField(min_value=1, max_value=12, required=False)
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
    time = forms.CharField(max_length=10, required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            self.errors.clear()
            raise forms.ValidationError("Enter a real date, like 31 7 2015")
        parts = [data.get("day"), data.get("month"), data.get("year")]
        if any(p is None for p in parts):
            raise forms.ValidationError("Enter the new deadline's day, month and year")
        at = parse_time(data.get("time") or "")
        if at is None:
            raise forms.ValidationError("Enter a time, like 5pm or 17:00")
        try:
            day = datetime.date(parts[2], parts[1], parts[0])
        except ValueError:
            raise forms.ValidationError("Enter a real date, like 31 7 2015") from None
        data["until"] = datetime.datetime.combine(day, at, tzinfo=LONDON)
        return data
