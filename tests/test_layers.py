"""The layering the rulebook relies on (README "Architecture")."""

import ast
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


HTML_TAG = re.compile(
    r"</?(a|b|br|button|div|em|form|i|img|input|label|li|optgroup|option|p|script|select|small|span|strong"
    r"|table|td|textarea|th|tr|ul)(\s[^<>]*)?/?>",
    re.IGNORECASE,
)


def _strings_outside_docstrings(tree):
    """(line, text) of every string literal but docstrings; an f-string's fields read as "x"."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "x" for part in node.values)
            yield node.lineno, text
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_html_is_built_in_python():
    """Markup lives in templates (README "Architecture"); the admin's glue (admin.py) may format a cell."""
    found = []
    for app in (*APPS, "api"):
        for path in sources(app):
            if path.name == "admin.py":
                continue
            tree = ast.parse(path.read_text())
            found += [
                f"{path.relative_to(ROOT)}:{line}"
                for line, text in _strings_outside_docstrings(tree)
                if HTML_TAG.search(text)
            ]
    assert found == []
