from django import forms
from django.db.models import Exists, OuterRef

from clinic import roles
from clinic.choices import BodyRegion
from clinic.inputs import ClinicDateField
from clinic.models import User
from courses.models import (
    Condition,
    CourseStatus,
    OutcomeInstrument,
    ProtocolTimepoint,
    SideEffectTerm,
    TreatmentCourse,
)
from outcomes.selectors import BANDS
from outcomes.volumes import VOLUME_BANDS

ANY = [("", "Any")]
# Labels of the hidden drill-down filters, for the pages that say which filters produced them.
DRILL_LABELS = {
    "sessions_received": "Treatments received",
    "term": "Side effect",
    "severity": "Grade",
    "session_band": "Dextrose band of the treatment",
    "region": "Body region",
    "volume_band": "Total volume injected",
}


def practitioner_list():
    """Users in the practitioner role or treating a course. Scans the courses (tens of ms at clinic scale):
    the dashboard keeps the ids per report data version (outcomes.reports)."""
    in_role = User.groups.through.objects.filter(user=OuterRef("pk"), group__name=roles.PRACTITIONER)
    treating = TreatmentCourse.objects.filter(practitioner=OuterRef("pk"))
    return User.objects.filter(Exists(in_role) | Exists(treating)).order_by(
        "last_name", "first_name", "username"
    )


class OutcomeFilterForm(forms.Form):
    """The dashboard filters. Hidden fields carry a drill-down group (sessions received, term, region)."""

    start_from = ClinicDateField(
        label="Course started from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    start_to = ClinicDateField(
        label="Course started up to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    condition = forms.ModelChoiceField(Condition.objects.all(), required=False, empty_label="Any")
    practitioner = forms.ModelChoiceField(User.objects.none(), required=False, empty_label="Any")
    band = forms.ChoiceField(
        label="Dextrose band",
        choices=ANY + BANDS,
        required=False,
        help_text="The band of most of the course's treatments.",
    )
    anaesthetic = forms.ChoiceField(
        label="Anaesthetic in the preparation",
        choices=[*ANY, ("yes", "With anaesthetic"), ("no", "Without anaesthetic")],
        required=False,
    )
    status = forms.ChoiceField(label="Course status", choices=ANY + CourseStatus.choices, required=False)
    timepoint = forms.ModelChoiceField(
        ProtocolTimepoint.objects.filter(active=True),
        label="Responders at",
        required=False,
        empty_label="Primary timepoint",
        help_text="The timepoint of the responder and dose tables.",
    )
    instrument = forms.ModelChoiceField(
        OutcomeInstrument.objects.all(),
        label="Outcome measure",
        required=False,
        empty_label="Pain NRS",
        help_text="The measure of the responder tables.",
    )

    sessions_received = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    term = forms.ModelChoiceField(SideEffectTerm.objects.all(), required=False, widget=forms.HiddenInput)
    severity = forms.IntegerField(required=False, min_value=1, max_value=5, widget=forms.HiddenInput)
    volume_band = forms.ChoiceField(choices=ANY + VOLUME_BANDS, required=False, widget=forms.HiddenInput)
    session_band = forms.ChoiceField(choices=ANY + BANDS, required=False, widget=forms.HiddenInput)
    region = forms.ChoiceField(
        choices=[*ANY, *BodyRegion.choices, ("none", "Not recorded")],
        required=False,
        widget=forms.HiddenInput,
    )

    # The keys a drill-down link may add; the dashboard's own filters are the rest.
    DRILL_KEYS = ("sessions_received", "term", "severity", "session_band", "region", "volume_band")
    # Filters that choose which figures to read, not which courses: they leave the course set whole.
    READING_KEYS = ("timepoint", "instrument")

    def __init__(self, *args, user, practitioners=None, **kwargs):
        """`practitioners`: the users to list in the practitioner filter (default: `practitioner_list()`)."""
        super().__init__(*args, **kwargs)
        if user.has_perm("courses.view_all_outcomes"):
            self.fields["practitioner"].queryset = (
                practitioners if practitioners is not None else practitioner_list()
            )
        else:
            # Practitioners only ever see their own courses.
            del self.fields["practitioner"]

    def clean(self):
        cleaned = super().clean()
        start_from, start_to = cleaned.get("start_from"), cleaned.get("start_to")
        if start_from and start_to and start_to < start_from:
            self.add_error("start_to", "The end of the range cannot be before its start.")
        return cleaned

    def filters(self):
        """The valid filters (all of them when the form is unbound or invalid fields are dropped)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {key: value for key, value in self.cleaned_data.items() if value not in (None, "")}

    def described(self):
        """[(label, value)] of the filters in force, in words, for the pages that show their results."""
        found = []
        for name, value in self.filters().items():
            field = self.fields[name]
            if isinstance(field, forms.ModelChoiceField):
                text = str(value)
            elif isinstance(field, forms.ChoiceField):
                text = dict(field.choices).get(value, value)
            elif name == "sessions_received":
                text = f"{value} treatment{'s' if value != 1 else ''}"
            else:
                text = value.strftime("%d %b %Y") if hasattr(value, "strftime") else value
            label = DRILL_LABELS.get(name) or field.label or name.replace("_", " ").capitalize()
            found.append((label, text))
        return found

    def query_params(self):
        """The submitted filter values as strings, for building links that keep them."""
        if not self.is_bound:
            return {}
        return {
            name: self.data.get(name)
            for name in self.fields
            if name not in self.DRILL_KEYS and self.data.get(name) and name not in self.errors
        }
