"""ProloTrack settings, read from environment variables (see the README's configuration table)."""

import os
from pathlib import Path

from clinic.env import database_config, env_bool, env_int, env_list, secret_key, tasks_config

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CLINIC_NAME = os.environ.get("CLINIC_NAME", "ProloTrack Demo Clinic")
# Printed in appointment reminders as the way to reschedule.
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "01632 960000")
# Where the clinic is told about things to act on (a patient's questionnaire link locked); empty: no e-mail.
CLINIC_EMAIL = os.environ.get("CLINIC_EMAIL", "")
# The address patients reach the site at: the links in questionnaire invitations start with it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

TASKS, TASK_APPS, RQ_QUEUES = tasks_config()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    # Security (README "Security"): audit trail, sign-in lockout, Content-Security-Policy.
    "auditlog",
    "axes",
    "csp",
    # Two-factor sign-in (clinic.two_factor): authenticator-app codes and single-use recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The REST API (api/, README "API"): Django REST framework, django-filter, the OpenAPI schema and its
    # Swagger UI, whose files come from the drf-spectacular-sidecar package (never a CDN).
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Messages to patients go through an outbox (clinic.outbox) and a task queue: django-tasks, the backport
    # of Django 6's tasks framework, with the database backend unless TASKS_BACKEND says redis.
    "django_tasks",
    *TASK_APPS,
    "clinic",
    "patients",
    "courses",
    "scheduling",
    "outcomes",
    "questionnaires",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL characters and over-long query values refused (400) before anything reads them.
    "clinic.inputs.RequestInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Idle and absolute session limits, before anything serves the page.
    "clinic.middleware.SessionTimeoutMiddleware",
    # Every page needs a signed-in user unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # ...and, where two-factor sign-in applies, a verified second factor (every page, the admin's too).
    "clinic.two_factor.TwoFactorMiddleware",
    # Who and from where, for every audit entry written while serving the request.
    "clinic.middleware.AuditMiddleware",
    # A write the database refused, or a refusal no view caught: a page with the sentence, never a 500.
    "clinic.constraints.ConstraintRefusalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a locked-out sign-in into the lockout page (last, so it sees the login view's result).
    "axes.middleware.AxesMiddleware",
]

# The benchmark (bench/, README "Performance") reads each response's query count from a header.
if env_bool("QUERY_COUNT_HEADER", default=False):
    MIDDLEWARE.insert(0, "clinic.querycount.QueryCountMiddleware")

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {"default": database_config(os.environ.get("DATABASE_URL", ""), base_dir=BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Computed outcome reports (outcomes.reports), keyed by scope, filters, day and the report data version that
# every write bumps: per process by default (correct across workers, since the version is read from the
# database); REPORT_CACHE_BACKEND/REPORT_CACHE_LOCATION point it at Redis or memcached to share it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "reports": {
        "BACKEND": os.environ.get("REPORT_CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": os.environ.get("REPORT_CACHE_LOCATION", "outcome-reports"),
        "TIMEOUT": env_int("REPORT_CACHE_SECONDS", 3600),
        "OPTIONS": {"MAX_ENTRIES": 200} if "REPORT_CACHE_BACKEND" not in os.environ else {},
    },
}

AUTH_USER_MODEL = "clinic.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
# English only: without translation machinery every value a template prints skips an active-language
# lookup (a measurable share of rendering a long list). Date and number formats still follow en-gb.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end packages come from npm (package-lock.json); only their built files are exposed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploaded documents (consent scans) are private: never under STATIC or a public URL.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Largest scanned consent form accepted, in bytes (patients.forms reads it).
CONSENT_UPLOAD_MAX_BYTES = env_int("CONSENT_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# Key of the research export's pseudonyms (outcomes.exports). Its own secret lets SECRET_KEY be rotated
# without renumbering every exported patient and course; it defaults to SECRET_KEY.
RESEARCH_KEY = os.environ.get("RESEARCH_KEY") or SECRET_KEY
# FHIR output (api/fhir.py): the clinic's own code systems (<base>/<kind>, for what has no verified standard
# code), its extensions and the system of its MRNs. Set them to URIs the clinic controls.
FHIR_CODE_SYSTEM_BASE = os.environ.get("FHIR_CODE_SYSTEM_BASE", "https://prolotrack.example/fhir/CodeSystem")
FHIR_EXTENSION_BASE = os.environ.get(
    "FHIR_EXTENSION_BASE", "https://prolotrack.example/fhir/StructureDefinition"
)
FHIR_MRN_SYSTEM = os.environ.get("FHIR_MRN_SYSTEM", "https://prolotrack.example/fhir/sid/mrn")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
# A send that hangs must give up well before the outbox takes its message for abandoned (clinic.outbox).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ProloTrack <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}


# --- Security: audit trail, sign-in lockout, sessions, HTTPS and Content-Security-Policy ----------------
# Everything here is explained in the README's "Security" section, with the production variables.
from datetime import timedelta  # noqa: E402

from csp.constants import NONE, SELF  # noqa: E402

# Behind a reverse proxy: trust X-Forwarded-Proto for HTTPS and the last PROXY_COUNT entries of
# X-Forwarded-For for the client address (audit trail, lockout). Off, both headers are ignored.
BEHIND_PROXY = env_bool("BEHIND_PROXY", default=False)
PROXY_COUNT = env_int("PROXY_COUNT", 1)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# django-auditlog: models are registered in clinic/audit.py. Foreign keys are stored as ids (the truth at
# the time) and shown by name on the history page.
AUDITLOG_DISABLE_REMOTE_ADDR = False

# django-axes: 5 wrong passwords for one username from one address lock that pair for 15 minutes, so one
# mistyping user does not lock out a whole clinic behind one router. Clinic admins unlock on the
# "Sign-in lockouts" page (clinic:lockouts); on the server: `python manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading a user's roles and permissions in one query per request.
    "clinic.backends.RoleBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# A right password alone does not clear the count when a second factor follows: wrong codes count as
# failures too, and only a complete sign-in (clinic.two_factor) clears them.
AXES_RESET_ON_SUCCESS = False
# The lock runs 15 minutes from the fifth failure; more tries while locked do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "clinic.network.client_ip"
# Every attempt is recorded, however long the user name or whatever it contains.
AXES_USERNAME_CALLABLE = "clinic.inputs.sign_in_username"

# Automatic sign-out: SESSION_IDLE_MINUTES without a request, SESSION_MAX_HOURS after signing in
# (clinic.middleware.SessionTimeoutMiddleware). The cookie dies with the browser and never outlives the
# absolute limit; the server-side session is deleted at sign-out.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# Database sessions; the per-request read is plain SQL (clinic/sessions.py).
SESSION_ENGINE = "clinic.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# htmx sends the token from the page (hx-headers on <body>), not from the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# HTTPS and browser protections.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# django-csp: only our own files run. No inline script or style anywhere: JavaScript lives in static/js
# and is configured through data-* attributes; htmx's indicator <style> is switched off in base.html.
# Bootstrap's CSS draws some icons as data: images; Bootstrap and Chart.js set styles through the CSSOM,
# which the policy allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Two-factor sign-in (README "Two-factor sign-in"): the authenticator app shows the clinic's name; a code
# one step either side of now is accepted, for phones whose clock drifts.
OTP_TOTP_ISSUER = CLINIC_NAME
OTP_TOTP_TOLERANCE = 1
RECOVERY_CODE_COUNT = 10


# --- The REST API (README "API") -------------------------------------------------------------------------
# Bearer tokens issued by a clinic admin (api.tokens) or the signed-in session (with CSRF); each endpoint
# asks for the same Django permissions as the page it mirrors (api.permissions). Throttle rates per user
# (token or session) and per address for requests that are not signed in.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "rest_framework.parsers.FormParser"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ClinicPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_USER", "600/minute"),
        "anon": os.environ.get("API_THROTTLE_ANON", "30/minute"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ProloTrack API",
    "DESCRIPTION": "Patients, courses, treatments, scores, the diary and outcome figures, with the same "
    "permissions, guards and audit trail as the pages. Authenticate with `Authorization: Bearer <token>` "
    "(issued by a clinic admin) or a signed-in session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Fields a role may not see are left out of a response, so none of a response's fields is required.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": False},
    "ENUM_NAME_OVERRIDES": {
        "CourseStatusEnum": "courses.models.CourseStatus",
        "SessionStatusEnum": "courses.models.SessionStatus",
    },
}
