"""The role × URL access table: each app lists its URLs in tests/<app>/test_access_matrix.py.

A row names a URL, how to build its arguments, the method, and the status each persona gets.
tests/test_access_coverage.py fails when a URL of the project has no row.
"""

from dataclasses import dataclass, field

import pytest

PERSONAS = ("anonymous", "front_desk", "practitioner", "clinic_admin")
REDIRECT_TO_LOGIN = "login"  # expected value meaning "302 to the sign-in page"


@dataclass(frozen=True)
class Row:
    url_name: str
    expect: dict  # persona -> status code, or REDIRECT_TO_LOGIN
    method: str = "get"
    args: object = None  # callable(db objects dict) -> list of URL args, or None
    data: object = None  # callable(db objects dict) -> POST data, or None
    query: str = ""
    note: str = field(default="", compare=False)

    @property
    def id(self):
        return f"{self.url_name}-{self.method}"


def cases(rows):
    """pytest params: one per row and persona."""
    return [pytest.param(row, persona, id=f"{row.id}-{persona}") for row in rows for persona in PERSONAS]


def check(row, persona, *, client, users, objects):
    from django.urls import reverse

    if persona != "anonymous":
        client.force_login(users[persona])
    url = reverse(row.url_name, args=row.args(objects) if row.args else None) + row.query
    data = row.data(objects) if row.data else {}
    response = getattr(client, row.method)(url, data)
    expected = row.expect[persona]
    if expected == REDIRECT_TO_LOGIN:
        assert response.status_code == 302, f"{persona} {row.method.upper()} {url}: {response.status_code}"
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, (
            f"{persona} {row.method.upper()} {url}: {response.status_code}"
        )
    return response
