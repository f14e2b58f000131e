import datetime

from django import forms
from django.utils import timezone

from clinic.inputs import in_clinic_range
from courses.models import OutcomeInstrument
from questionnaires.fhir_import import MAX_BYTES
from questionnaires.models import AnswerType, Scoring


class BirthDateForm(forms.Form):
    """The date of birth as three boxes (day, month, year): the same on every phone, whatever its language
    (a browser's date picker shows the order of the phone's locale)."""

    day = forms.IntegerField(label="Day", min_value=1, max_value=31)
    month = forms.IntegerField(label="Month", min_value=1, max_value=12)
    year = forms.IntegerField(label="Year", min_value=1900, max_value=9999)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.error_messages = {
                "required": f"Enter the {name} you were born.",
                "invalid": f"Enter the {name} as a number.",
                "min_value": f"Check the {name}.",
                "max_value": f"Check the {name}.",
            }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            born = datetime.date(data["year"], data["month"], data["day"])
        except ValueError:
            raise forms.ValidationError("That is not a real date: check the day and the month.") from None
        if not in_clinic_range(born) or born > timezone.localdate():
            raise forms.ValidationError("Check the year you were born.")
        data["date_of_birth"] = born
        return data


class AnswerForm(forms.Form):
    """One question on its own screen: a field named `answer` built from the item."""

    def __init__(self, item, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        common = {
            "label": item.text,
            "required": item.required,
            "help_text": item.help_text,
            "error_messages": {
                "required": "Please answer this question to go on.",
                "invalid_choice": "Please choose one of the answers offered.",
            },
        }
        if item.answer_type == AnswerType.TEXT:
            field = forms.CharField(
                max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), strip=True, **common
            )
        else:
            field = forms.ChoiceField(choices=self.choices(item), widget=forms.RadioSelect, **common)
        self.fields["answer"] = field

    @staticmethod
    def choices(item):
        if item.answer_type == AnswerType.INTEGER:
            return [(str(n), str(n)) for n in range(item.min_value, item.max_value + 1)]
        if item.answer_type == AnswerType.YES_NO:
            return [("1", "Yes"), ("0", "No")]
        return [(str(choice.pk), choice.label) for choice in item.choices.all()]


def initial_answer(answer):
    """The form's initial value from a saved answer (resuming shows what was given)."""
    if answer is None:
        return None
    if answer.choice_id:
        return str(answer.choice_id)
    if answer.value_integer is not None:
        return str(answer.value_integer)
    return answer.value_text


class FhirImportForm(forms.Form):
    """A FHIR R4 Questionnaire (uploaded or pasted) and what FHIR does not say: how it is scored."""

    file = forms.FileField(label="Questionnaire file (JSON)", required=False)
    pasted = forms.CharField(
        label="…or paste the JSON", required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    code = forms.SlugField(
        max_length=30,
        required=False,
        help_text="Short code, e.g. odi. Left empty: made from the resource's name.",
    )
    scoring = forms.ChoiceField(choices=Scoring.choices, initial=Scoring.SUM)
    min_answered = forms.IntegerField(
        label="Fewest scored questions answered for a score", min_value=0, max_value=200, initial=1
    )
    instrument = forms.ModelChoiceField(
        queryset=OutcomeInstrument.objects.filter(active=True),
        required=False,
        help_text="The catalogue instrument whose score history receives the score "
        "(same range and direction).",
    )
    higher_is_better = forms.BooleanField(required=False, label="A higher score is better")
    copyright_note = forms.CharField(
        max_length=300, required=False, help_text="The licence under which the clinic uses the items."
    )

    def clean(self):
        data = super().clean()
        upload, pasted = data.get("file"), (data.get("pasted") or "").strip()
        if upload and pasted:
            raise forms.ValidationError("Upload a file or paste the JSON, not both.")
        if not upload and not pasted:
            raise forms.ValidationError("Upload a Questionnaire file or paste its JSON.")
        if upload:
            if upload.size > MAX_BYTES:
                raise forms.ValidationError("The file is larger than 1 MB: is it really a Questionnaire?")
            try:
                pasted = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "The file is not UTF-8 text: export the Questionnaire as JSON."
                ) from None
        data["text"] = pasted
        return data
