"""Every URL of the project must have a row in some app's access table (tests/<app>/test_access_matrix.py)."""

import importlib
import pkgutil

import tests
from tests.urls_inventory import project_urls


def all_rows():
    rows = []
    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        try:
            module = importlib.import_module(f"tests.{package.name}.test_access_matrix")
        except ModuleNotFoundError:
            continue
        rows.extend(module.ROWS)
    return rows


def test_every_url_has_a_row_in_an_access_table():
    covered = {row.url_name for row in all_rows()}
    missing = sorted({name for name, _ in project_urls() if name and name not in covered})
    assert not missing, f"URLs without a row in any tests/<app>/test_access_matrix.py: {missing}"
