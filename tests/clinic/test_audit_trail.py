"""The audit trail: every change to clinical rows, catalogues and staff, with who, when and from where."""

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from clinic.middleware import AuditMiddleware
from clinic.network import client_ip
from tests.factories import (
    ConditionFactory,
    InjectionFactory,
    PatientFactory,
    TreatmentCourseFactory,
    UserFactory,
)

NAMED_MODELS = [
    "clinic.User",
    "patients.Patient",
    "patients.Screening",
    "patients.Consent",
    "courses.Condition",
    "courses.InjectionSite",
    "courses.Product",
    "courses.Lot",
    "courses.SideEffectTerm",
    "courses.OutcomeInstrument",
    "courses.ProtocolSettings",
    "courses.CourseExtension",
    "courses.TreatmentCourse",
    "courses.TreatmentSession",
    "courses.PreparationComponent",
    "courses.Injection",
    "courses.SideEffect",
    "courses.OutcomeScore",
]


def entries_for(obj):
    return LogEntry.objects.get_for_object(obj).order_by("timestamp", "id")


@pytest.mark.parametrize("label", NAMED_MODELS)
def test_every_clinical_catalogue_and_staff_model_is_audited(label):
    assert auditlog.contains(apps.get_model(label))


def test_staff_passwords_and_sign_in_times_stay_out_of_the_diffs():
    fields = auditlog.get_model_fields(apps.get_model("clinic.User"))
    assert {"password", "last_login"} <= set(fields["exclude_fields"])


def test_a_change_records_who_when_what_and_from_where(db, clinic_admin):
    condition = ConditionFactory(name="Plantar fasciitis", icd10_code="M72.2")
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.10")
    request.user = clinic_admin

    def rename(request):
        condition.icd10_code = "M72.20"
        condition.save()
        return HttpResponse()

    AuditMiddleware(rename)(request)

    entry = entries_for(condition).last()
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == clinic_admin
    assert entry.remote_addr == "192.0.2.10"
    assert entry.changes_dict == {"icd10_code": ["M72.2", "M72.20"]}


def test_voiding_a_clinical_entry_is_in_its_history(db, practitioner):
    injection = InjectionFactory()
    injection.void(by=practitioner, reason="Entered on the wrong patient")
    entry = LogEntry.objects.get_for_object(injection).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.changes_dict["void_reason"] == ["", "Entered on the wrong patient"]


def test_role_changes_of_staff_are_audited(db):
    from django.contrib.auth.models import Group

    user = UserFactory()
    user.groups.add(Group.objects.get(name="Clinic admin"))
    entry = entries_for(user).last()
    assert entry.changes_dict["groups"]["objects"] == ["Clinic admin"]


class TestClientAddress:
    def request(self, remote="10.0.0.5", forwarded=None):
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
        return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)

    def test_it_ignores_x_forwarded_for_unless_behind_a_proxy(self, settings):
        settings.BEHIND_PROXY = False
        assert client_ip(self.request(forwarded="203.0.113.9")) == "10.0.0.5"

    def test_behind_a_proxy_it_takes_the_address_our_proxy_appended(self, settings):
        settings.BEHIND_PROXY = True
        settings.PROXY_COUNT = 1
        # The client may send its own X-Forwarded-For; only the last entry comes from our proxy.
        assert client_ip(self.request(forwarded="198.51.100.1, 203.0.113.9")) == "203.0.113.9"

    def test_it_counts_hops_for_a_chain_of_proxies(self, settings):
        settings.BEHIND_PROXY = True
        settings.PROXY_COUNT = 2
        assert client_ip(self.request(forwarded="1.2.3.4, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"

    def test_it_falls_back_to_the_peer_when_the_header_is_garbage(self, settings):
        settings.BEHIND_PROXY = True
        settings.PROXY_COUNT = 1
        assert client_ip(self.request(forwarded="not-an-address")) == "10.0.0.5"
        assert client_ip(self.request(forwarded="[2001:db8::1]:4711")) == "2001:db8::1"
        assert client_ip(self.request(forwarded="203.0.113.9:5555")) == "203.0.113.9"


def history_url(obj):
    return reverse("clinic:history", args=[ContentType.objects.get_for_model(obj).pk, obj.pk])


class TestHistoryPage:
    def test_it_lists_who_changed_what_before_and_after_and_from_where(
        self, client_for, clinic_admin, practitioner
    ):
        course = TreatmentCourseFactory(baseline_pain=7)
        request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.44")
        request.user = practitioner

        def change(request):
            course.baseline_pain = 5
            course.save()
            return HttpResponse()

        AuditMiddleware(change)(request)

        response = client_for(clinic_admin).get(history_url(course))
        assert response.status_code == 200
        text = response.content.decode()
        assert "Baseline pain (NRS 0–10)" in text
        assert '<span class="text-body-secondary">7</span> → 5' in text
        assert "192.0.2.44" in text
        assert str(practitioner) in text
        assert reverse("clinic:user-access", args=[practitioner.pk]) in text

    def test_it_is_for_clinic_admins_only(self, client_for, practitioner, front_desk):
        patient = PatientFactory()
        assert client_for(practitioner).get(history_url(patient)).status_code == 403
        assert client_for(front_desk).get(history_url(patient)).status_code == 403

    def test_it_refuses_records_that_are_not_audited(self, client_for, clinic_admin):
        from patients.models import MrnSequence

        counter = MrnSequence.objects.get_or_create(pk=1)[0]
        url = reverse("clinic:history", args=[ContentType.objects.get_for_model(counter).pk, counter.pk])
        assert client_for(clinic_admin).get(url).status_code == 404

    def test_it_answers_404_for_a_missing_record(self, client_for, clinic_admin):
        url = reverse(
            "clinic:history", args=[ContentType.objects.get_for_model(PatientFactory._meta.model).pk, 999999]
        )
        assert client_for(clinic_admin).get(url).status_code == 404

    def test_its_queries_stay_flat_as_history_grows(
        self, client_for, clinic_admin, django_assert_max_num_queries
    ):
        patient = PatientFactory()
        client = client_for(clinic_admin)
        for n in range(3):
            patient.notes = f"note {n}"
            patient.save()
        with django_assert_max_num_queries(12):
            client.get(history_url(patient))
        for n in range(30):
            patient.notes = f"more {n}"
            patient.save()
        with django_assert_max_num_queries(12):
            assert client.get(history_url(patient)).status_code == 200


class TestHistoryLink:
    def render(self, user, obj):
        from django.contrib.auth.context_processors import PermWrapper

        return render_to_string("clinic/_history_link.html", {"object": obj, "perms": PermWrapper(user)})

    def test_clinic_admins_see_the_link(self, clinic_admin):
        patient = PatientFactory()
        html = self.render(clinic_admin, patient)
        assert history_url(patient) in html
        assert "History" in html

    def test_other_roles_do_not(self, practitioner, front_desk):
        patient = PatientFactory()
        assert self.render(practitioner, patient).strip() == ""
        assert self.render(front_desk, patient).strip() == ""


def test_the_history_page_leads_back_to_the_record(client_for, clinic_admin):
    patient = PatientFactory()
    response = client_for(clinic_admin).get(history_url(patient))
    assert response.context["object_url"] == reverse("patients:patient-detail", args=[patient.pk])
