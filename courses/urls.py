from django.urls import path

from courses import session_views, views

app_name = "courses"

urlpatterns = [
    path("", views.course_list, name="course-list"),
    path("new/", views.course_create, name="course-create"),
    path("<int:pk>/", views.course_detail, name="course-detail"),
    path("<int:pk>/edit/", views.course_edit, name="course-edit"),
    path("<int:pk>/activate/", views.course_activate, name="course-activate"),
    path("<int:pk>/complete/", views.course_complete, name="course-complete"),
    path("<int:pk>/stop/", views.course_stop, name="course-stop"),
    path("<int:pk>/extend/", views.course_extend, name="course-extend"),
    path("<int:pk>/scores/", views.score_add, name="score-add"),
    path("<int:pk>/scores/<int:score_pk>/void/", views.score_void, name="score-void"),
    path("<int:pk>/walk-in/", views.session_walk_in, name="session-walk-in"),
    path("<int:pk>/trend.json", views.course_trend_data, name="course-trend-data"),
    path("lots/recall/", views.lot_recall, name="lot-recall"),
    path("protocol/", views.protocol_settings, name="protocol-settings"),
    path("sessions/<int:pk>/log/", session_views.session_log, name="session-log"),
    path("sessions/<int:pk>/handout/", session_views.session_handout, name="session-handout"),
    path(
        "patient-reports/<int:pk>/dismiss/",
        session_views.patient_report_dismiss,
        name="patient-report-dismiss",
    ),
]
