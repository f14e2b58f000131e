import datetime

from django import forms
from django.utils import timezone

from clinic.models import User
from scheduling.models import Closure, WorkingHours

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


def aware(day, time):
    return timezone.make_aware(datetime.datetime.combine(day, time))


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        fields = ["practitioner", "weekday", "starts_at", "ends_at"]
        widgets = {"starts_at": TIME_INPUT, "ends_at": TIME_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = User.objects.practitioners()


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["starts_on", "ends_on", "reason"]
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT}
        help_texts = {"reason": "Shown to front desk when a booking moves, e.g. “Christmas Day”."}


class FirstSlotForm(forms.Form):
    first_date = forms.DateField(label="First session date", widget=DATE_INPUT)
    first_time = forms.TimeField(label="Time", widget=TIME_INPUT)

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("first_date"), cleaned.get("first_time")
        if day and time:
            cleaned["first_start"] = aware(day, time)
            if cleaned["first_start"] < timezone.now():
                self.add_error("first_date", "Choose a date and time in the future.")
        return cleaned


class ProposalRowForm(forms.Form):
    sequence = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    date = forms.DateField(widget=DATE_INPUT)
    time = forms.TimeField(widget=TIME_INPUT)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            cleaned["starts_at"] = aware(cleaned["date"], cleaned["time"])
            if cleaned["starts_at"] < timezone.now():
                self.add_error("date", "This time has already passed.")
        return cleaned


class BaseProposalFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        sequences = [form.cleaned_data["sequence"] for form in self.forms]
        if len(sequences) != len(set(sequences)):
            raise forms.ValidationError("Each session may appear only once.")


ProposalFormSet = forms.formset_factory(ProposalRowForm, formset=BaseProposalFormSet, extra=0)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=200)


class RescheduleForm(forms.Form):
    date = forms.DateField(label="New date", widget=DATE_INPUT)
    time = forms.TimeField(label="New time", widget=TIME_INPUT)
    shift_later = forms.BooleanField(
        label="Shift later sessions of this course by the same amount", required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            cleaned["starts_at"] = aware(cleaned["date"], cleaned["time"])
            if cleaned["starts_at"] < timezone.now():
                self.add_error("date", "Choose a time in the future.")
        return cleaned
