"""Application code never writes audited rows in ways that skip the audit trail.

django-auditlog hears model signals; queryset update(), delete(), bulk_create() and bulk_update() send
none, so a change made that way would leave no trace. This test reads the project's sources and fails
on such a call unless it is listed below with the reason it is safe.
"""

import ast
from pathlib import Path

import pytest

from clinic.audit import audited_models

BASE = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("clinic", "patients", "courses", "scheduling", "outcomes", "questionnaires", "api")
BULK_WRITES = {"update", "delete", "bulk_create", "bulk_update"}
QUERYSET_STEPS = {
    "objects",
    "all_objects",
    "all",
    "filter",
    "exclude",
    "select_for_update",
    "select_related",
    "prefetch_related",
    "order_by",
    "current",
    "active",
}

# (path glob, function name or "*", a fragment of the call or "") -> why the write may skip the audit.
ALLOWED = {
    ("patients/services.py", "mrn_allocate", ""): "the MRN counter is not clinical data and is not audited",
    ("*/demo.py", "*", ""): "demo data for a training database, inserted in bulk",
    ("clinic/management/commands/seed_demo.py", "*", ""): "demo data for a training database",
    ("clinic/scale_demo.py", "*", ""): "demo data at benchmark scale (seed_demo --scale), inserted in bulk",
    ("clinic/bulk.py", "insert_rows", ".bulk_create("): (
        "bulk loading for the scale seeder and the outcome summaries' rebuild, which no audit trail follows"
    ),
    ("scheduling/reminders.py", "reminders_queue", ".update(reminder_sent_at="): (
        "stamps when a reminder went to the outbox: bookkeeping, not clinical data"
    ),
    ("api/tokens.py", "token_touch", ".update(last_used_at="): (
        "stamps when an API token was last used (at most once a minute): bookkeeping, left out of the trail"
    ),
}


def _chain(node):
    """Names along a call chain, root first: Patient.objects.filter(x).update -> Patient, objects, filter."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return list(reversed(names))
        else:
            return list(reversed(names))


def suspicious_writes(source, audited_names, unaudited_names=frozenset(), related_names=frozenset()):
    """(line, function, code) of each queryset write that may touch an audited model.

    A write counts when it goes through a manager or queryset step (objects, filter...), through a
    related manager of an audited model (course.sessions.update(...)), or is a bulk_* call.
    """
    tree = ast.parse(source)
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr in BULK_WRITES
            ):
                receiver = _chain(child.func.value)
                root = receiver[0] if receiver else ""
                through_queryset = bool((QUERYSET_STEPS | related_names) & set(receiver[1:]))
                bulk = child.func.attr.startswith("bulk_")
                if root not in unaudited_names and (through_queryset or bulk):
                    found.append((child.lineno, name, ast.unparse(child)[:120]))
            visit(child, name)

    visit(tree, "<module>")
    return found


def project_sources():
    for directory in SOURCE_DIRS:
        for path in sorted((BASE / directory).rglob("*.py")):
            relative = path.relative_to(BASE)
            if "migrations" in relative.parts:
                continue
            yield relative, path.read_text()


def allowed(relative, function, code=""):
    return any(
        relative.match(pattern) and allowed_function in ("*", function) and fragment in code
        for pattern, allowed_function, fragment in ALLOWED
    )


def model_names():
    """Audited model names, other model names, and the related-manager names that lead to audited rows."""
    from django.apps import apps

    audited_classes = [model for _, model in audited_models()]
    audited = {model.__name__ for model in audited_classes}
    everything = {model.__name__ for model in apps.get_models()}
    related = {
        relation.get_accessor_name()
        for model in audited_classes
        for relation in model._meta.related_objects
        if relation.one_to_many or relation.many_to_many
    }
    return audited, everything - audited, related


def test_no_application_code_writes_audited_rows_past_the_audit():
    audited, unaudited, related = model_names()
    offences = [
        f"{relative}:{line} in {function}(): {code}"
        for relative, source in project_sources()
        for line, function, code in suspicious_writes(source, audited, unaudited, related)
        if not allowed(relative, function, code)
    ]
    assert not offences, (
        "Queryset writes skip the audit trail; save each row (or add a justified entry to ALLOWED):\n"
        + "\n".join(offences)
    )


@pytest.mark.parametrize(
    "code",
    [
        "def archive(request):\n    Patient.objects.filter(pk=1).update(archived=True)",
        "def purge(course):\n    course.sessions.filter(status='x').delete()",
        "def move(course):\n    course.sessions.update(practitioner=None)",
        "def load(rows):\n    Injection.objects.bulk_create(rows)",
        "def fix(rows):\n    TreatmentSession.objects.bulk_update(rows, ['notes'])",
        "def wipe():\n    SideEffect.all_objects.all().delete()",
    ],
)
def test_the_guard_catches_writes_that_skip_the_audit(code):
    assert suspicious_writes(code, *model_names())


@pytest.mark.parametrize(
    "code",
    [
        "def f(data):\n    data.update({'a': 1})",
        "def f(form):\n    form.cleaned_data.update(extra=1)",
        "def f(patient):\n    patient.delete()",
        "def f():\n    MrnSequence.objects.filter(pk=1).update(last_value=2)",
    ],
)
def test_the_guard_leaves_dicts_instances_and_unaudited_counters_alone(code):
    assert not suspicious_writes(code, *model_names())


def test_the_allow_list_covers_only_the_counter_and_demo_data():
    assert allowed(Path("patients/services.py"), "mrn_allocate")
    assert not allowed(Path("patients/services.py"), "patient_register")
    assert allowed(Path("scheduling/demo.py"), "seed")
    assert not allowed(Path("patients/views.py"), "patient_archive")
    assert not allowed(
        Path("courses/session_services.py"), "session_record", "Injection.objects.bulk_create(rows)"
    )
