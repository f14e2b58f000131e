"""/api/v1/: every endpoint by name (api:...), each answering its own 401 to a request without credentials
(the pages' sign-in redirect is for browsers), except the docs page, which is a page."""

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path

from api import docs, views

app_name = "api"


def endpoint(view_class):
    """The view, past the sign-in middleware: the API authenticates (token or session) by itself."""
    return login_not_required(view_class.as_view())


urlpatterns = [
    path("patients/", endpoint(views.PatientList), name="patient-list"),
    path("patients/<int:pk>/", endpoint(views.PatientDetail), name="patient-detail"),
    path("patients/<int:pk>/fhir/", endpoint(views.PatientFhirRecord), name="patient-fhir"),
    path("courses/", endpoint(views.CourseList), name="course-list"),
    path("courses/<int:pk>/", endpoint(views.CourseDetail), name="course-detail"),
    path("courses/<int:pk>/treatments/", endpoint(views.CourseTreatments), name="course-treatments"),
    path("courses/<int:pk>/scores/", endpoint(views.CourseScores), name="course-scores"),
    path("treatments/<int:pk>/", endpoint(views.TreatmentDetail), name="treatment-detail"),
    path("visits/", endpoint(views.VisitList), name="visit-list"),
    path("visits/free-slots/", endpoint(views.FreeSlots), name="free-slots"),
    path("visits/book/", endpoint(views.VisitBook), name="visit-book"),
    path("visits/<int:pk>/", endpoint(views.VisitDetail), name="visit-detail"),
    path("visits/<int:pk>/reschedule/", endpoint(views.VisitReschedule), name="visit-reschedule"),
    path("visits/<int:pk>/cancel/", endpoint(views.VisitCancel), name="visit-cancel"),
    path("outcomes/headline/", endpoint(views.OutcomeHeadline), name="outcome-headline"),
    path("schema/", endpoint(docs.SchemaView), name="schema"),
    # DRF marks its views as needing no sign-in (it authenticates by itself); the docs are a page.
    path("docs/", login_required(docs.DocsView.as_view()), name="docs"),
]
