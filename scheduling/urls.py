from django.urls import path

from scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.day, name="day"),
    path("week/", views.week, name="week"),
    path("work-lists/", views.worklists, name="worklists"),
    path("courses/<int:pk>/book/", views.course_book, name="course-book"),
    path("sessions/<int:pk>/check-in/", views.session_check_in, name="session-check-in"),
    path("sessions/<int:pk>/no-show/", views.session_no_show, name="session-no-show"),
    path("sessions/<int:pk>/no-show/undo/", views.session_no_show_undo, name="session-no-show-undo"),
    path(
        "sessions/<int:pk>/no-show/follow-up/",
        views.session_no_show_follow_up,
        name="session-no-show-follow-up",
    ),
    path("sessions/<int:pk>/rebook/", views.session_rebook, name="session-rebook"),
    path("sessions/<int:pk>/move-to-now/", views.session_move_to_now, name="session-move-to-now"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session-cancel"),
    path("sessions/<int:pk>/reschedule/", views.session_reschedule, name="session-reschedule"),
    path("hours/", views.working_hours, name="hours"),
    path("hours/<int:pk>/delete/", views.working_hours_delete, name="hours-delete"),
    path("closures/", views.closures, name="closures"),
    path("closures/<int:pk>/", views.closure_edit, name="closure-edit"),
    path("closures/<int:pk>/delete/", views.closure_delete, name="closure-delete"),
    path("feed/", views.feed_settings, name="feed-settings"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
