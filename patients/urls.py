from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="patient-list"),
    path("new/", views.patient_create, name="patient-create"),
    path("<int:pk>/", views.patient_detail, name="patient-detail"),
    path("<int:pk>/edit/", views.patient_edit, name="patient-edit"),
    path("<int:pk>/archive/", views.patient_archive, name="patient-archive"),
    path("<int:pk>/restore/", views.patient_restore, name="patient-restore"),
    path("<int:pk>/screenings/new/", views.screening_create, name="screening-create"),
    path("<int:pk>/consents/new/", views.consent_create, name="consent-create"),
    path("<int:pk>/record/", views.patient_record_page, name="patient-record"),
    path("<int:pk>/record.json", views.patient_record_json, name="patient-record-json"),
    path("consents/<int:pk>/document/", views.consent_document, name="consent-document"),
]
