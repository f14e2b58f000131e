from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("courses/", views.course_list, name="course-list"),
    path("charts/<slug:name>.json", views.chart_data, name="chart-data"),
    path("tables/<slug:name>.csv", views.table_csv, name="csv"),
    path("research-export/", views.research_export, name="research-export"),
    path("research-export/data-dictionary/", views.data_dictionary, name="data-dictionary"),
    path(
        "research-export/data-dictionary/redcap.csv",
        views.redcap_dictionary,
        name="data-dictionary-redcap",
    ),
    path("patients/<int:patient_pk>/trend.json", views.patient_trend_data, name="patient-trend-data"),
]
