"""Forms of the administrators' campaign pages, with GOV.UK error wording."""

from __future__ import annotations

import datetime
import re

from django import forms

from authorities.choices import AuthorityKind, Region
from campaigns.choices import TemplateKind, TrackerStatus
from campaigns.schedule import LONDON

TIME = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*$")


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
    time = forms.CharField(max_length=5, required=False)

    def clean(self):
        data = super().clean()
        if self.errors:
            self.errors.clear()
            raise forms.ValidationError("Enter a real date, like 31 7 2015")
        parts = [data.get("day"), data.get("month"), data.get("year")]
        if any(p is None for p in parts):
            raise forms.ValidationError("Enter the new deadline's day, month and year")
        match = TIME.match(data.get("time") or "")
        if not match or int(match.group(1)) > 23 or int(match.group(2) or 0) > 59:
            raise forms.ValidationError("Enter a time, like 17:00")
        try:
            day = datetime.date(parts[2], parts[1], parts[0])
        except ValueError:
            raise forms.ValidationError("Enter a real date, like 31 7 2015") from None
        at = datetime.time(int(match.group(1)), int(match.group(2) or 0))
        data["until"] = datetime.datetime.combine(day, at, tzinfo=LONDON)
        return data
