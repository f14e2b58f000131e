from django.urls import path

from questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("import/", views.questionnaire_import, name="import"),
    path("assignments/<int:pk>/send-again/", views.assignment_send_again, name="assignment-send-again"),
    path("assignments/<int:pk>/tablet/", views.assignment_tablet, name="assignment-tablet"),
    path("follow-ups-missing/", views.follow_ups_missing, name="follow-ups-missing"),
    path("urgent/", views.urgent_alerts, name="urgent-alerts"),
    path("urgent/<int:pk>/acknowledge/", views.urgent_alert_acknowledge, name="urgent-alert-acknowledge"),
]
