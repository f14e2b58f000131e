import datetime

from django import forms
from django.utils import timezone

from clinic.inputs import CheckedFormSet, ClinicDateField, clinic_formfield
from clinic.models import User
from courses.models import NoShowFollowUp
from scheduling.models import Closure, WorkingHours

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


def aware(day, time):
    return timezone.make_aware(datetime.datetime.combine(day, time))


class WorkingHoursForm(forms.ModelForm):
    class Meta:
        model = WorkingHours
        formfield_callback = clinic_formfield
        fields = ["practitioner", "weekday", "starts_at", "ends_at"]
        widgets = {"starts_at": TIME_INPUT, "ends_at": TIME_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = User.objects.practitioners()


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        formfield_callback = clinic_formfield
        fields = ["starts_on", "ends_on", "reason"]
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT}
        help_texts = {"reason": "Shown to front desk when a booking moves, e.g. “Christmas Day”."}


class FirstSlotForm(forms.Form):
    first_date = ClinicDateField(label="First session date", widget=DATE_INPUT)
    first_time = forms.TimeField(label="Time", widget=TIME_INPUT)

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("first_date"), cleaned.get("first_time")
        if day and time:
            cleaned["first_start"] = aware(day, time)
            if cleaned["first_start"] < timezone.now():
                self.add_error("first_date", "Choose a date and time in the future.")
        return cleaned


SPACING_REASON_HELP = (
    "Only when the visit must sit outside the course's spacing window: it is then recorded as a protocol "
    "deviation with this reason."
)


class ProposalRowForm(forms.Form):
    """One treatment of a course booking: only the date and time chosen travel through the browser. The
    treatment's number and every check are worked out again on the server (scheduling.diary.course_book)."""

    date = ClinicDateField(widget=DATE_INPUT)
    time = forms.TimeField(widget=TIME_INPUT)
    spacing_reason = forms.CharField(
        label="Reason outside the spacing window",
        max_length=300,
        required=False,
        help_text=SPACING_REASON_HELP,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            cleaned["starts_at"] = aware(cleaned["date"], cleaned["time"])
        return cleaned


class BaseProposalFormSet(CheckedFormSet):
    def __init__(self, *args, to_book=(), **kwargs):
        self.to_book = list(to_book)
        super().__init__(*args, **kwargs)

    def clean(self):
        if any(self.errors):
            return
        if len(self.forms) > len(self.to_book):
            raise forms.ValidationError(
                f"Only {len(self.to_book)} treatment(s) remain to book; propose again from step 1."
            )
        starts = [form.cleaned_data["starts_at"] for form in self.forms]
        if starts != sorted(starts):
            raise forms.ValidationError("Put the treatments in date order: each comes after the one before.")


ProposalFormSet = forms.formset_factory(
    ProposalRowForm, formset=BaseProposalFormSet, extra=0, max_num=20, absolute_max=20, validate_max=True
)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Reason for cancelling", max_length=200)


class RescheduleForm(forms.Form):
    date = ClinicDateField(label="New date", widget=DATE_INPUT)
    time = forms.TimeField(label="New time", widget=TIME_INPUT)
    shift_later = forms.BooleanField(
        label="Shift the later booked visits of this course by the same amount", required=False
    )
    spacing_reason = forms.CharField(
        label="Reason outside the spacing window",
        max_length=300,
        required=False,
        help_text=SPACING_REASON_HELP,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            cleaned["starts_at"] = aware(cleaned["date"], cleaned["time"])
        return cleaned


class NoShowFollowUpForm(forms.Form):
    outcome = forms.ChoiceField(label="What happened", choices=NoShowFollowUp.choices)
    note = forms.CharField(label="Note", max_length=200, required=False)
