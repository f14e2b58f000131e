"""What the audit trail (django-auditlog) records: every change to clinical rows, catalogues and staff.

Registration lives here, called from ClinicConfig.ready(), so each app's models are audited without the
app doing anything: every model of the clinical apps is registered unless listed in NOT_AUDITED.
"""

from auditlog.registry import auditlog
from django.apps import apps

# The apps whose rows are health data, catalogues, staff accounts or their API credentials.
AUDITED_APPS = ("clinic", "patients", "courses", "scheduling", "outcomes", "questionnaires", "api")

# Rows that carry no clinical or personal data, written by counters rather than people; and derived data
# recomputed from audited rows (the per-course outcome summary: its inputs are audited where they change).
NOT_AUDITED = {
    "patients.MrnSequence",
    "outcomes.CourseOutcome",
    "outcomes.CourseSessionCount",
    "outcomes.CourseTimepoint",
    "outcomes.TimepointTally",
    "outcomes.ReportVersion",
    # The outbox is the delivery log of e-mails, written by the worker at each try: bookkeeping. What a
    # message says is made from audited rows (the session, the patient's contact details).
    "clinic.OutboundMessage",
}

# Per-model options: secrets and derived columns stay out of the diffs; role changes are logged.
# `updated_at` is left out everywhere: the entry's own timestamp says when.
OPTIONS = {
    "clinic.User": {
        "exclude_fields": ["password", "last_login"],
        "m2m_fields": {"groups", "user_permissions"},
    },
    "patients.Patient": {"exclude_fields": ["search_name", "phone_digits"]},
    "courses.TreatmentSession": {"exclude_fields": ["version"]},
    # The feed token is a secret: the trail records that a feed was made or revoked, not the token.
    "scheduling.CalendarFeed": {"exclude_fields": ["token"]},
    # An API token's issue and revocation are recorded; its key digest is a secret, and the last-used
    # stamp is bookkeeping written without signals (api.tokens.token_touch).
    "api.ApiToken": {"exclude_fields": ["key_hash", "last_used_at"]},
    # A questionnaire link's digest is a secret too; who opened, answered and submitted is recorded.
    "questionnaires.Assignment": {"exclude_fields": ["token_hash"]},
}

# Two-factor devices (django-otp): enrolment and a clinic admin's reset are recorded, with who did it; the
# secret and the counters every sign-in moves are not.
OTP_DEVICES = {
    "otp_totp.TOTPDevice": {
        "exclude_fields": [
            "key",
            "last_t",
            "drift",
            "throttling_failure_timestamp",
            "throttling_failure_count",
            "last_used_at",
        ]
    },
    "otp_static.StaticDevice": {
        "exclude_fields": ["throttling_failure_timestamp", "throttling_failure_count", "last_used_at"]
    },
}


def audited_models():
    for app_label in AUDITED_APPS:
        if not apps.is_installed(app_label):
            continue
        for model in apps.get_app_config(app_label).get_models():
            label = f"{model._meta.app_label}.{model.__name__}"
            if label not in NOT_AUDITED and not model._meta.proxy:
                yield label, model


def register_models():
    for label, model in audited_models():
        if auditlog.contains(model):
            continue
        options = {key: (value.copy()) for key, value in OPTIONS.get(label, {}).items()}
        options.setdefault("exclude_fields", [])
        if any(field.name == "updated_at" for field in model._meta.get_fields()):
            options["exclude_fields"].append("updated_at")
        # The far side of another model's one-to-one (a side effect's patient report, a score's
        # questionnaire) is that model's column, audited there; diffing it here would cost a query per save.
        options["exclude_fields"] += [
            field.name for field in model._meta.get_fields() if field.one_to_one and field.auto_created
        ]
        auditlog.register(model, **options)
    for label, options in OTP_DEVICES.items():
        model = apps.get_model(label)
        if not auditlog.contains(model):
            auditlog.register(model, exclude_fields=list(options["exclude_fields"]))
