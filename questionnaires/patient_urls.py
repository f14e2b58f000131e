"""The patient's pages: reached by a questionnaire link, without an account (README "Questionnaires")."""

from django.urls import path

from questionnaires import patient_views

app_name = "answer"

urlpatterns = [
    path("done/", patient_views.done, name="done"),
    path("<str:token>/", patient_views.start, name="start"),
    path("<str:token>/questions/<int:number>/", patient_views.question, name="question"),
    path("<str:token>/review/", patient_views.review, name="review"),
]
