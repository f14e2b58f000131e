"""Record pages lead clinic admins to the audit trail; the 500 page passes the Content-Security-Policy."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.urls import reverse

from tests.factories import PatientFactory, TreatmentCourseFactory, TreatmentSessionFactory


def history_url(obj):
    return reverse("clinic:history", args=[ContentType.objects.get_for_model(obj).pk, obj.pk])


def test_a_clinic_admin_follows_the_patient_pages_history_link_to_a_change_made_in_the_app(
    client_for, clinic_admin
):
    patient = PatientFactory(
        given_name="Ada", family_name="Quinn", phone="01632 960001", email="ada@mail.example"
    )
    client = client_for(clinic_admin)
    edited = client.post(
        reverse("patients:patient-edit", args=[patient.pk]),
        {
            "given_name": "Ada",
            "family_name": "Quinn",
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": patient.sex,
            "phone": "01632 960999",
            "email": "ada@mail.example",
            "preferred_contact": "phone",
            "reminders_allowed": "on",
        },
    )
    assert edited.status_code == 302

    page = client.get(reverse("patients:patient-detail", args=[patient.pk]))
    link = history_url(patient)
    assert f'href="{link}"' in page.text

    history = client.get(link)
    assert history.status_code == 200
    text = history.text
    assert "01632 960001" in text  # before
    assert "01632 960999" in text  # after
    assert str(clinic_admin) in text
    assert reverse("patients:patient-detail", args=[patient.pk]) in text  # the way back


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("patients:patient-detail", PatientFactory),
        ("courses:course-detail", TreatmentCourseFactory),
        ("courses:session-log", lambda: TreatmentSessionFactory(completed=True)),
    ],
)
def test_the_history_link_is_in_the_page_header_for_clinic_admins_only(
    client_for, clinic_admin, practitioner, name, make
):
    record = make()
    url = reverse(name, args=[record.pk])
    link = history_url(record)

    admin_page = client_for(clinic_admin).get(url).text
    assert f'href="{link}"' in admin_page
    assert client_for(clinic_admin).get(link).status_code == 200

    assert link not in client_for(practitioner).get(url).text


def test_the_server_error_page_has_no_inline_style_or_script():
    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert not re.search(r"\sstyle\s*=", html, re.IGNORECASE)
    assert "<style" not in html.lower()
    assert "<script" not in html.lower()
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE)
    assert 'href="/"' in html  # a way back
