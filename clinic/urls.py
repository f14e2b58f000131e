from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import two_factor, two_factor_views, views
from clinic.forms import AdminSignInForm, SignInForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path(
        "accounts/logout/",
        two_factor.second_factor_not_required(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path("accounts/two-factor/", two_factor_views.overview, name="two-factor"),
    path("accounts/two-factor/enrol/", two_factor_views.enrol, name="two-factor-enrol"),
    path("accounts/two-factor/verify/", two_factor_views.verify, name="two-factor-verify"),
    path(
        "accounts/two-factor/recovery-codes/",
        two_factor_views.recovery_codes_new,
        name="two-factor-recovery-codes",
    ),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("patients/", include("patients.urls")),
    path("courses/", include("courses.urls")),
    path("schedule/", include("scheduling.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("audit/api-tokens/", include("api.token_urls")),
    path("audit/", include("clinic.audit_urls")),
    path("api/v1/", include("api.urls")),
    path("questionnaires/", include("questionnaires.urls")),
    # The patients' questionnaire pages: no account, reached by the link in an invitation.
    path("q/", include("questionnaires.patient_urls")),
    path("admin/", admin.site.urls),
]

# The admin's own sign-in page counts every failure too.
admin.site.login_form = AdminSignInForm

handler403 = "clinic.views.permission_denied"
