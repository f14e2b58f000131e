"""Audit trail pages, under the "clinic" namespace (clinic:history, clinic:patient-access, ...)."""

from django.urls import path

from clinic import audit_views, outbox_views, two_factor_views

app_name = "clinic"

urlpatterns = [
    path("history/<int:content_type_id>/<int:object_id>/", audit_views.history, name="history"),
    path("patients/<int:pk>/access/", audit_views.patient_access_log, name="patient-access"),
    path("staff/<int:pk>/access/", audit_views.user_access_log, name="user-access"),
    path("lockouts/", audit_views.lockouts, name="lockouts"),
    path("lockouts/<int:pk>/unlock/", audit_views.lockout_unlock, name="lockout-unlock"),
    path("messages/", outbox_views.message_list, name="messages"),
    path("messages/<int:pk>/retry/", outbox_views.message_retry_view, name="message-retry"),
    path("two-factor/", two_factor_views.staff, name="staff-two-factor"),
    path("two-factor/<int:pk>/reset/", two_factor_views.staff_reset, name="staff-two-factor-reset"),
]
