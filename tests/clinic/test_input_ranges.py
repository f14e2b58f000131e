"""Dates and page numbers: one range for every date a form takes, page numbers clamped, formset management
data checked against the rows sent (clinic.inputs)."""

import datetime
import importlib
import inspect

import pytest
from django import forms
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from clinic.inputs import MAX_PAGE, MAX_RECORD_ID, CheckedFormSet, ClinicDateField, page_number, record_id
from tests.factories import PatientFactory, TreatmentCourseFactory

FORM_MODULES = (
    "patients.forms",
    "courses.forms",
    "courses.session_forms",
    "scheduling.forms",
    "outcomes.forms",
)
HUGE = "99999999999999999999"


def _form_classes():
    for name in FORM_MODULES:
        for _, value in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == name:
                yield value


def test_every_date_a_form_takes_is_a_clinic_date():
    plain = [
        f"{form.__module__}.{form.__name__}.{field_name}"
        for form in _form_classes()
        for field_name, field in form.base_fields.items()
        if isinstance(field, forms.DateField) and not isinstance(field, ClinicDateField)
    ]
    assert plain == []


def test_every_date_in_the_admin_is_a_clinic_date(superuser_request):
    plain = []
    for model, model_admin in admin.site._registry.items():
        form = model_admin.get_form(superuser_request)
        for inline in model_admin.get_inline_instances(superuser_request):
            formset = inline.get_formset(superuser_request)
            plain += [
                f"{model.__name__} inline {name}"
                for name, field in formset.form.base_fields.items()
                if isinstance(field, forms.DateField) and not isinstance(field, ClinicDateField)
            ]
        plain += [
            f"{model.__name__}.{name}"
            for name, field in form.base_fields.items()
            if isinstance(field, forms.DateField)
            and not isinstance(field, (ClinicDateField, forms.DateTimeField))
        ]
    assert plain == []


@pytest.fixture
def superuser_request(db):
    from tests.factories import UserFactory

    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    return request


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "1899-12-31"])
def test_a_date_out_of_range_is_a_field_error(value):
    field = ClinicDateField()
    with pytest.raises(forms.ValidationError, match="check the year"):
        field.clean(value)


def test_a_date_in_range_is_accepted():
    assert ClinicDateField().clean("2026-03-01") == datetime.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("value", "number"),
    [(HUGE, MAX_PAGE), ("2", 2), ("0", 0), ("-4", 0), ("two", 1), (None, 1), ("", 1), ("1e9", 1)],
)
def test_page_numbers_are_clamped(value, number):
    assert page_number(value) == number


@pytest.mark.parametrize(
    "url",
    [
        reverse("patients:patient-list"),
        reverse("patients:patient-list") + "?q=smith",
        reverse("courses:course-list"),
        reverse("outcomes:course-list"),
    ],
)
def test_a_huge_page_number_is_never_a_server_error(url, client_for, clinic_admin, practitioner):
    PatientFactory(family_name="Smith")
    TreatmentCourseFactory(practitioner=practitioner)
    separator = "&" if "?" in url else "?"
    response = client_for(clinic_admin).get(f"{url}{separator}page={HUGE}")
    assert response.status_code in (200, 403)


def test_the_audit_pages_clamp_a_huge_page_number(client_for, clinic_admin):
    response = client_for(clinic_admin).get(
        reverse("clinic:user-access", args=[clinic_admin.pk]) + f"?page={HUGE}"
    )
    assert response.status_code == 200


def test_a_formset_claiming_more_rows_than_sent_has_a_clear_error():
    from scheduling.forms import ProposalFormSet

    data = {
        "rows-TOTAL_FORMS": "5",
        "rows-INITIAL_FORMS": "0",
        "rows-0-date": "2031-01-06",
        "rows-0-time": "10:00",
    }
    formset = ProposalFormSet(data, prefix="rows", to_book=[1, 2, 3, 4, 5])
    assert not formset.is_valid()
    assert "rows but 4 of them were not sent" in str(formset.non_form_errors())


def test_every_formset_checks_its_management_data():
    from courses.session_forms import FORMSETS
    from scheduling.forms import ProposalFormSet

    for formset in [ProposalFormSet, *(formset for _, formset in FORMSETS)]:
        assert issubclass(formset, CheckedFormSet), formset


@pytest.mark.parametrize(
    ("value", "pk"),
    [
        ("42", 42),
        (" 7 ", 7),
        (42, 42),
        (str(MAX_RECORD_ID), MAX_RECORD_ID),
        (str(MAX_RECORD_ID + 1), None),
        ("0", None),
        ("-3", None),
        ("²", None),  # isdigit() says yes, int() says no
        ("١٢", None),  # Arabic-Indic digits: int() would take them, an id in our links never has them
        ("1e3", None),
        ("", None),
        (None, None),
        ("9" * 400, None),
    ],
)
def test_record_ids_are_ascii_digits_the_database_can_take(value, pk):
    assert record_id(value) == pk
