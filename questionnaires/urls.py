from django.urls import path

from questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("import/", views.questionnaire_import, name="import"),
    path("assignments/<int:pk>/send-again/", views.assignment_send_again, name="assignment-send-again"),
    path("assignments/<int:pk>/tablet/", views.assignment_tablet, name="assignment-tablet"),
]
