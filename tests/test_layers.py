"""The layering the rulebook relies on (README "Architecture")."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
APPS = ("clinic", "patients", "courses", "scheduling", "outcomes")


def sources(app):
    return [path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def test_courses_never_imports_outcomes():
    """Derived outcome data follows the services' announcements (clinic.changes)."""
    importing = [
        str(path.relative_to(ROOT))
        for path in sources("courses")
        if re.search(r"^\s*(from|import) outcomes\b", path.read_text(), re.MULTILINE)
    ]
    assert importing == []


def test_no_derived_data_hangs_off_model_saves():
    """No post_save/post_delete receivers of our own: derived data is refreshed by one explicit call."""
    ours = []
    for app in APPS:
        for path in sources(app):
            if re.search(
                r"\b(post_save|post_delete)\.connect|@receiver\((post_save|post_delete)", path.read_text()
            ):
                ours.append(str(path.relative_to(ROOT)))
    assert ours == []
