from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from questionnaires.fhir_import import parse_json
from questionnaires.fhir_import import questionnaire_import as import_resource
from questionnaires.forms import FhirImportForm


@require_http_methods(["GET", "POST"])
@permission_required("questionnaires.add_questionnaire", raise_exception=True)
def questionnaire_import(request):
    """A clinic admin imports a FHIR R4 Questionnaire: every item or nothing, with every problem listed."""
    form = FhirImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                questionnaire = import_resource(
                    resource=parse_json(data["text"]),
                    scoring=data["scoring"],
                    min_answered=data["min_answered"],
                    instrument=data["instrument"],
                    higher_is_better=data["higher_is_better"],
                    code=data["code"],
                    copyright_note=data["copyright_note"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request, f"Imported {questionnaire.name} with {questionnaire.items.count()} questions."
                )
                return redirect(reverse("admin:questionnaires_questionnaire_change", args=[questionnaire.pk]))
        status = 400
        messages.error(request, "Nothing was imported: see the messages below.")
    return render(request, "questionnaires/import.html", {"form": form}, status=status)
