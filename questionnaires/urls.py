from django.urls import path

from questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("import/", views.questionnaire_import, name="import"),
]
